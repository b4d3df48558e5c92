#include "runtime/cgroup_stats.h"

#include <fstream>
#include <map>
#include <sstream>

namespace berth {
namespace {

bool ReadNumber(const std::string& file, uint64_t* value) {
  std::ifstream in(file);
  std::string text;
  if (!(in >> text)) return false;
  if (text == "max") return false;
  try {
    *value = std::stoull(text);
  } catch (...) {
    return false;
  }
  return true;
}

// "key value" lines (memory.stat, cpu.stat).
std::map<std::string, uint64_t> ReadKeyValues(const std::string& file) {
  std::map<std::string, uint64_t> values;
  std::ifstream in(file);
  std::string key;
  uint64_t value = 0;
  while (in >> key >> value) values[key] = value;
  return values;
}

void ReadV1(const Cgroups& cgroups, const std::string& path, CgroupStats& stats) {
  if (auto cpu = cgroups.V1Mountpoint("cpuacct"); !cpu.empty()) {
    stats.has_cpu = ReadNumber(cpu + path + "/cpuacct.usage", &stats.cpu_usage_ns);
  }
  if (auto memory = cgroups.V1Mountpoint("memory"); !memory.empty()) {
    stats.has_memory = ReadNumber(memory + path + "/memory.usage_in_bytes", &stats.memory_usage_bytes);
    auto stat = ReadKeyValues(memory + path + "/memory.stat");
    uint64_t inactive = stat["total_inactive_file"];
    stats.memory_working_set_bytes =
        stats.memory_usage_bytes > inactive ? stats.memory_usage_bytes - inactive : 0;
    stats.memory_rss_bytes = stat["total_rss"];
    stats.page_faults = stat["total_pgfault"];
    stats.major_page_faults = stat["total_pgmajfault"];
  }
  if (auto pids = cgroups.V1Mountpoint("pids"); !pids.empty()) {
    stats.has_pids = ReadNumber(pids + path + "/pids.current", &stats.pids);
  }
}

void ReadV2(const std::string& dir, CgroupStats& stats) {
  auto cpu = ReadKeyValues(dir + "/cpu.stat");
  if (cpu.count("usage_usec")) {
    stats.has_cpu = true;
    stats.cpu_usage_ns = cpu["usage_usec"] * 1000;
  }
  stats.has_memory = ReadNumber(dir + "/memory.current", &stats.memory_usage_bytes);
  auto stat = ReadKeyValues(dir + "/memory.stat");
  uint64_t inactive = stat["inactive_file"];
  stats.memory_working_set_bytes =
      stats.memory_usage_bytes > inactive ? stats.memory_usage_bytes - inactive : 0;
  stats.memory_rss_bytes = stat["anon"];
  stats.page_faults = stat["pgfault"];
  stats.major_page_faults = stat["pgmajfault"];
  stats.has_pids = ReadNumber(dir + "/pids.current", &stats.pids);
}

}  // namespace

bool CgroupHadOomKill(const Cgroups& cgroups, const std::string& path) {
  if (path.empty()) return false;
  std::string file;
  if (auto memory = cgroups.V1Mountpoint("memory"); !memory.empty()) {
    file = memory + path + "/memory.oom_control";
  } else if (!cgroups.v2().empty()) {
    file = cgroups.v2() + path + "/memory.events";
  } else {
    return false;
  }
  auto values = ReadKeyValues(file);
  return values["oom_kill"] > 0;
}

CgroupStats ReadCgroupStats(const Cgroups& cgroups, const std::string& path) {
  CgroupStats stats;
  if (path.empty()) return stats;
  if (!cgroups.v1().empty()) {
    ReadV1(cgroups, path, stats);
  } else if (!cgroups.v2().empty()) {
    ReadV2(cgroups.v2() + path, stats);
  }
  return stats;
}

}  // namespace berth
