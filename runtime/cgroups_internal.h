// Small helpers shared by the cgroup files of runtime/ (the drivers, resources, stats).
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "base/result.h"
#include "runtime/cgroups.h"

namespace berth::runtime::cgroups_internal {

// Without the trailing newline and spaces the kernel puts in control files.
std::string Trim(std::string text);

// Whether a v1 hierarchy's super options ("rw,cpu,cpuacct") name `controller` exactly.
bool HasController(const std::string& options, const std::string& controller);

// The pids in <dir>/cgroup.procs; a missing file (no such cgroup) is an empty list.
Result<std::vector<pid_t>> ReadProcs(const std::string& dir);

std::string LastComponent(const std::string& path);
bool EndsWith(const std::string& text, const std::string& suffix);

// kubelet's / runc's conversion of cpu.shares [2, 262144] into cpu.weight [1, 10000].
int64_t SharesToWeight(int64_t shares);

// A unified key names one file of the cgroup's own directory ("memory.high"), never a path.
Result<void> CheckUnifiedKey(const std::string& key);

// Resources as files (cgroup_resources.cc). ApplyV1 writes one v1 hierarchy's controllers;
// ApplyV2Files the v2 files of `dir` (cpu, cpuset, memory, pids, hugetlb), ApplyUnified the
// `unified` keys, each to an existing file of `dir` ("" when there is no v2 hierarchy).
Result<void> ApplyV1(const std::string& controllers, const std::string& dir,
                     const CgroupResources& resources);
Result<void> ApplyV2Files(const std::string& dir, const CgroupResources& resources);
Result<void> ApplyV2Hugetlb(const std::string& dir, const CgroupResources& resources);
Result<void> ApplyUnified(const std::string& dir,
                          const std::map<std::string, std::string>& unified);

// pids.max for a pids limit (-1: "max").
std::string PidsMax(int64_t limit);

// The v2 memory.swap.max value for CRI's memory + swap limit.
int64_t SwapOnlyLimit(const CgroupResources& resources);

}  // namespace berth::runtime::cgroups_internal
