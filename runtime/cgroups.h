// cgroupfs driver for v1, v2 and the hybrid layout: the same relative path ("/kubepods/pod123")
// is created in every v1 controller hierarchy and in the v2 hierarchy, if mounted.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/result.h"
#include "runtime/host_features.h"

namespace berth {

// kubelet's cgroup_parent as a cgroupfs path: "/kubepods/burstable/pod1" stays as it is; a
// systemd slice name ("kubepods-burstable-pod1.slice") becomes the path systemd would use
// ("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice"). Names with ".." or
// other tricks are InvalidArgument.
Result<std::string> CgroupParentToPath(const std::string& parent);

struct HugepageLimit {
  std::string page_size;  // "2MB", "1GB": the <size> of hugetlb.<size>.limit_in_bytes
  uint64_t limit_bytes = 0;
};

// One device-controller rule, as the OCI spec's linux.resources.devices: "c 1:3 rwm".
struct DeviceRule {
  bool allow = false;
  char type = 'a';  // 'a' (all), 'c', 'b'
  int64_t major = -1;  // -1: any
  int64_t minor = -1;
  std::string access = "rwm";
};

struct CgroupResources {
  int64_t cpu_shares = 0;  // 0 = leave as it is
  int64_t cpu_quota = 0;
  int64_t cpu_period = 0;
  int64_t memory_limit_bytes = 0;
  int64_t memory_swap_limit_bytes = 0;  // memory + swap (v1 memsw); needs swap accounting
  std::string cpuset_cpus;
  std::string cpuset_mems;
  std::vector<HugepageLimit> hugepage_limits;  // skipped where the hugetlb controller is absent
  std::map<std::string, std::string> unified;  // cgroup v2 files ("memory.high": "1G")
  std::vector<DeviceRule> devices;  // in order; empty leaves the device controller as it is
};

// The devices every container may use (runc's list: null, zero, full, tty, random, urandom,
// ptmx, the pty slaves; mknod of any node), after denying all.
std::vector<DeviceRule> DefaultDeviceRules();
// "c 1:3 rwm"
std::string DeviceRuleText(const DeviceRule& rule);

class Cgroups {
 public:
  // Finds the mounted hierarchies (from /proc/self/mountinfo).
  static Cgroups Probe();

  // Creates `path` (and missing parents) in every hierarchy; returns the topmost directory it
  // had to create ("/a" when "/a/b/c" made "/a"), empty when `path` existed already.
  Result<std::string> Create(const std::string& path) const;
  // Removes `path` (empty directories only) from every hierarchy and then its parents up to and
  // including `created_root` (what Create returned); absent directories are fine.
  Result<void> Remove(const std::string& path, const std::string& created_root = "") const;
  // Kills every process in `path` and waits (up to `timeout`) until none is left, then removes it
  // as Remove does: the undo of a create that may have left a process behind, and removal.
  Result<void> Destroy(const std::string& path, const std::string& created_root = "",
                       std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;
  // SIGKILL to every process in `path` (cgroup.kill where the v2 hierarchy has it).
  Result<void> KillAll(const std::string& path) const;
  // Whether `path` holds no process (true when it does not exist).
  Result<bool> IsEmpty(const std::string& path) const;
  Result<void> Apply(const std::string& path, const CgroupResources& resources) const;
  bool Exists(const std::string& path) const;
  // The names of the cgroups directly below `path` (empty when there is none).
  std::vector<std::string> Children(const std::string& path) const;

  // The v1 hierarchy that has `controller` ("memory", "cpuacct"...), or "" when none does.
  std::string V1Mountpoint(const std::string& controller) const;

  // Mount points: v1 hierarchies by controller name, and the v2 one.
  const std::vector<std::pair<std::string, std::string>>& v1() const { return v1_; }
  const std::string& v2() const { return v2_; }

 private:
  std::string ProcsDir(const std::string& path) const;
  // Returns when `path`'s population may have changed, or after `limit`.
  void WaitForCgroupChange(const std::string& path, std::chrono::milliseconds limit) const;

  std::vector<std::pair<std::string, std::string>> v1_;  // (controllers, mountpoint)
  std::string v2_;
};

}  // namespace berth
