// Container records as JSON in the metadata store (kind "container").
#include <nlohmann/json.hpp>

#include "pod/container.h"

namespace berth::pod {
namespace {

using Json = nlohmann::json;

const char* StateName(ContainerState state) {
  switch (state) {
    case ContainerState::kCreated: return "created";
    case ContainerState::kRunning: return "running";
    case ContainerState::kExited: return "exited";
    case ContainerState::kUnknown: return "unknown";
  }
  return "unknown";
}

ContainerState StateFromName(const std::string& name) {
  if (name == "created") return ContainerState::kCreated;
  if (name == "running") return ContainerState::kRunning;
  if (name == "exited") return ContainerState::kExited;
  return ContainerState::kUnknown;
}

Json OptionalInt(const std::optional<int64_t>& value) { return value ? Json(*value) : Json(); }

std::optional<int64_t> ReadOptionalInt(const Json& json, const char* key) {
  auto it = json.find(key);
  if (it == json.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<int64_t>();
}

}  // namespace

std::string ContainerToJson(const Container& c) {
  Json mounts = Json::array();
  for (const auto& m : c.config.mounts) {
    mounts.push_back({{"host_path", m.host_path}, {"container_path", m.container_path},
                      {"readonly", m.readonly}, {"propagation", m.propagation}});
  }
  Json envs = Json::array();
  for (const auto& [key, value] : c.config.envs) envs.push_back({key, value});
  const ContainerConfig& config = c.config;
  Json json = {
      {"id", c.id}, {"sandbox_id", c.sandbox_id}, {"image_id", c.image_id},
      {"state", StateName(c.state)}, {"created_at_nanos", c.created_at_nanos},
      {"started_at_nanos", c.started_at_nanos}, {"finished_at_nanos", c.finished_at_nanos},
      {"exit_code", c.exit_code}, {"reason", c.reason}, {"message", c.message},
      {"log_path", c.log_path}, {"bundle_dir", c.bundle_dir}, {"state_dir", c.state_dir},
      {"cgroup_path", c.cgroup_path}, {"monitor_pid", c.monitor_pid},
      {"monitor_start_time", c.monitor_start_time},
      {"container_pid", c.container_pid}, {"container_start_time", c.container_start_time},
      {"stop_signal", c.stop_signal},
      {"config",
       {{"name", config.name}, {"attempt", config.attempt}, {"image", config.image},
        {"command", config.command}, {"args", config.args}, {"envs", envs},
        {"working_dir", config.working_dir}, {"mounts", mounts}, {"labels", config.labels},
        {"annotations", config.annotations}, {"log_path", config.log_path},
        {"run_as_user", OptionalInt(config.run_as_user)},
        {"run_as_group", OptionalInt(config.run_as_group)}, {"tty", config.tty},
        {"stdin", config.stdin}, {"cpu_shares", config.cpu_shares},
        {"cpu_quota", config.cpu_quota}, {"cpu_period", config.cpu_period},
        {"memory_limit_bytes", config.memory_limit_bytes}}},
  };
  return json.dump();
}

Result<Container> ContainerFromJson(const std::string& text) {
  Json json = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) return Internal("corrupt container record");
  try {
    Container c;
    c.id = json.at("id").get<std::string>();
    c.sandbox_id = json.value("sandbox_id", "");
    c.image_id = json.value("image_id", "");
    c.state = StateFromName(json.value("state", ""));
    c.created_at_nanos = json.value("created_at_nanos", int64_t{0});
    c.started_at_nanos = json.value("started_at_nanos", int64_t{0});
    c.finished_at_nanos = json.value("finished_at_nanos", int64_t{0});
    c.exit_code = json.value("exit_code", 0);
    c.reason = json.value("reason", "");
    c.message = json.value("message", "");
    c.log_path = json.value("log_path", "");
    c.bundle_dir = json.value("bundle_dir", "");
    c.state_dir = json.value("state_dir", "");
    c.cgroup_path = json.value("cgroup_path", "");
    c.monitor_pid = json.value("monitor_pid", 0);
    c.monitor_start_time = json.value("monitor_start_time", uint64_t{0});
    c.container_pid = json.value("container_pid", 0);
    c.container_start_time = json.value("container_start_time", uint64_t{0});
    c.stop_signal = json.value("stop_signal", "SIGTERM");
    const Json& config = json.at("config");
    ContainerConfig& out = c.config;
    out.name = config.value("name", "");
    out.attempt = config.value("attempt", 0u);
    out.image = config.value("image", "");
    out.command = config.value("command", std::vector<std::string>{});
    out.args = config.value("args", std::vector<std::string>{});
    for (const auto& pair : config.value("envs", Json::array())) {
      out.envs.emplace_back(pair.at(0).get<std::string>(), pair.at(1).get<std::string>());
    }
    out.working_dir = config.value("working_dir", "");
    for (const auto& m : config.value("mounts", Json::array())) {
      out.mounts.push_back({m.value("host_path", ""), m.value("container_path", ""),
                            m.value("readonly", false), m.value("propagation", "private")});
    }
    out.labels = config.value("labels", std::map<std::string, std::string>{});
    out.annotations = config.value("annotations", std::map<std::string, std::string>{});
    out.log_path = config.value("log_path", "");
    out.run_as_user = ReadOptionalInt(config, "run_as_user");
    out.run_as_group = ReadOptionalInt(config, "run_as_group");
    out.tty = config.value("tty", false);
    out.stdin = config.value("stdin", false);
    out.cpu_shares = config.value("cpu_shares", int64_t{0});
    out.cpu_quota = config.value("cpu_quota", int64_t{0});
    out.cpu_period = config.value("cpu_period", int64_t{0});
    out.memory_limit_bytes = config.value("memory_limit_bytes", int64_t{0});
    return c;
  } catch (const Json::exception& e) {
    return Internal(std::string("corrupt container record: ") + e.what());
  }
}

}  // namespace berth::pod
