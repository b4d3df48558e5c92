// Containers in berth's own terms (cri/ translates the CRI to and from these).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"

namespace berth::pod {

struct ContainerMount {
  std::string host_path;
  std::string container_path;
  bool readonly = false;
  std::string propagation = "private";  // "private", "rslave", "rshared"
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
  std::optional<int64_t> run_as_user;
  std::optional<int64_t> run_as_group;
  bool tty = false;
  bool stdin = false;
  // Resources (0 = unset).
  int64_t cpu_shares = 0;
  int64_t cpu_quota = 0;
  int64_t cpu_period = 0;
  int64_t memory_limit_bytes = 0;
};

enum class ContainerState { kCreated, kRunning, kExited, kUnknown };

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

  std::string RootfsPath() const { return bundle_dir + "/rootfs"; }
};

std::string ContainerToJson(const Container& container);
Result<Container> ContainerFromJson(const std::string& json);

}  // namespace berth::pod
