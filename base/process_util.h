// Small helpers around processes that several layers need.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace berth {

// Wall-clock time in nanoseconds since the Unix epoch (the CRI's timestamps).
int64_t NowUnixNanos();

// The path of `name` in the directory of the running executable: berthd's helpers
// (berth-monitor, berth-exec, berth-pod-init) are installed beside it.
std::string ExecutableSibling(const std::string& name);

// A NULL-terminated argv/envp array pointing into `strings`, which must outlive it.
std::vector<char*> CStringArray(const std::vector<std::string>& strings);

}  // namespace berth
