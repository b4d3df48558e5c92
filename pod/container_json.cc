// Container records as JSON in the metadata store (kind "container").
#include <nlohmann/json.hpp>

#include "pod/container.h"

namespace berth::runtime {
// Beside the type (runtime/cgroups.h), where nlohmann's lookup finds it.
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(HugepageLimit, page_size, limit_bytes)
}  // namespace berth::runtime

namespace berth::pod {

// Field-by-field JSON for the nested config structs; missing keys keep their defaults, so old
// records still load.
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ContainerMount, host_path, container_path, readonly,
                                                propagation, recursive_read_only, image,
                                                image_sub_path)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ContainerDevice, container_path, host_path,
                                                permissions)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ContainerResources, cpu_shares, cpu_quota,
                                                cpu_period, memory_limit_bytes,
                                                memory_swap_limit_bytes, oom_score_adj, cpuset_cpus,
                                                cpuset_mems, hugepage_limits, unified)
NLOHMANN_JSON_SERIALIZE_ENUM(SecurityProfile::Type,
                             {{SecurityProfile::Type::kRuntimeDefault, "RuntimeDefault"},
                              {SecurityProfile::Type::kUnconfined, "Unconfined"},
                              {SecurityProfile::Type::kLocalhost, "Localhost"},
                              {SecurityProfile::Type::kUnset, "Unset"}})
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(SecurityProfile, type, localhost_ref)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(SELinuxOptions, user, role, type, level)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ContainerUser, uid, gid, groups)

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

Json OptionalInt(const std::optional<int64_t>& value) {
  return value ? Json(*value) : Json();
}

Json SecurityToJson(const ContainerSecurity& s) {
  return {{"privileged", s.privileged},
          {"add_capabilities", s.add_capabilities},
          {"drop_capabilities", s.drop_capabilities},
          {"add_ambient_capabilities", s.add_ambient_capabilities},
          {"run_as_user", OptionalInt(s.run_as_user)},
          {"run_as_group", OptionalInt(s.run_as_group)},
          {"run_as_username", s.run_as_username},
          {"supplemental_groups", s.supplemental_groups},
          {"supplemental_groups_strict", s.supplemental_groups_strict},
          {"readonly_rootfs", s.readonly_rootfs},
          {"no_new_privs", s.no_new_privs},
          {"masked_paths", s.masked_paths},
          {"readonly_paths", s.readonly_paths},
          {"seccomp", s.seccomp},
          {"apparmor", s.apparmor},
          {"selinux", s.selinux}};
}

std::optional<int64_t> ReadOptionalInt(const Json& json, const char* key) {
  auto it = json.find(key);
  if (it == json.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<int64_t>();
}

ContainerSecurity SecurityFromJson(const Json& j) {
  ContainerSecurity s;
  s.privileged = j.value("privileged", false);
  s.add_capabilities = j.value("add_capabilities", std::vector<std::string>{});
  s.drop_capabilities = j.value("drop_capabilities", std::vector<std::string>{});
  s.add_ambient_capabilities = j.value("add_ambient_capabilities", std::vector<std::string>{});
  s.run_as_user = ReadOptionalInt(j, "run_as_user");
  s.run_as_group = ReadOptionalInt(j, "run_as_group");
  s.run_as_username = j.value("run_as_username", "");
  s.supplemental_groups = j.value("supplemental_groups", std::vector<int64_t>{});
  s.supplemental_groups_strict = j.value("supplemental_groups_strict", false);
  s.readonly_rootfs = j.value("readonly_rootfs", false);
  s.no_new_privs = j.value("no_new_privs", false);
  s.masked_paths = j.value("masked_paths", std::vector<std::string>{});
  s.readonly_paths = j.value("readonly_paths", std::vector<std::string>{});
  s.seccomp = j.value("seccomp", s.seccomp);
  s.apparmor = j.value("apparmor", s.apparmor);
  s.selinux = j.value("selinux", s.selinux);
  return s;
}

}  // namespace

std::string ContainerToJson(const Container& c) {
  Json envs = Json::array();
  for (const auto& [key, value] : c.config.envs) envs.push_back({key, value});
  const ContainerConfig& config = c.config;
  Json json = {
      {"id", c.id},
      {"sandbox_id", c.sandbox_id},
      {"image_id", c.image_id},
      {"state", StateName(c.state)},
      {"created_at_nanos", c.created_at_nanos},
      {"started_at_nanos", c.started_at_nanos},
      {"finished_at_nanos", c.finished_at_nanos},
      {"exit_code", c.exit_code},
      {"reason", c.reason},
      {"message", c.message},
      {"log_path", c.log_path},
      {"bundle_dir", c.bundle_dir},
      {"state_dir", c.state_dir},
      {"cgroup_path", c.cgroup_path},
      {"monitor_pid", c.monitor_pid},
      {"monitor_start_time", c.monitor_start_time},
      {"container_pid", c.container_pid},
      {"container_start_time", c.container_start_time},
      {"stop_signal", c.stop_signal},
      {"user", c.user},
      {"config",
       {{"name", config.name},
        {"attempt", config.attempt},
        {"image", config.image},
        {"command", config.command},
        {"args", config.args},
        {"envs", envs},
        {"working_dir", config.working_dir},
        {"mounts", config.mounts},
        {"labels", config.labels},
        {"annotations", config.annotations},
        {"log_path", config.log_path},
        {"tty", config.tty},
        {"stdin", config.stdin},
        {"stdin_once", config.stdin_once},
        {"devices", config.devices},
        {"resources", config.resources},
        {"security", SecurityToJson(config.security)},
        {"stop_signal", config.stop_signal}}},
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
    c.user = json.value("user", ContainerUser{});
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
    out.mounts = config.value("mounts", std::vector<ContainerMount>{});
    out.labels = config.value("labels", std::map<std::string, std::string>{});
    out.annotations = config.value("annotations", std::map<std::string, std::string>{});
    out.log_path = config.value("log_path", "");
    out.tty = config.value("tty", false);
    out.stdin = config.value("stdin", false);
    out.stdin_once = config.value("stdin_once", false);
    out.devices = config.value("devices", std::vector<ContainerDevice>{});
    out.resources = config.value("resources", ContainerResources{});
    out.security = SecurityFromJson(config.value("security", Json::object()));
    out.stop_signal = config.value("stop_signal", "");
    return c;
  } catch (const Json::exception& e) {
    return Internal(std::string("corrupt container record: ") + e.what());
  }
}

}  // namespace berth::pod
