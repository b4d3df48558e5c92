// berth's cgroups, one interface over sibling drivers (youki's libcgroups shape): cgroupfs on the
// v1 / hybrid layout, cgroupfs on pure cgroup v2, and systemd (transient units over D-Bus, on v2).
// `Cgroups` is the handle pod/ and the launcher use; the driver behind it is chosen once per
// process (berthd: from the config and the host, Cgroups::Configure; helpers: cgroupfs).
//
// Paths are cgroup paths relative to the hierarchy root ("/kubepods/pod123/<id>",
// "/kubepods.slice/kubepods-pod123.slice/berth-<id>.scope"), the same in every hierarchy.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "runtime/host_features.h"

namespace berth::runtime {

// kubelet's cgroup_parent as a cgroupfs path: "/kubepods/burstable/pod1" stays as it is; a
// systemd slice name ("kubepods-burstable-pod1.slice") becomes the path systemd would use
// ("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice"). Names with ".." or
// other tricks are InvalidArgument.
Result<std::string> CgroupParentToPath(const std::string& parent);

// config.json's linux.cgroupsPath for a container cgroup: the path itself, or for a systemd scope
// runc's "<slice>:<prefix>:<name>" form ("/a.slice/berth-<id>.scope" -> "a.slice:berth:<id>").
std::string OciCgroupsPath(const std::string& path);
// The other way: a cgroup path from either form; systemd_managed says whether a systemd unit
// owns it (the launcher then neither creates nor removes it). Bad forms are InvalidArgument.
struct SpecCgroup {
  std::string path;
  bool systemd_managed = false;
};
Result<SpecCgroup> ParseOciCgroupsPath(const std::string& cgroups_path);

struct HugepageLimit {
  std::string page_size;  // "2MB", "1GB": the <size> of hugetlb.<size>.limit_in_bytes
  uint64_t limit_bytes = 0;
};

// One device-controller rule, as the OCI spec's linux.resources.devices: "c 1:3 rwm".
struct DeviceRule {
  bool allow = false;
  char type = 'a';     // 'a' (all), 'c', 'b'
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
  int64_t pids_limit = 0;               // 0 = leave as it is, -1 = no limit
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

class CgroupDriver;

class Cgroups {
 public:
  // This process's driver: the one Configure chose, or cgroupfs for the mounted hierarchies.
  static Cgroups Probe();
  // Chooses the driver for this process (berthd at start): "cgroupfs" or "systemd". systemd needs
  // systemd as PID 1 and a pure cgroup v2 host: elsewhere it is FailedPrecondition.
  // (cgroup_configure.cc: only berthd links the systemd driver and libsystemd.)
  static Result<Cgroups> Configure(const std::string& driver);

  // "cgroupfs" or "systemd", as RuntimeConfig reports it.
  std::string driver_name() const;

  // Where a pod's cgroup goes for CRI's cgroup_parent (systemd: a slice name, or its path).
  Result<std::string> PodPath(const std::string& cgroup_parent) const;
  // A container's cgroup below its pod's (`pod_path`), or below the shared parent of pods
  // without one (SharedParent: "/berth", or "/berth.slice" with systemd).
  std::string ContainerPath(const std::string& pod_path, const std::string& id) const;
  std::string SharedParent() const;
  // The container ID a child cgroup of a pod (or of SharedParent) names, "" for anything else.
  std::string ContainerIdOf(const std::string& child_name) const;

  // Creates `path` (and missing parents), with the controllers it needs; returns the topmost
  // cgroup it had to create ("/a" when "/a/b/c" made "/a"), empty when `path` existed already.
  // systemd: `path` is a slice, started as a transient unit.
  Result<std::string> Create(const std::string& path) const;
  // Removes `path` and then its parents up to and including `created_root` (what Create
  // returned) once they are empty; absent ones are fine (systemd: their units are stopped).
  Result<void> Remove(const std::string& path, const std::string& created_root = "") const;
  // Kills every process in `path` and waits (up to `timeout`) until none is left, then removes it
  // as Remove does: the undo of a create that may have left a process behind, and removal.
  Result<void> Destroy(const std::string& path, const std::string& created_root = "",
                       std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;
  // SIGKILL to every process in `path` (cgroup.kill where the v2 hierarchy has it).
  Result<void> KillAll(const std::string& path) const;
  // Whether `path` holds no process (true when it does not exist).
  Result<bool> IsEmpty(const std::string& path) const;
  // Resources on a live cgroup (UpdateContainerResources, a pod's limits).
  Result<void> Apply(const std::string& path, const CgroupResources& resources) const;
  bool Exists(const std::string& path) const;
  // The names of the cgroups directly below `path` (empty when there is none).
  std::vector<std::string> Children(const std::string& path) const;

  // A container's cgroup, in two steps around the clone of its init. Before: cgroupfs makes it
  // with every limit and device rule, so that the init starts inside it (CLONE_INTO_CGROUP);
  // systemd only checks the resources (a scope needs a process). After the clone, while the init
  // waits: systemd starts the scope with the init in it, then sets what systemd does not own.
  Result<void> PrepareContainer(const std::string& path, const CgroupResources& resources) const;
  Result<void> PlaceContainerInit(const std::string& path, pid_t pid,
                                  const CgroupResources& resources) const;
  // berthd's helpers that outlive it (berth-monitor, berth-pod-init): where berthd runs in a
  // systemd unit, out of its cgroup, so that restarting the unit neither kills nor warns about
  // them: cgroupfs moves them to /berth-monitors, systemd into a scope of their own
  // (berth-<kind>-<id>.scope). Elsewhere they stay where berthd is.
  Result<void> PlaceHelper(pid_t pid, const std::string& kind, const std::string& id) const;

  // The v1 hierarchy that has `controller` ("memory", "cpuacct"...), or "" when none does.
  std::string V1Mountpoint(const std::string& controller) const;
  // Mount points: v1 hierarchies by controller name, and the v2 one.
  const std::vector<std::pair<std::string, std::string>>& v1() const;
  const std::string& v2() const;

 private:
  explicit Cgroups(std::shared_ptr<const CgroupDriver> driver) : driver_(std::move(driver)) {}
  static void Use(std::shared_ptr<const CgroupDriver> driver);
  static std::shared_ptr<const CgroupDriver> CgroupfsDriver();
  std::shared_ptr<const CgroupDriver> driver_;
};

}  // namespace berth::runtime
