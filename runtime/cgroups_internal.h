// Small helpers shared by the cgroupfs files of runtime/ (cgroups.cc, cgroup_resources.cc).
#pragma once

#include <string>

#include "base/result.h"

namespace berth::cgroups_internal {

// Without the trailing newline and spaces the kernel puts in control files.
std::string Trim(std::string text);

// Whether a v1 hierarchy's super options ("rw,cpu,cpuacct") name `controller` exactly.
bool HasController(const std::string& options, const std::string& controller);

}  // namespace berth::cgroups_internal
