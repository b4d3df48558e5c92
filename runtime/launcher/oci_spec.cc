#include "runtime/launcher/oci_spec.h"

#include <sys/mount.h>
#include <sys/resource.h>

#include <map>
#include <nlohmann/json.hpp>

#include "base/file_util.h"
#include "security/capabilities.h"

namespace berth::oci {
namespace {

using nlohmann::json;

Error Invalid(const std::string& field, const std::string& why) {
  return InvalidArgument(field + ": " + why);
}

const std::map<std::string, int>& RlimitNumbers() {
  static const std::map<std::string, int> numbers = {{"RLIMIT_AS", RLIMIT_AS},
                                                     {"RLIMIT_CORE", RLIMIT_CORE},
                                                     {"RLIMIT_CPU", RLIMIT_CPU},
                                                     {"RLIMIT_DATA", RLIMIT_DATA},
                                                     {"RLIMIT_FSIZE", RLIMIT_FSIZE},
                                                     {"RLIMIT_LOCKS", RLIMIT_LOCKS},
                                                     {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
                                                     {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
                                                     {"RLIMIT_NICE", RLIMIT_NICE},
                                                     {"RLIMIT_NOFILE", RLIMIT_NOFILE},
                                                     {"RLIMIT_NPROC", RLIMIT_NPROC},
                                                     {"RLIMIT_RSS", RLIMIT_RSS},
                                                     {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
                                                     {"RLIMIT_RTTIME", RLIMIT_RTTIME},
                                                     {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
                                                     {"RLIMIT_STACK", RLIMIT_STACK}};
  return numbers;
}

struct OptionEffect {
  unsigned long set = 0;
  unsigned long clear = 0;
  unsigned long propagation = 0;
  uint64_t recursive_attr = 0;
};

const std::map<std::string, OptionEffect>& KnownOptions() {
  static const std::map<std::string, OptionEffect> options = {
      {"defaults", {}},
      {"ro", {MS_RDONLY, 0}},
      {"rw", {0, MS_RDONLY}},
      {"nosuid", {MS_NOSUID, 0}},
      {"suid", {0, MS_NOSUID}},
      {"nodev", {MS_NODEV, 0}},
      {"dev", {0, MS_NODEV}},
      {"noexec", {MS_NOEXEC, 0}},
      {"exec", {0, MS_NOEXEC}},
      {"sync", {MS_SYNCHRONOUS, 0}},
      {"async", {0, MS_SYNCHRONOUS}},
      {"dirsync", {MS_DIRSYNC, 0}},
      {"noatime", {MS_NOATIME, 0}},
      {"atime", {0, MS_NOATIME}},
      {"nodiratime", {MS_NODIRATIME, 0}},
      {"diratime", {0, MS_NODIRATIME}},
      {"relatime", {MS_RELATIME, 0}},
      {"norelatime", {0, MS_RELATIME}},
      {"strictatime", {MS_STRICTATIME, 0}},
      {"nostrictatime", {0, MS_STRICTATIME}},
      {"bind", {MS_BIND, 0}},
      {"rbind", {MS_BIND | MS_REC, 0}},
      {"private", {0, 0, MS_PRIVATE}},
      {"rprivate", {0, 0, MS_PRIVATE | MS_REC}},
      {"slave", {0, 0, MS_SLAVE}},
      {"rslave", {0, 0, MS_SLAVE | MS_REC}},
      {"shared", {0, 0, MS_SHARED}},
      {"rshared", {0, 0, MS_SHARED | MS_REC}},
      {"unbindable", {0, 0, MS_UNBINDABLE}},
      {"runbindable", {0, 0, MS_UNBINDABLE | MS_REC}},
      {"rro", {0, 0, 0, MOUNT_ATTR_RDONLY}},
      {"rnosuid", {0, 0, 0, MOUNT_ATTR_NOSUID}},
      {"rnodev", {0, 0, 0, MOUNT_ATTR_NODEV}},
      {"rnoexec", {0, 0, 0, MOUNT_ATTR_NOEXEC}},
  };
  return options;
}

// Reads an optional member with the expected JSON type; a wrong type is InvalidArgument.
template <typename T>
Result<void> ReadOptional(const json& object, const char* key, const std::string& field, T& out) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return Ok();
  try {
    out = it->get<T>();
  } catch (const json::exception&) {
    return Invalid(field + "." + key, "has the wrong type");
  }
  return Ok();
}

Result<uint64_t> ParseCapabilitySet(const json& names, const std::string& field) {
  if (!names.is_array()) return Invalid(field, "must be a list of capability names");
  uint64_t mask = 0;
  for (const auto& name : names) {
    int number =
        name.is_string() ? security::CapabilityNumberFromOciName(name.get<std::string>()) : -1;
    if (number < 0) return Invalid(field, "unknown capability " + name.dump());
    mask |= uint64_t{1} << number;
  }
  return mask;
}

Result<Capabilities> ParseCapabilities(const json& object) {
  if (!object.is_object()) return Invalid("process.capabilities", "must be an object");
  Capabilities caps;
  const std::pair<const char*, uint64_t*> sets[] = {{"bounding", &caps.bounding},
                                                    {"effective", &caps.effective},
                                                    {"inheritable", &caps.inheritable},
                                                    {"permitted", &caps.permitted},
                                                    {"ambient", &caps.ambient}};
  for (const auto& [key, mask] : sets) {
    if (!object.contains(key)) continue;
    BERTH_ASSIGN_OR_RETURN(
        *mask, ParseCapabilitySet(object[key], std::string("process.capabilities.") + key));
  }
  return caps;
}

Result<std::vector<Rlimit>> ParseRlimits(const json& list) {
  if (!list.is_array()) return Invalid("process.rlimits", "must be a list");
  std::vector<Rlimit> rlimits;
  for (const auto& item : list) {
    Rlimit rlimit;
    BERTH_TRY(ReadOptional(item, "type", "process.rlimits[]", rlimit.name));
    auto found = RlimitNumbers().find(rlimit.name);
    if (found == RlimitNumbers().end())
      return Invalid("process.rlimits", "unknown type \"" + rlimit.name + "\"");
    rlimit.resource = found->second;
    BERTH_TRY(ReadOptional(item, "soft", "process.rlimits[]", rlimit.soft));
    BERTH_TRY(ReadOptional(item, "hard", "process.rlimits[]", rlimit.hard));
    if (rlimit.soft > rlimit.hard)
      return Invalid("process.rlimits", rlimit.name + " soft limit is above the hard limit");
    rlimits.push_back(std::move(rlimit));
  }
  return rlimits;
}

Result<Process> ParseProcess(const json& object) {
  if (!object.is_object()) return Invalid("process", "is missing");
  Process process;
  BERTH_TRY(ReadOptional(object, "terminal", "process", process.terminal));
  BERTH_TRY(ReadOptional(object, "args", "process", process.args));
  if (process.args.empty()) return Invalid("process.args", "must not be empty");
  BERTH_TRY(ReadOptional(object, "env", "process", process.env));
  BERTH_TRY(ReadOptional(object, "cwd", "process", process.cwd));
  if (process.cwd.empty() || process.cwd[0] != '/')
    return Invalid("process.cwd", "must be an absolute path");
  if (auto user = object.find("user"); user != object.end()) {
    BERTH_TRY(ReadOptional(*user, "uid", "process.user", process.uid));
    BERTH_TRY(ReadOptional(*user, "gid", "process.user", process.gid));
    BERTH_TRY(ReadOptional(*user, "additionalGids", "process.user", process.additional_gids));
  }
  if (object.contains("rlimits")) {
    BERTH_ASSIGN_OR_RETURN(process.rlimits, ParseRlimits(object["rlimits"]));
  }
  BERTH_TRY(ReadOptional(object, "noNewPrivileges", "process", process.no_new_privileges));
  if (object.contains("capabilities")) {
    BERTH_ASSIGN_OR_RETURN(process.capabilities, ParseCapabilities(object["capabilities"]));
  }
  int oom = 0;
  if (object.contains("oomScoreAdj")) {
    BERTH_TRY(ReadOptional(object, "oomScoreAdj", "process", oom));
    if (oom < -1000 || oom > 1000)
      return Invalid("process.oomScoreAdj", "must be within [-1000, 1000]");
    process.oom_score_adj = oom;
  }
  BERTH_TRY(ReadOptional(object, "apparmorProfile", "process", process.apparmor_profile));
  BERTH_TRY(ReadOptional(object, "selinuxLabel", "process", process.selinux_label));
  return process;
}

std::string Absolute(const std::string& path, const std::string& bundle_dir) {
  return !path.empty() && path[0] == '/' ? path : JoinPath(bundle_dir, path);
}

Result<std::vector<Mount>> ParseMounts(const json& list, const std::string& bundle_dir) {
  if (!list.is_array()) return Invalid("mounts", "must be a list");
  std::vector<Mount> mounts;
  for (const auto& item : list) {
    Mount mount;
    BERTH_TRY(ReadOptional(item, "destination", "mounts[]", mount.destination));
    if (mount.destination.empty() || mount.destination[0] != '/')
      return Invalid("mounts",
                     "destination \"" + mount.destination + "\" must be an absolute path");
    std::string field = "mount " + mount.destination;
    BERTH_TRY(ReadOptional(item, "type", field, mount.type));
    BERTH_TRY(ReadOptional(item, "source", field, mount.source));
    BERTH_TRY(ReadOptional(item, "options", field, mount.options));
    auto parsed = ParseMountOptions(mount.options);
    if (!parsed.ok()) return std::move(parsed).error().Wrap(field);
    mount.parsed = std::move(*parsed);
    if (mount.type == "bind") mount.parsed.flags |= MS_BIND;
    if (mount.parsed.bind()) {
      if (mount.source.empty()) return Invalid(field, "a bind mount needs a source");
      mount.source = Absolute(mount.source, bundle_dir);
    } else if (mount.type.empty()) {
      return Invalid(field, "needs a type (or the bind option)");
    }
    mounts.push_back(std::move(mount));
  }
  return mounts;
}

Result<NamespaceType> ParseNamespaceType(const std::string& name) {
  static const std::map<std::string, NamespaceType> types = {
      {"pid", NamespaceType::kPid},       {"network", NamespaceType::kNetwork},
      {"mount", NamespaceType::kMount},   {"ipc", NamespaceType::kIpc},
      {"uts", NamespaceType::kUts},       {"user", NamespaceType::kUser},
      {"cgroup", NamespaceType::kCgroup}, {"time", NamespaceType::kTime}};
  auto it = types.find(name);
  if (it == types.end()) return Invalid("linux.namespaces", "unknown type \"" + name + "\"");
  return it->second;
}

Result<std::vector<Namespace>> ParseNamespaces(const json& list) {
  if (!list.is_array()) return Invalid("linux.namespaces", "must be a list");
  std::vector<Namespace> namespaces;
  for (const auto& item : list) {
    std::string type;
    Namespace ns{NamespaceType::kMount, ""};
    BERTH_TRY(ReadOptional(item, "type", "linux.namespaces[]", type));
    BERTH_ASSIGN_OR_RETURN(ns.type, ParseNamespaceType(type));
    BERTH_TRY(ReadOptional(item, "path", "linux.namespaces[]", ns.path));
    for (const auto& seen : namespaces)
      if (seen.type == ns.type)
        return Invalid("linux.namespaces", "\"" + type + "\" is listed twice");
    namespaces.push_back(std::move(ns));
  }
  return namespaces;
}

Result<std::vector<Device>> ParseDevices(const json& list) {
  if (!list.is_array()) return Invalid("linux.devices", "must be a list");
  std::vector<Device> devices;
  for (const auto& item : list) {
    Device device;
    std::string type;
    BERTH_TRY(ReadOptional(item, "path", "linux.devices[]", device.path));
    if (device.path.empty() || device.path[0] != '/')
      return Invalid("linux.devices", "path must be absolute");
    BERTH_TRY(ReadOptional(item, "type", "linux.devices[]", type));
    if (type != "c" && type != "b" && type != "p" && type != "u")
      return Invalid("linux.devices", device.path + ": unknown type \"" + type + "\"");
    device.type = type == "u" ? 'c' : type[0];
    BERTH_TRY(ReadOptional(item, "major", "linux.devices[]", device.major));
    BERTH_TRY(ReadOptional(item, "minor", "linux.devices[]", device.minor));
    BERTH_TRY(ReadOptional(item, "fileMode", "linux.devices[]", device.file_mode));
    BERTH_TRY(ReadOptional(item, "uid", "linux.devices[]", device.uid));
    BERTH_TRY(ReadOptional(item, "gid", "linux.devices[]", device.gid));
    devices.push_back(std::move(device));
  }
  return devices;
}

Result<void> ParseLinux(const json& object, Spec& spec) {
  if (object.contains("namespaces")) {
    BERTH_ASSIGN_OR_RETURN(spec.namespaces, ParseNamespaces(object["namespaces"]));
  }
  BERTH_TRY(ReadOptional(object, "cgroupsPath", "linux", spec.cgroups_path));
  if (spec.cgroups_path.find("..") != std::string::npos)
    return Invalid("linux.cgroupsPath", "must not contain \"..\"");
  BERTH_TRY(ReadOptional(object, "maskedPaths", "linux", spec.masked_paths));
  BERTH_TRY(ReadOptional(object, "readonlyPaths", "linux", spec.readonly_paths));
  BERTH_TRY(ReadOptional(object, "rootfsPropagation", "linux", spec.rootfs_propagation));
  std::map<std::string, std::string> sysctls;
  BERTH_TRY(ReadOptional(object, "sysctl", "linux", sysctls));
  for (auto& [key, value] : sysctls) {
    if (key.empty() || key.find("..") != std::string::npos || key.find('/') != std::string::npos)
      return Invalid("linux.sysctl", "bad key \"" + key + "\"");
    spec.sysctls.push_back({key, value});
  }
  if (object.contains("devices")) {
    BERTH_ASSIGN_OR_RETURN(spec.devices, ParseDevices(object["devices"]));
  }
  BERTH_TRY(ReadOptional(object, "mountLabel", "linux", spec.mount_label));
  if (object.contains("seccomp") && !object["seccomp"].is_null()) {
    auto seccomp = security::ParseOciSeccomp(object["seccomp"]);
    if (!seccomp.ok()) return std::move(seccomp).error().Wrap("linux.seccomp");
    spec.seccomp = std::move(*seccomp);
  }
  // linux.resources is applied by the caller through runtime/cgroups.h, not by the launcher.
  return Ok();
}

Result<void> CheckSupported(const Spec& spec) {
  for (const auto& ns : spec.namespaces) {
    if (ns.type == NamespaceType::kTime)
      return Unimplemented("linux.namespaces: time namespaces are not supported yet");
    // A user namespace is joined (the pod's, made by berthd with its id maps), never made here.
    if (ns.type == NamespaceType::kUser && ns.path.empty())
      return Unimplemented(
          "linux.namespaces: a new user namespace is not supported; give the path of one to join");
    if (ns.type == NamespaceType::kMount && !ns.path.empty())
      return Unimplemented("linux.namespaces: joining a mount namespace is not supported");
  }
  const Namespace* uts = spec.FindNamespace(NamespaceType::kUts);
  if (!spec.hostname.empty() && (uts == nullptr || !uts->path.empty()))
    return Invalid("hostname", "needs a new uts namespace");
  return Ok();
}

}  // namespace

bool MountFlags::bind() const {
  return (flags & MS_BIND) != 0;
}

const Namespace* Spec::FindNamespace(NamespaceType type) const {
  for (const auto& ns : namespaces)
    if (ns.type == type) return &ns;
  return nullptr;
}

std::string NamespaceTypeName(NamespaceType type) {
  switch (type) {
    case NamespaceType::kPid: return "pid";
    case NamespaceType::kNetwork: return "network";
    case NamespaceType::kMount: return "mount";
    case NamespaceType::kIpc: return "ipc";
    case NamespaceType::kUts: return "uts";
    case NamespaceType::kUser: return "user";
    case NamespaceType::kCgroup: return "cgroup";
    case NamespaceType::kTime: return "time";
  }
  return "unknown";
}

Result<MountFlags> ParseMountOptions(const std::vector<std::string>& options) {
  MountFlags parsed;
  for (const auto& option : options) {
    auto known = KnownOptions().find(option);
    if (known == KnownOptions().end()) {
      if (option.find(',') != std::string::npos)
        return InvalidArgument("option \"" + option + "\" contains a comma");
      parsed.data += (parsed.data.empty() ? "" : ",") + option;
      continue;
    }
    const OptionEffect& effect = known->second;
    parsed.flags = (parsed.flags & ~effect.clear) | effect.set;
    if (effect.propagation != 0) parsed.propagation = effect.propagation;
    parsed.recursive_attr_set |= effect.recursive_attr;
  }
  return parsed;
}

Result<Spec> ParseSpec(const std::string& json_text, const std::string& bundle_dir) {
  json root = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded() || !root.is_object())
    return InvalidArgument("config.json: not a JSON object");
  Spec spec;
  BERTH_ASSIGN_OR_RETURN(spec.process, ParseProcess(root.value("process", json())));
  const json& rootfs = root.value("root", json());
  if (!rootfs.is_object()) return Invalid("root", "is missing");
  BERTH_TRY(ReadOptional(rootfs, "path", "root", spec.root_path));
  if (spec.root_path.empty()) return Invalid("root.path", "must not be empty");
  spec.root_path = Absolute(spec.root_path, bundle_dir);
  BERTH_TRY(ReadOptional(rootfs, "readonly", "root", spec.root_readonly));
  BERTH_TRY(ReadOptional(root, "hostname", "spec", spec.hostname));
  if (root.contains("mounts")) {
    BERTH_ASSIGN_OR_RETURN(spec.mounts, ParseMounts(root["mounts"], bundle_dir));
  }
  if (root.contains("linux")) BERTH_TRY(ParseLinux(root["linux"], spec));
  BERTH_TRY(CheckSupported(spec));
  return spec;
}

Result<Spec> LoadBundle(const std::string& bundle_dir) {
  BERTH_ASSIGN_OR_RETURN(std::string text, ReadFile(JoinPath(bundle_dir, "config.json"), 4 << 20));
  auto spec = ParseSpec(text, bundle_dir);
  if (!spec.ok()) return std::move(spec).error().Wrap("bundle " + bundle_dir);
  return spec;
}

}  // namespace berth::oci
