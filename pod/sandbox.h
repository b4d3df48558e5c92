// Pod sandboxes in berth's own terms (cri/ translates the CRI messages to and from these).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/result.h"
#include "cni/pod_network.h"

namespace berth::pod {

enum class NamespaceMode { kPod, kContainer, kNode };

struct DnsConfig {
  std::vector<std::string> servers;
  std::vector<std::string> searches;
  std::vector<std::string> options;
};

// One line of a user namespace's uid_map / gid_map.
struct IdMapping {
  uint32_t container_id = 0;
  uint32_t host_id = 0;
  uint32_t length = 0;
};

struct SandboxConfig {
  std::string name;
  std::string namespace_name;
  std::string uid;
  uint32_t attempt = 0;
  std::string hostname;
  std::string log_directory;
  DnsConfig dns;
  std::vector<cni::PortMapping> port_mappings;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  std::string cgroup_parent;
  std::map<std::string, std::string> sysctls;
  NamespaceMode network_mode = NamespaceMode::kPod;
  NamespaceMode pid_mode = NamespaceMode::kContainer;
  NamespaceMode ipc_mode = NamespaceMode::kPod;
  std::string runtime_handler;
  bool privileged = false;  // only a privileged pod may hold privileged containers
  // A pod user namespace (userns_options mode POD with mappings); empty: the host's.
  std::vector<IdMapping> uid_mappings;
  std::vector<IdMapping> gid_mappings;
  // Pod-level limits (overhead + resources) for the pod cgroup, 0 = unset.
  int64_t cpu_shares = 0;
  int64_t cpu_quota = 0;
  int64_t cpu_period = 0;
  int64_t memory_limit_bytes = 0;
};

enum class SandboxState { kReady, kNotReady };

struct Sandbox {
  std::string id;  // 64 lowercase hex
  SandboxConfig config;
  SandboxState state = SandboxState::kNotReady;
  int64_t created_at_nanos = 0;
  std::vector<std::string> ips;  // primary first
  std::string dir;               // <state>/pods/<id>: namespace pins, shm, etc/ files
  std::string cgroup_path;       // "/kubepods/pod123" (empty: none)
  std::string cgroup_created;    // the topmost cgroup directory berth created for it (removed)
  int init_pid = 0;              // the PID namespace's init when pid_mode is kPod
  uint64_t init_start_time = 0;  // its start time (jiffies), to recognise it after a restart

  std::string NetnsPath() const { return dir + "/ns/net"; }
  std::string IpcnsPath() const { return dir + "/ns/ipc"; }
  std::string UtsnsPath() const { return dir + "/ns/uts"; }
  std::string UsernsPath() const { return dir + "/ns/user"; }
  bool HasOwnUserns() const { return !config.uid_mappings.empty(); }
  // The host uid/gid the pod's root maps to (0 without a user namespace).
  uint32_t HostRootUid() const;
  uint32_t HostRootGid() const;
  std::string ShmPath() const { return dir + "/shm"; }
  std::string HostsPath() const { return dir + "/etc/hosts"; }
  std::string ResolvConfPath() const { return dir + "/etc/resolv.conf"; }
  std::string HostnamePath() const { return dir + "/etc/hostname"; }
  bool HasOwnNetwork() const { return config.network_mode != NamespaceMode::kNode; }
  bool HasOwnIpc() const { return config.ipc_mode != NamespaceMode::kNode; }
};

// "container_id host_id length\n" per mapping: /proc/PID/uid_map's format.
std::string IdMapText(const std::vector<IdMapping>& mappings);

std::string SandboxToJson(const Sandbox& sandbox);
Result<Sandbox> SandboxFromJson(const std::string& json);

}  // namespace berth::pod
