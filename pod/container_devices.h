// The device nodes a container gets and the device-cgroup rules that let it use them: the
// standard set for every container, CRI devices (a host path, or every device under a host
// directory), and all of the host's devices for a privileged container.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/result.h"
#include "pod/container.h"
#include "runtime/cgroups.h"

namespace berth::pod {

struct ContainerDevices {
  nlohmann::json oci_devices = nlohmann::json::array();  // linux.devices of config.json
  std::vector<runtime::DeviceRule> cgroup_rules;         // in order, for the devices controller
};

// A missing host path or a host path that is not a device (nor a directory holding some) is
// InvalidArgument; permissions other than a combination of r, w, m likewise.
Result<ContainerDevices> ResolveDevices(const ContainerConfig& config);

}  // namespace berth::pod
