// Usage counters of a cgroup, from cgroup v1 (cpuacct, memory, pids) or v2 files: what the CRI
// stats RPCs report.
#pragma once

#include <cstdint>
#include <string>

#include "runtime/cgroups.h"

namespace berth {

struct CgroupStats {
  bool has_cpu = false;
  uint64_t cpu_usage_ns = 0;
  bool has_memory = false;
  uint64_t memory_usage_bytes = 0;
  uint64_t memory_working_set_bytes = 0;  // usage minus inactive file cache, as kubelet computes
  uint64_t memory_rss_bytes = 0;
  uint64_t page_faults = 0;
  uint64_t major_page_faults = 0;
  bool has_pids = false;
  uint64_t pids = 0;
};

// Reads what exists; a cgroup that is gone gives an all-false result.
CgroupStats ReadCgroupStats(const Cgroups& cgroups, const std::string& path);

// Whether the kernel's OOM killer killed a process of this cgroup (v1 memory.oom_control or v2
// memory.events "oom_kill"); read before the cgroup is removed.
bool CgroupHadOomKill(const Cgroups& cgroups, const std::string& path);

}  // namespace berth
