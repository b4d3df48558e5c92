// Containers in berth's own terms (cri/ translates the CRI to and from these).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "runtime/cgroups.h"

namespace berth::pod {

struct ContainerMount {
  std::string host_path;
  std::string container_path;
  bool readonly = false;
  std::string propagation = "private";  // "private", "rslave", "rshared"
  bool recursive_read_only = false;     // readonly on every submount too (mount_setattr)
  std::string image;                    // an image volume: the image's ID or reference
  std::string image_sub_path;           // a directory inside that image
};

struct ContainerDevice {
  std::string container_path;
  std::string host_path;
  std::string permissions = "rwm";
};

// The cgroup driver's type: resources pass to it unchanged.
using HugepageLimit = berth::runtime::HugepageLimit;

struct ContainerResources {
  int64_t cpu_shares = 0;  // 0 / empty = unset
  int64_t cpu_quota = 0;
  int64_t cpu_period = 0;
  int64_t memory_limit_bytes = 0;
  int64_t memory_swap_limit_bytes = 0;
  int64_t oom_score_adj = 0;
  std::string cpuset_cpus;
  std::string cpuset_mems;
  std::vector<runtime::HugepageLimit> hugepage_limits;
  std::map<std::string, std::string> unified;
};

// The cgroup driver's form of a container's resources.
inline runtime::CgroupResources ToCgroupResources(const ContainerResources& in) {
  runtime::CgroupResources out;
  out.cpu_shares = in.cpu_shares;
  out.cpu_quota = in.cpu_quota;
  out.cpu_period = in.cpu_period;
  out.memory_limit_bytes = in.memory_limit_bytes;
  out.memory_swap_limit_bytes = in.memory_swap_limit_bytes;
  out.cpuset_cpus = in.cpuset_cpus;
  out.cpuset_mems = in.cpuset_mems;
  out.hugepage_limits = in.hugepage_limits;
  out.unified = in.unified;
  return out;
}

// A CRI SecurityProfile (seccomp or AppArmor).
struct SecurityProfile {
  // kUnset: the request named no profile (seccomp: then Unconfined, as the CRI says; AppArmor: the
  // runtime default where AppArmor is enabled, nothing where it is not).
  enum class Type { kRuntimeDefault, kUnconfined, kLocalhost, kUnset };
  Type type = Type::kRuntimeDefault;
  std::string localhost_ref;  // seccomp: a file path; AppArmor: a loaded profile's name
};

struct SELinuxOptions {
  std::string user, role, type, level;
};

struct ContainerSecurity {
  bool privileged = false;
  std::vector<std::string> add_capabilities;
  std::vector<std::string> drop_capabilities;
  std::vector<std::string> add_ambient_capabilities;
  std::optional<int64_t> run_as_user;
  std::optional<int64_t> run_as_group;
  std::string run_as_username;
  std::vector<int64_t> supplemental_groups;
  bool supplemental_groups_strict = false;  // Strict: only these; Merge: plus the image's groups
  bool readonly_rootfs = false;
  bool no_new_privs = false;
  std::vector<std::string> masked_paths;  // empty: the defaults (see container_spec.cc)
  std::vector<std::string> readonly_paths;
  SecurityProfile seccomp{SecurityProfile::Type::kUnset, ""};
  SecurityProfile apparmor{SecurityProfile::Type::kUnset, ""};
  SELinuxOptions selinux;
};

struct ContainerConfig {
  std::string name;
  uint32_t attempt = 0;
  std::string image;  // as the request named it
  std::vector<std::string> command;
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> envs;
  std::string working_dir;
  std::vector<ContainerMount> mounts;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  std::string log_path;  // relative to the sandbox's log directory
  bool tty = false;
  bool stdin = false;
  bool stdin_once = false;
  std::vector<ContainerDevice> devices;
  ContainerResources resources;
  ContainerSecurity security;
  // ContainerConfig.stop_signal (KEP-4960) as a signal name ("SIGUSR1"); "" = the runtime's
  // default: the image's STOPSIGNAL, else SIGTERM.
  std::string stop_signal;
};

enum class ContainerState { kCreated, kRunning, kExited, kUnknown };

// The identity the container's process runs with, as resolved at create (ContainerStatus.user).
struct ContainerUser {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::vector<uint32_t> groups;  // supplementary
};

struct Container {
  std::string id;
  std::string sandbox_id;
  ContainerConfig config;
  std::string image_id;  // the image ID (config digest)
  ContainerState state = ContainerState::kCreated;
  int64_t created_at_nanos = 0;
  int64_t started_at_nanos = 0;
  int64_t finished_at_nanos = 0;
  int exit_code = 0;
  std::string reason;
  std::string message;
  std::string log_path;    // absolute: the sandbox's log directory + config.log_path
  std::string bundle_dir;  // <root>/containers/<id>: config.json, rootfs (the overlay mount)
  std::string state_dir;   // <state>/containers/<id>: the monitor's socket, pid and exit files
  std::string cgroup_path;
  int monitor_pid = 0;
  uint64_t monitor_start_time = 0;
  int container_pid = 0;
  uint64_t container_start_time = 0;
  std::string stop_signal = "SIGTERM";
  ContainerUser user;

  std::string RootfsPath() const { return bundle_dir + "/rootfs"; }
};

// Where the image volume of config.mounts[index] is mounted, and its snapshot's key.
inline std::string ImageVolumePath(const Container& container, size_t index) {
  return container.bundle_dir + "/volumes/" + std::to_string(index);
}
// Where the idmapped clone of config.mounts[index]'s host path is attached (user-namespaced pods).
inline std::string IdmappedVolumePath(const Container& container, size_t index) {
  return container.bundle_dir + "/idmapped/" + std::to_string(index);
}
inline std::string ImageVolumeKey(const std::string& container_id, size_t index) {
  return container_id + "-v" + std::to_string(index);
}

std::string ContainerToJson(const Container& container);
Result<Container> ContainerFromJson(const std::string& json);

}  // namespace berth::pod
