// The systemd cgroup driver (kubelet's --cgroup-driver=systemd), on a pure cgroup v2 host: pod
// cgroups are transient slices ("kubepods-burstable-pod<uid>.slice", nested by systemd's "-"
// rule), containers transient scopes "berth-<id>.scope" in their pod's slice (or berth.slice)
// with Delegate=yes, as runc and crun make them. A scope needs a process, so it is started with
// the container's init in it while the init waits (PlaceContainerInit). Limits systemd owns are
// unit properties (CPUWeight, CPUQuotaPerSecUSec, AllowedCPUs, MemoryMax, MemorySwapMax,
// TasksMax...); what it does not own (hugetlb, other `unified` files, the device filter) is
// written into the unit's cgroup afterwards, as runc does. Unit names derive from the IDs, so a
// restarted berthd finds its units again.
#include <unistd.h>

#include <cerrno>

#include "base/file_util.h"
#include "base/parse_number.h"
#include "runtime/cgroup_device_filter.h"
#include "runtime/cgroup_driver.h"
#include "runtime/cgroups_internal.h"
#include "runtime/systemd_bus.h"

namespace berth::runtime {
namespace {

using cgroups_internal::EndsWith;
using cgroups_internal::LastComponent;
using systemd::Property;

std::string ParentOf(const std::string& path) {
  return path.substr(0, path.find_last_of('/'));
}

// "0-2,4" -> the bitmask AllowedCPUs / AllowedMemoryNodes take (bit n of byte n / 8).
Result<std::vector<uint8_t>> CpuListMask(const std::string& list, const std::string& what) {
  std::vector<uint8_t> mask;
  size_t start = 0;
  while (start < list.size()) {
    size_t comma = list.find(',', start);
    std::string part =
        list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    size_t dash = part.find('-');
    auto first = ParseUint64(part.substr(0, dash), 8191);
    auto last = dash == std::string::npos ? first : ParseUint64(part.substr(dash + 1), 8191);
    if (!first || !last || *last < *first)
      return InvalidArgument(what + " \"" + list + "\" is not a list like 0-2,4");
    for (uint64_t n = *first; n <= *last; ++n) {
      if (mask.size() <= n / 8) mask.resize(n / 8 + 1, 0);
      mask[n / 8] |= static_cast<uint8_t>(1u << (n % 8));
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return mask;
}

// `unified` keys of files systemd owns, as the property that sets them (bytes, or "max").
const char* UnifiedProperty(const std::string& key) {
  if (key == "memory.high") return "MemoryHigh";
  if (key == "memory.low") return "MemoryLow";
  if (key == "memory.min") return "MemoryMin";
  if (key == "memory.max") return "MemoryMax";
  if (key == "memory.swap.max") return "MemorySwapMax";
  if (key == "pids.max") return "TasksMax";
  return nullptr;
}

Result<uint64_t> LimitValue(const std::string& key, const std::string& value) {
  if (value == "max") return systemd::kInfinity;
  auto number = ParseUint64(value, UINT64_MAX - 1);
  if (!number)
    return InvalidArgument("unified resource " + key + ": \"" + value +
                           "\" is neither a number nor max");
  return *number;
}

// CRI resources as unit properties; what they cannot say goes to `files` (written afterwards).
Result<std::vector<Property>> ResourceProperties(const CgroupResources& resources,
                                                 CgroupResources& files) {
  std::vector<Property> properties;
  if (resources.cpu_shares > 0) {
    properties.push_back({"CPUWeight", static_cast<uint64_t>(cgroups_internal::SharesToWeight(
                                           resources.cpu_shares))});
  }
  if (resources.cpu_quota != 0 || resources.cpu_period > 0) {
    uint64_t period =
        resources.cpu_period > 0 ? static_cast<uint64_t>(resources.cpu_period) : 100000;
    uint64_t per_second = systemd::kInfinity;
    if (resources.cpu_quota > 0) {
      // systemd keeps CPUQuota in whole percent: round up to 10 ms per second (as runc does), so
      // that the container gets at least what it asked for.
      per_second = (static_cast<uint64_t>(resources.cpu_quota) * 1000000 + period - 1) / period;
      per_second = (per_second + 9999) / 10000 * 10000;
    }
    properties.push_back({"CPUQuotaPerSecUSec", per_second});
    properties.push_back({"CPUQuotaPeriodUSec", period});
  }
  if (!resources.cpuset_cpus.empty()) {
    BERTH_ASSIGN_OR_RETURN(auto cpus, CpuListMask(resources.cpuset_cpus, "cpuset_cpus"));
    properties.push_back({"AllowedCPUs", std::move(cpus)});
  }
  if (!resources.cpuset_mems.empty()) {
    BERTH_ASSIGN_OR_RETURN(auto mems, CpuListMask(resources.cpuset_mems, "cpuset_mems"));
    properties.push_back({"AllowedMemoryNodes", std::move(mems)});
  }
  if (resources.memory_limit_bytes > 0) {
    properties.push_back({"MemoryMax", static_cast<uint64_t>(resources.memory_limit_bytes)});
    if (resources.memory_swap_limit_bytes > 0) {
      properties.push_back(
          {"MemorySwapMax", static_cast<uint64_t>(cgroups_internal::SwapOnlyLimit(resources))});
    }
  }
  if (resources.pids_limit != 0) {
    properties.push_back({"TasksMax", resources.pids_limit < 0
                                          ? systemd::kInfinity
                                          : static_cast<uint64_t>(resources.pids_limit)});
  }
  files.hugepage_limits = resources.hugepage_limits;
  files.devices = resources.devices;
  for (const auto& [key, value] : resources.unified) {
    BERTH_TRY(cgroups_internal::CheckUnifiedKey(key));
    const char* property = UnifiedProperty(key);
    if (property == nullptr) {
      files.unified[key] = value;
      continue;
    }
    BERTH_ASSIGN_OR_RETURN(uint64_t limit, LimitValue(key, value));
    properties.push_back({property, limit});
  }
  return properties;
}

Result<void> WriteFiles(const std::string& dir, const CgroupResources& files) {
  BERTH_TRY(cgroups_internal::ApplyV2Hugetlb(dir, files));
  if (!files.unified.empty()) BERTH_TRY(cgroups_internal::ApplyUnified(dir, files.unified));
  if (files.devices.empty()) return Ok();
  BERTH_ASSIGN_OR_RETURN(auto program, DeviceFilterProgram(files.devices));
  return AttachDeviceFilter(dir, program);
}

// A slice path: every component a slice and the whole what systemd's "-" rule makes of the last.
Result<std::string> SliceOf(const std::string& path) {
  std::string slice = LastComponent(path);
  auto expected =
      EndsWith(slice, ".slice") ? CgroupParentToPath(slice) : Result<std::string>(std::string());
  if (!expected || *expected != path) {
    return InvalidArgument("cgroup \"" + path +
                           "\" is not a systemd slice: the systemd cgroup driver takes "
                           "cgroup_parent as a slice name (kubepods-burstable-pod<uid>.slice)");
  }
  return slice;
}

class SystemdDriver final : public CgroupDriver {
 public:
  using CgroupDriver::CgroupDriver;

  std::string name() const override { return "systemd"; }
  std::string SharedParent() const override { return "/berth.slice"; }
  std::string ContainerName(const std::string& id) const override {
    return "berth-" + id + ".scope";
  }

  std::string ContainerIdOf(const std::string& child_name) const override {
    const std::string prefix = "berth-", suffix = ".scope";
    if (child_name.rfind(prefix, 0) != 0 || !EndsWith(child_name, suffix)) return "";
    return CgroupDriver::ContainerIdOf(
        child_name.substr(prefix.size(), child_name.size() - prefix.size() - suffix.size()));
  }

  Result<std::string> PodPath(const std::string& cgroup_parent) const override {
    if (cgroup_parent.empty()) return std::string();
    BERTH_ASSIGN_OR_RETURN(std::string path, CgroupParentToPath(cgroup_parent));
    BERTH_TRY(SliceOf(path));
    return path;
  }

  Result<std::string> Create(const std::string& path) const override {
    BERTH_ASSIGN_OR_RETURN(std::string slice, SliceOf(path));
    const std::string& root = hierarchies().v2;
    std::string created;
    for (std::string probe = path; !probe.empty() && !PathExists(root + probe);
         probe = ParentOf(probe)) {
      created = probe;
    }
    if (created.empty()) return created;
    auto started =
        systemd::StartTransientUnit(slice, {{"Description", std::string("berth pod cgroup")}});
    if (!started && started.error().code() != ErrorCode::kAlreadyExists)
      return std::move(started).error();
    return created;
  }

  Result<void> Apply(const std::string& path, const CgroupResources& resources) const override {
    CgroupResources files;
    BERTH_ASSIGN_OR_RETURN(auto properties, ResourceProperties(resources, files));
    BERTH_TRY(systemd::SetUnitProperties(LastComponent(path), properties));
    return WriteFiles(hierarchies().v2 + path, files);
  }

  // Nothing exists before the init does; what would fail later fails here already.
  Result<void> PrepareContainer(const std::string& path,
                                const CgroupResources& resources) const override {
    if (!EndsWith(path, ".scope"))
      return InvalidArgument("cgroup \"" + path + "\" is not a systemd scope");
    CgroupResources files;
    BERTH_TRY(ResourceProperties(resources, files));
    if (!files.devices.empty()) BERTH_TRY(DeviceFilterProgram(files.devices));
    return Ok();
  }

  Result<void> PlaceContainerInit(const std::string& path, pid_t pid,
                                  const CgroupResources& resources) const override {
    CgroupResources files;
    BERTH_ASSIGN_OR_RETURN(auto properties, ResourceProperties(resources, files));
    std::vector<Property> unit = {
        {"Description", std::string("berth container ") + LastComponent(path)},
        {"Slice", LastComponent(ParentOf(path))},
        {"Delegate", true},
        {"DefaultDependencies", false},
        {"CollectMode", std::string("inactive-or-failed")},
        {"PIDs", std::vector<uint32_t>{static_cast<uint32_t>(pid)}},
    };
    unit.insert(unit.end(), properties.begin(), properties.end());
    BERTH_TRY(systemd::StartTransientUnit(LastComponent(path), unit));
    auto written = WriteFiles(hierarchies().v2 + path, files);
    if (!written) (void)systemd::StopUnit(LastComponent(path));
    return written;
  }

  Result<void> PlaceHelper(pid_t pid, const std::string& kind,
                           const std::string& id) const override {
    return systemd::StartTransientUnit(
        "berth-" + kind + "-" + id + ".scope",
        {{"Description", "berth " + kind + " of " + id},
         {"Slice", std::string("system.slice")},
         {"DefaultDependencies", false},
         {"CollectMode", std::string("inactive-or-failed")},
         {"PIDs", std::vector<uint32_t>{static_cast<uint32_t>(pid)}}});
  }

  // Stops the unit of `path`, then those of its parents up to `created_root` once they are empty.
  // The shared berth.slice stays (like system.slice): stopping it could race with a container
  // being started in it, and it costs nothing.
  Result<void> Remove(const std::string& path, const std::string& created_root) const override {
    for (std::string current = path;; current = ParentOf(current)) {
      if (current != path && (current == SharedParent() || !Children(current).empty())) return Ok();
      std::string unit = LastComponent(current);
      if (EndsWith(unit, ".scope") || EndsWith(unit, ".slice")) BERTH_TRY(systemd::StopUnit(unit));
      // Whatever systemd did not own (or left) goes as a plain directory.
      std::string dir = hierarchies().v2 + current;
      if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) {
        if (current != path && (errno == EBUSY || errno == ENOTEMPTY)) return Ok();
        return Error::FromErrno(errno, "remove cgroup " + dir);
      }
      if (created_root.empty() || current == created_root ||
          current.size() <= created_root.size()) {
        return Ok();
      }
    }
  }
};

}  // namespace

Result<std::shared_ptr<const CgroupDriver>> MakeSystemdDriver(CgroupHierarchies hierarchies) {
  if (!systemd::Booted()) {
    return FailedPrecondition(
        "cgroup_driver \"systemd\": systemd is not running as PID 1 here (no "
        "/run/systemd/system); use cgroup_driver \"cgroupfs\"");
  }
  if (!hierarchies.v1.empty() || hierarchies.v2.empty()) {
    return FailedPrecondition(
        "cgroup_driver \"systemd\" needs a pure cgroup v2 host (cgroup2 at "
        "/sys/fs/cgroup, no v1 hierarchies); use cgroup_driver \"cgroupfs\"");
  }
  auto reachable = systemd::UnitLoaded("-.slice");
  if (!reachable) return std::move(reachable).error().Wrap("cgroup_driver \"systemd\"");
  return std::shared_ptr<const CgroupDriver>(
      std::make_shared<SystemdDriver>(std::move(hierarchies)));
}

}  // namespace berth::runtime
