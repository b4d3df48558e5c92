// The interface behind `Cgroups` (runtime/cgroups.h) and its three siblings; internal to
// runtime/. Each driver owns creation, limits, removal and placement; the reading side
// (processes, children, stats) is plain cgroupfs for all of them, in CgroupHierarchies.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "runtime/cgroups.h"

namespace berth::runtime {

// The mounted hierarchies, from /proc/self/mountinfo.
struct CgroupHierarchies {
  std::vector<std::pair<std::string, std::string>> v1;  // (super options, mountpoint)
  std::string v2;

  static CgroupHierarchies Probe();
  // The v1 hierarchy with `controller`, or "".
  std::string V1Mountpoint(const std::string& controller) const;
  // Every mount point (v1 ones, then v2).
  std::vector<std::string> All() const;
  // The directory whose cgroup.procs lists a cgroup's processes (the same in every hierarchy).
  std::string ProcsDir(const std::string& path) const;
};

class CgroupDriver {
 public:
  explicit CgroupDriver(CgroupHierarchies hierarchies) : hierarchies_(std::move(hierarchies)) {}
  virtual ~CgroupDriver() = default;

  virtual std::string name() const = 0;
  virtual Result<std::string> PodPath(const std::string& cgroup_parent) const;
  virtual std::string SharedParent() const { return "/berth"; }
  virtual std::string ContainerName(const std::string& id) const { return id; }
  virtual std::string ContainerIdOf(const std::string& child_name) const;

  virtual Result<std::string> Create(const std::string& path) const = 0;
  virtual Result<void> Apply(const std::string& path, const CgroupResources& resources) const = 0;
  virtual Result<void> Remove(const std::string& path, const std::string& created_root) const;
  virtual Result<void> KillAll(const std::string& path) const;
  virtual Result<void> PrepareContainer(const std::string& path,
                                        const CgroupResources& resources) const;
  virtual Result<void> PlaceContainerInit(const std::string&, pid_t, const CgroupResources&) const {
    return Ok();
  }
  virtual Result<void> PlaceHelper(pid_t pid, const std::string& kind, const std::string& id) const;

  const CgroupHierarchies& hierarchies() const { return hierarchies_; }
  Result<bool> IsEmpty(const std::string& path) const;
  bool Exists(const std::string& path) const;
  std::vector<std::string> Children(const std::string& path) const;
  // Returns when `path`'s population may have changed, or after `limit`.
  void WaitForChange(const std::string& path, std::chrono::milliseconds limit) const;

 protected:
  // rmdir of `path` and its parents up to `created_root` in every hierarchy.
  Result<void> RemoveDirectories(const std::string& path, const std::string& created_root) const;
  // Whether berthd's own cgroup is a systemd unit's (its helpers then leave it).
  static bool RunsInSystemdUnit();

 private:
  CgroupHierarchies hierarchies_;
};

std::shared_ptr<const CgroupDriver> MakeCgroupfsV1Driver(CgroupHierarchies hierarchies);
std::shared_ptr<const CgroupDriver> MakeCgroupfsV2Driver(CgroupHierarchies hierarchies);
Result<std::shared_ptr<const CgroupDriver>> MakeSystemdDriver(CgroupHierarchies hierarchies);

}  // namespace berth::runtime
