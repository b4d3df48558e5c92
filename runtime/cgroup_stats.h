// Usage counters of a cgroup, from cgroup v1 (cpuacct, memory, pids) or v2 files (cpu.stat,
// memory.current / memory.stat, memory.swap.current, pids.current, and the pressure stall
// information cpu/memory/io.pressure where the kernel has PSI): what the CRI stats RPCs report.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "runtime/cgroups.h"

namespace berth::runtime {

// One line of a PSI file ("some avg10=0.00 avg60=0.00 avg300=0.00 total=0").
struct PressureLine {
  double avg10 = 0, avg60 = 0, avg300 = 0;
  uint64_t total_us = 0;
};
struct Pressure {
  PressureLine some, full;
};

struct CgroupStats {
  bool has_cpu = false;
  uint64_t cpu_usage_ns = 0;
  bool has_memory = false;
  uint64_t memory_usage_bytes = 0;
  uint64_t memory_working_set_bytes = 0;  // usage minus inactive file cache, as kubelet computes
  uint64_t memory_rss_bytes = 0;
  uint64_t page_faults = 0;
  uint64_t major_page_faults = 0;
  std::optional<uint64_t> memory_limit_bytes;  // when limited
  bool has_swap = false;
  uint64_t swap_usage_bytes = 0;
  std::optional<uint64_t> swap_limit_bytes;
  bool has_pids = false;
  uint64_t pids = 0;
  std::optional<Pressure> cpu_pressure, memory_pressure, io_pressure;
};

// Reads what exists; a cgroup that is gone gives an all-false result.
CgroupStats ReadCgroupStats(const Cgroups& cgroups, const std::string& path);

// A PSI file's text; nullopt when it has no "some" line.
std::optional<Pressure> ParsePressure(const std::string& text);

// The "oom_kill" count of memory.events (v2) or memory.oom_control (v1) text.
uint64_t OomKillCount(const std::string& text);

// Whether the kernel's OOM killer killed a process of this cgroup (v1 memory.oom_control or v2
// memory.events "oom_kill"); read before the cgroup is removed.
bool CgroupHadOomKill(const Cgroups& cgroups, const std::string& path);

}  // namespace berth::runtime
