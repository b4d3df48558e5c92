// The cgroupfs driver of a pure cgroup v2 host. A new cgroup's limit files exist only for the
// controllers its parent passes on (cgroup.subtree_control), so Create enables the ones berth uses
// from the root down to the new cgroup's parent, as runc and crun do. v2's "no internal
// processes" rule: a cgroup (other than the root) that holds processes cannot pass controllers
// on, hence berthd's own processes never sit where that is needed (see PlaceHelper).
// Devices: an eBPF program per cgroup (cgroup_device_filter.h).
#include <cerrno>
#include <set>
#include <sstream>

#include "base/file_util.h"
#include "runtime/cgroup_device_filter.h"
#include "runtime/cgroup_driver.h"
#include "runtime/cgroups_internal.h"

namespace berth::runtime {
namespace {

using cgroups_internal::Trim;

// What berth's limits need (rdma and misc are left to whoever uses them).
constexpr const char* kControllers[] = {"cpuset", "cpu", "io", "memory", "hugetlb", "pids"};

std::set<std::string> Words(const std::string& text) {
  std::set<std::string> words;
  std::istringstream in(text);
  for (std::string word; in >> word;) words.insert(word);
  return words;
}

// Lets `dir` pass every controller it has (of kControllers) on to its children.
Result<void> EnableControllers(const std::string& dir) {
  BERTH_ASSIGN_OR_RETURN(std::string available, ReadFile(dir + "/cgroup.controllers", 4096));
  BERTH_ASSIGN_OR_RETURN(std::string enabled, ReadFile(dir + "/cgroup.subtree_control", 4096));
  std::set<std::string> have = Words(available), on = Words(enabled);
  for (const char* controller : kControllers) {
    if (!have.count(controller) || on.count(controller)) continue;
    auto written = WriteKernelFile(dir + "/cgroup.subtree_control", std::string("+") + controller);
    if (written) continue;
    if (written.error().sys_errno() == EBUSY) {
      return FailedPrecondition("enable the " + std::string(controller) + " controller in " + dir +
                                "/cgroup.subtree_control: the cgroup holds processes (cgroup v2 "
                                "lets only cgroups without processes pass controllers on)");
    }
    return std::move(written).error().Wrap("enable the " + std::string(controller) + " controller");
  }
  return Ok();
}

class CgroupfsV2Driver final : public CgroupDriver {
 public:
  using CgroupDriver::CgroupDriver;

  std::string name() const override { return "cgroupfs"; }

  Result<std::string> Create(const std::string& path) const override {
    const std::string& root = hierarchies().v2;
    std::string created;
    for (std::string probe = path; !probe.empty() && probe != "/" && !PathExists(root + probe);
         probe = probe.substr(0, probe.find_last_of('/'))) {
      created = probe;
    }
    // From the root down: each level passes the controllers on, then the next one is made.
    BERTH_TRY(EnableControllers(root));
    for (size_t slash = path.find('/', 1);; slash = path.find('/', slash + 1)) {
      std::string dir = root + path.substr(0, slash);
      auto made = MakeDirs(dir, 0755);
      if (!made) {
        if (!created.empty()) (void)RemoveDirectories(path, created);
        return std::move(made).error();
      }
      if (slash == std::string::npos) break;
      auto enabled = EnableControllers(dir);
      if (!enabled) {
        if (!created.empty()) (void)RemoveDirectories(path, created);
        return std::move(enabled).error();
      }
    }
    return created;
  }

  Result<void> Apply(const std::string& path, const CgroupResources& resources) const override {
    std::string dir = hierarchies().v2 + path;
    BERTH_TRY(cgroups_internal::ApplyV2Files(dir, resources));
    if (!resources.unified.empty())
      BERTH_TRY(cgroups_internal::ApplyUnified(dir, resources.unified));
    if (resources.devices.empty()) return Ok();
    BERTH_ASSIGN_OR_RETURN(auto program, DeviceFilterProgram(resources.devices));
    return AttachDeviceFilter(dir, program);
  }
};

}  // namespace

std::shared_ptr<const CgroupDriver> MakeCgroupfsV2Driver(CgroupHierarchies hierarchies) {
  return std::make_shared<CgroupfsV2Driver>(std::move(hierarchies));
}

}  // namespace berth::runtime
