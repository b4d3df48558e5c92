// cgroupfs driver for v1, v2 and the hybrid layout: the same relative path ("/kubepods/pod123")
// is created in every v1 controller hierarchy and in the v2 hierarchy, if mounted.
#pragma once

#include <cstdint>
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

struct CgroupResources {
  int64_t cpu_shares = 0;  // 0 = leave as it is
  int64_t cpu_quota = 0;
  int64_t cpu_period = 0;
  int64_t memory_limit_bytes = 0;
};

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
  Result<void> Apply(const std::string& path, const CgroupResources& resources) const;
  bool Exists(const std::string& path) const;

  // The v1 hierarchy that has `controller` ("memory", "cpuacct"...), or "" when none does.
  std::string V1Mountpoint(const std::string& controller) const;

  // Mount points: v1 hierarchies by controller name, and the v2 one.
  const std::vector<std::pair<std::string, std::string>>& v1() const { return v1_; }
  const std::string& v2() const { return v2_; }

 private:
  std::vector<std::pair<std::string, std::string>> v1_;  // (controllers, mountpoint)
  std::string v2_;
};

}  // namespace berth
