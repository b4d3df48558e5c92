// The cgroupfs driver of the v1 and hybrid layouts: the same relative path in every v1
// controller hierarchy (and in the v2 one, if mounted); limits go to the v1 controllers' files,
// the `unified` keys to the v2 side, devices to the v1 devices controller.
#include <cerrno>

#include "base/file_util.h"
#include "runtime/cgroup_driver.h"
#include "runtime/cgroups_internal.h"

namespace berth::runtime {
namespace {

using cgroups_internal::HasController;
using cgroups_internal::Trim;

// A new v1 cpuset cgroup starts with empty cpus/mems and refuses tasks until they are set.
void InheritCpuset(const std::string& dir) {
  for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
    auto current = ReadFile(dir + "/" + file, 4096);
    if (!current || !Trim(*current).empty()) continue;
    auto parent = ReadFile(dir.substr(0, dir.find_last_of('/')) + "/" + file, 4096);
    if (parent) (void)WriteKernelFile(dir + "/" + file, Trim(*parent));
  }
}

class CgroupfsV1Driver final : public CgroupDriver {
 public:
  using CgroupDriver::CgroupDriver;

  std::string name() const override { return "cgroupfs"; }

  Result<std::string> Create(const std::string& path) const override {
    // The topmost missing ancestor, judged in the first hierarchy.
    std::string created;
    std::string probe = path;
    std::string first = hierarchies().ProcsDir("");
    while (!probe.empty() && probe != "/" && !first.empty() && !PathExists(first + probe)) {
      created = probe;
      probe = probe.substr(0, probe.find_last_of('/'));
    }
    for (const auto& [controllers, mountpoint] : hierarchies().v1) {
      BERTH_TRY(MakeDirs(mountpoint + path, 0755));
      if (!HasController(controllers, "cpuset")) continue;
      // Every level made here starts empty: fill them from the top down.
      for (size_t slash = path.find('/', 1);; slash = path.find('/', slash + 1)) {
        InheritCpuset(mountpoint + path.substr(0, slash));
        if (slash == std::string::npos) break;
      }
    }
    if (!hierarchies().v2.empty()) BERTH_TRY(MakeDirs(hierarchies().v2 + path, 0755));
    return created;
  }

  Result<void> Apply(const std::string& path, const CgroupResources& resources) const override {
    for (const auto& [controllers, mountpoint] : hierarchies().v1) {
      BERTH_TRY(cgroups_internal::ApplyV1(controllers, mountpoint + path, resources));
    }
    if (resources.unified.empty()) return Ok();
    const std::string& v2 = hierarchies().v2;
    return cgroups_internal::ApplyUnified(v2.empty() ? "" : v2 + path, resources.unified);
  }
};

}  // namespace

std::shared_ptr<const CgroupDriver> MakeCgroupfsV1Driver(CgroupHierarchies hierarchies) {
  return std::make_shared<CgroupfsV1Driver>(std::move(hierarchies));
}

}  // namespace berth::runtime
