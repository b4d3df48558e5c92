// Sandbox records as JSON in the metadata store (kind "sandbox").
#include <nlohmann/json.hpp>

#include "pod/sandbox.h"

namespace berth::pod {
namespace {

using Json = nlohmann::json;

Json PortMappingsToJson(const std::vector<cni::PortMapping>& mappings) {
  Json list = Json::array();
  for (const auto& mapping : mappings) {
    list.push_back({{"protocol", mapping.protocol},
                    {"container_port", mapping.container_port},
                    {"host_port", mapping.host_port},
                    {"host_ip", mapping.host_ip}});
  }
  return list;
}

Json MappingsToJson(const std::vector<IdMapping>& mappings) {
  Json list = Json::array();
  for (const auto& m : mappings) list.push_back({m.container_id, m.host_id, m.length});
  return list;
}

std::vector<IdMapping> MappingsFromJson(const Json& list) {
  std::vector<IdMapping> mappings;
  for (const auto& item : list) {
    if (item.is_array() && item.size() == 3) {
      mappings.push_back(
          {item[0].get<uint32_t>(), item[1].get<uint32_t>(), item[2].get<uint32_t>()});
    }
  }
  return mappings;
}

std::vector<cni::PortMapping> PortMappingsFromJson(const Json& list) {
  std::vector<cni::PortMapping> mappings;
  for (const auto& item : list) {
    mappings.push_back({item.value("protocol", "tcp"), item.value("container_port", uint16_t{0}),
                        item.value("host_port", uint16_t{0}), item.value("host_ip", "")});
  }
  return mappings;
}

}  // namespace

std::string IdMapText(const std::vector<IdMapping>& mappings) {
  std::string text;
  for (const auto& m : mappings) {
    text += std::to_string(m.container_id) + " " + std::to_string(m.host_id) + " " +
            std::to_string(m.length) + "\n";
  }
  return text;
}

// The host id that container id 0 maps to.
static uint32_t HostRoot(const std::vector<IdMapping>& mappings) {
  for (const auto& m : mappings)
    if (m.container_id == 0 && m.length > 0) return m.host_id;
  return 0;
}

uint32_t Sandbox::HostRootUid() const {
  return HostRoot(config.uid_mappings);
}
uint32_t Sandbox::HostRootGid() const {
  return HostRoot(config.gid_mappings);
}

std::string SandboxToJson(const Sandbox& sandbox) {
  const SandboxConfig& config = sandbox.config;
  Json json = {
      {"id", sandbox.id},
      {"state", sandbox.state == SandboxState::kReady ? "ready" : "notready"},
      {"created_at_nanos", sandbox.created_at_nanos},
      {"ips", sandbox.ips},
      {"dir", sandbox.dir},
      {"cgroup_path", sandbox.cgroup_path},
      {"cgroup_created", sandbox.cgroup_created},
      {"init_pid", sandbox.init_pid},
      {"init_start_time", sandbox.init_start_time},
      {"config",
       {{"name", config.name},
        {"namespace", config.namespace_name},
        {"uid", config.uid},
        {"attempt", config.attempt},
        {"hostname", config.hostname},
        {"log_directory", config.log_directory},
        {"dns",
         {{"servers", config.dns.servers},
          {"searches", config.dns.searches},
          {"options", config.dns.options}}},
        {"port_mappings", PortMappingsToJson(config.port_mappings)},
        {"labels", config.labels},
        {"annotations", config.annotations},
        {"cgroup_parent", config.cgroup_parent},
        {"sysctls", config.sysctls},
        {"network_mode", static_cast<int>(config.network_mode)},
        {"pid_mode", static_cast<int>(config.pid_mode)},
        {"ipc_mode", static_cast<int>(config.ipc_mode)},
        {"runtime_handler", config.runtime_handler},
        {"privileged", config.privileged},
        {"uid_mappings", MappingsToJson(config.uid_mappings)},
        {"gid_mappings", MappingsToJson(config.gid_mappings)},
        {"cpu_shares", config.cpu_shares},
        {"cpu_quota", config.cpu_quota},
        {"cpu_period", config.cpu_period},
        {"memory_limit_bytes", config.memory_limit_bytes}}},
  };
  return json.dump();
}

Result<Sandbox> SandboxFromJson(const std::string& text) {
  Json json = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) return Internal("corrupt sandbox record");
  try {
    Sandbox sandbox;
    sandbox.id = json.at("id").get<std::string>();
    sandbox.state =
        json.value("state", "") == "ready" ? SandboxState::kReady : SandboxState::kNotReady;
    sandbox.created_at_nanos = json.value("created_at_nanos", int64_t{0});
    sandbox.ips = json.value("ips", std::vector<std::string>{});
    sandbox.dir = json.value("dir", "");
    sandbox.cgroup_path = json.value("cgroup_path", "");
    sandbox.cgroup_created = json.value("cgroup_created", "");
    sandbox.init_pid = json.value("init_pid", 0);
    sandbox.init_start_time = json.value("init_start_time", uint64_t{0});
    const Json& c = json.at("config");
    SandboxConfig& config = sandbox.config;
    config.name = c.value("name", "");
    config.namespace_name = c.value("namespace", "");
    config.uid = c.value("uid", "");
    config.attempt = c.value("attempt", 0u);
    config.hostname = c.value("hostname", "");
    config.log_directory = c.value("log_directory", "");
    const Json& dns = c.at("dns");
    config.dns = {dns.value("servers", std::vector<std::string>{}),
                  dns.value("searches", std::vector<std::string>{}),
                  dns.value("options", std::vector<std::string>{})};
    config.port_mappings = PortMappingsFromJson(c.value("port_mappings", Json::array()));
    config.labels = c.value("labels", std::map<std::string, std::string>{});
    config.annotations = c.value("annotations", std::map<std::string, std::string>{});
    config.cgroup_parent = c.value("cgroup_parent", "");
    config.sysctls = c.value("sysctls", std::map<std::string, std::string>{});
    config.network_mode = static_cast<NamespaceMode>(c.value("network_mode", 0));
    config.pid_mode = static_cast<NamespaceMode>(c.value("pid_mode", 1));
    config.ipc_mode = static_cast<NamespaceMode>(c.value("ipc_mode", 0));
    config.runtime_handler = c.value("runtime_handler", "");
    config.privileged = c.value("privileged", false);
    config.uid_mappings = MappingsFromJson(c.value("uid_mappings", Json::array()));
    config.gid_mappings = MappingsFromJson(c.value("gid_mappings", Json::array()));
    config.cpu_shares = c.value("cpu_shares", int64_t{0});
    config.cpu_quota = c.value("cpu_quota", int64_t{0});
    config.cpu_period = c.value("cpu_period", int64_t{0});
    config.memory_limit_bytes = c.value("memory_limit_bytes", int64_t{0});
    return sandbox;
  } catch (const Json::exception& e) {
    return Internal(std::string("corrupt sandbox record: ") + e.what());
  }
}

}  // namespace berth::pod
