#include "runtime/cgroup_stats.h"

#include <cstdlib>
#include <map>
#include <sstream>

#include "base/file_util.h"
#include "base/parse_number.h"

namespace berth::runtime {
namespace {

std::optional<uint64_t> ReadNumber(const std::string& file) {
  auto text = ReadFile(file, 4096);
  if (!text) return std::nullopt;
  std::string value = *text;
  while (!value.empty() && (value.back() == '\n' || value.back() == ' ')) value.pop_back();
  return ParseUint64(value);  // "max" (no limit) is nullopt too
}

// "key value" lines (memory.stat, cpu.stat, memory.events).
std::map<std::string, uint64_t> KeyValues(const std::string& text) {
  std::map<std::string, uint64_t> values;
  std::istringstream in(text);
  std::string key, value;
  while (in >> key >> value) {
    if (auto number = ParseUint64(value)) values[key] = *number;
  }
  return values;
}

std::map<std::string, uint64_t> ReadKeyValues(const std::string& file) {
  auto text = ReadFile(file, 1 << 20);
  return text ? KeyValues(*text) : std::map<std::string, uint64_t>();
}

uint64_t WorkingSet(uint64_t usage, uint64_t inactive_file) {
  return usage > inactive_file ? usage - inactive_file : 0;
}

void ReadV1(const Cgroups& cgroups, const std::string& path, CgroupStats& stats) {
  if (auto cpu = cgroups.V1Mountpoint("cpuacct"); !cpu.empty()) {
    auto usage = ReadNumber(cpu + path + "/cpuacct.usage");
    stats.has_cpu = usage.has_value();
    stats.cpu_usage_ns = usage.value_or(0);
  }
  if (auto memory = cgroups.V1Mountpoint("memory"); !memory.empty()) {
    auto usage = ReadNumber(memory + path + "/memory.usage_in_bytes");
    stats.has_memory = usage.has_value();
    stats.memory_usage_bytes = usage.value_or(0);
    auto stat = ReadKeyValues(memory + path + "/memory.stat");
    stats.memory_working_set_bytes =
        WorkingSet(stats.memory_usage_bytes, stat["total_inactive_file"]);
    stats.memory_rss_bytes = stat["total_rss"];
    stats.page_faults = stat["total_pgfault"];
    stats.major_page_faults = stat["total_pgmajfault"];
    // An unlimited v1 cgroup says a page-rounded LONG_MAX.
    auto limit = ReadNumber(memory + path + "/memory.limit_in_bytes");
    if (limit && *limit < (uint64_t{1} << 62)) stats.memory_limit_bytes = limit;
  }
  if (auto pids = cgroups.V1Mountpoint("pids"); !pids.empty()) {
    auto count = ReadNumber(pids + path + "/pids.current");
    stats.has_pids = count.has_value();
    stats.pids = count.value_or(0);
  }
}

std::optional<Pressure> ReadPressure(const std::string& file) {
  auto text = ReadFile(file, 4096);
  if (!text) return std::nullopt;
  return ParsePressure(*text);
}

void ReadV2(const std::string& dir, CgroupStats& stats) {
  auto cpu = ReadKeyValues(dir + "/cpu.stat");
  if (cpu.count("usage_usec")) {
    stats.has_cpu = true;
    stats.cpu_usage_ns = cpu["usage_usec"] * 1000;
  }
  auto usage = ReadNumber(dir + "/memory.current");
  stats.has_memory = usage.has_value();
  stats.memory_usage_bytes = usage.value_or(0);
  auto stat = ReadKeyValues(dir + "/memory.stat");
  stats.memory_working_set_bytes = WorkingSet(stats.memory_usage_bytes, stat["inactive_file"]);
  stats.memory_rss_bytes = stat["anon"];
  stats.page_faults = stat["pgfault"];
  stats.major_page_faults = stat["pgmajfault"];
  stats.memory_limit_bytes = ReadNumber(dir + "/memory.max");
  auto swap = ReadNumber(dir + "/memory.swap.current");
  stats.has_swap = swap.has_value();
  stats.swap_usage_bytes = swap.value_or(0);
  stats.swap_limit_bytes = ReadNumber(dir + "/memory.swap.max");
  auto pids = ReadNumber(dir + "/pids.current");
  stats.has_pids = pids.has_value();
  stats.pids = pids.value_or(0);
  stats.cpu_pressure = ReadPressure(dir + "/cpu.pressure");
  stats.memory_pressure = ReadPressure(dir + "/memory.pressure");
  stats.io_pressure = ReadPressure(dir + "/io.pressure");
}

std::optional<PressureLine> ParsePressureLine(const std::string& line, const std::string& kind) {
  std::istringstream in(line);
  std::string word;
  if (!(in >> word) || word != kind) return std::nullopt;
  PressureLine parsed;
  int seen = 0;
  while (in >> word) {
    size_t equals = word.find('=');
    if (equals == std::string::npos) return std::nullopt;
    std::string key = word.substr(0, equals), value = word.substr(equals + 1);
    char* end = nullptr;
    double number = std::strtod(value.c_str(), &end);
    if (end == value.c_str() || *end != '\0') return std::nullopt;
    if (key == "avg10") parsed.avg10 = number, ++seen;
    if (key == "avg60") parsed.avg60 = number, ++seen;
    if (key == "avg300") parsed.avg300 = number, ++seen;
    if (key == "total") {
      auto total = ParseUint64(value);
      if (!total) return std::nullopt;
      parsed.total_us = *total;
      ++seen;
    }
  }
  if (seen != 4) return std::nullopt;
  return parsed;
}

}  // namespace

std::optional<Pressure> ParsePressure(const std::string& text) {
  std::istringstream lines(text);
  std::optional<Pressure> pressure;
  for (std::string line; std::getline(lines, line);) {
    if (auto some = ParsePressureLine(line, "some")) {
      if (!pressure) pressure.emplace();
      pressure->some = *some;
    } else if (auto full = ParsePressureLine(line, "full")) {
      if (!pressure) pressure.emplace();
      pressure->full = *full;
    }
  }
  return pressure;
}

uint64_t OomKillCount(const std::string& text) {
  auto values = KeyValues(text);
  auto found = values.find("oom_kill");
  return found == values.end() ? 0 : found->second;
}

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
  auto text = ReadFile(file, 4096);
  return text && OomKillCount(*text) > 0;
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

}  // namespace berth::runtime
