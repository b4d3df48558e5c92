// Cgroups::Configure, apart from cgroups.cc so that only berthd links the systemd driver (and
// libsystemd): berth-monitor and berth-exec use the cgroupfs side alone.
#include "runtime/cgroup_driver.h"
#include "runtime/cgroups.h"

namespace berth::runtime {

Result<Cgroups> Cgroups::Configure(const std::string& driver) {
  std::shared_ptr<const CgroupDriver> made;
  if (driver == "systemd") {
    BERTH_ASSIGN_OR_RETURN(made, MakeSystemdDriver(CgroupHierarchies::Probe()));
  } else if (driver == "cgroupfs") {
    made = CgroupfsDriver();
  } else {
    return InvalidArgument("cgroup_driver must be \"cgroupfs\" or \"systemd\", got \"" + driver +
                           "\"");
  }
  Use(made);
  return Cgroups(made);
}

}  // namespace berth::runtime
