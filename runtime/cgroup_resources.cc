// CRI/OCI resources written to the cgroupfs files of v1 controllers, or of a v2 cgroup; the
// drivers (cgroupfs_v1.cc, cgroupfs_v2.cc, cgroup_systemd.cc) decide which apply where.
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>

#include "base/file_util.h"
#include "runtime/cgroups.h"
#include "runtime/cgroups_internal.h"

namespace berth::runtime {
namespace cgroups_internal {

int64_t SwapOnlyLimit(const CgroupResources& resources) {
  return std::max<int64_t>(0, resources.memory_swap_limit_bytes - resources.memory_limit_bytes);
}

std::string PidsMax(int64_t limit) {
  return limit < 0 ? "max" : std::to_string(limit);
}

int64_t SharesToWeight(int64_t shares) {
  return 1 + ((shares - 2) * 9999) / 262142;
}

Result<void> CheckUnifiedKey(const std::string& key) {
  bool valid = !key.empty() && key.find('.') != std::string::npos && key.front() != '.';
  for (char c : key) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-'))
      valid = false;
  }
  if (!valid)
    return InvalidArgument("unified resource key \"" + key + "\" is not a cgroup v2 file name");
  return Ok();
}

Result<void> ApplyUnified(const std::string& dir,
                          const std::map<std::string, std::string>& unified) {
  for (const auto& [key, value] : unified) {
    BERTH_TRY(CheckUnifiedKey(key));
    if (dir.empty() || !PathExists(dir + "/" + key)) {
      return InvalidArgument(
          "unified resource " + key + ": this host's cgroup v2 hierarchy has no such file" +
          (dir.empty() ? " (no cgroup v2 mounted)" : " (its controller is not enabled)"));
    }
    BERTH_TRY(WriteKernelFile(dir + "/" + key, value));
  }
  return Ok();
}

namespace {

// memory.limit_in_bytes must stay <= memory.memsw.limit_in_bytes: raise them in the right order.
Result<void> ApplyV1Memory(const std::string& dir, const CgroupResources& resources) {
  std::string memsw = dir + "/memory.memsw.limit_in_bytes";
  bool swap = resources.memory_swap_limit_bytes > 0 && PathExists(memsw);
  if (resources.memory_limit_bytes <= 0) {
    if (swap) BERTH_TRY(WriteKernelFile(memsw, std::to_string(resources.memory_swap_limit_bytes)));
    return Ok();
  }
  std::string limit = std::to_string(resources.memory_limit_bytes);
  auto written = WriteKernelFile(dir + "/memory.limit_in_bytes", limit);
  if (!written.ok()) {
    if (!swap || written.error().sys_errno() != EINVAL) return written;
    BERTH_TRY(WriteKernelFile(memsw, std::to_string(resources.memory_swap_limit_bytes)));
    return WriteKernelFile(dir + "/memory.limit_in_bytes", limit);
  }
  if (swap) BERTH_TRY(WriteKernelFile(memsw, std::to_string(resources.memory_swap_limit_bytes)));
  return Ok();
}

Result<void> ApplyV1Devices(const std::string& dir, const std::vector<DeviceRule>& rules) {
  for (const auto& rule : rules) {
    BERTH_TRY(WriteKernelFile(dir + (rule.allow ? "/devices.allow" : "/devices.deny"),
                              DeviceRuleText(rule)));
  }
  return Ok();
}

}  // namespace

Result<void> ApplyV1(const std::string& controllers, const std::string& dir,
                     const CgroupResources& resources) {
  if (HasController(controllers, "cpu")) {
    if (resources.cpu_shares > 0)
      BERTH_TRY(WriteKernelFile(dir + "/cpu.shares", std::to_string(resources.cpu_shares)));
    if (resources.cpu_period > 0)
      BERTH_TRY(WriteKernelFile(dir + "/cpu.cfs_period_us", std::to_string(resources.cpu_period)));
    if (resources.cpu_quota != 0)
      BERTH_TRY(WriteKernelFile(dir + "/cpu.cfs_quota_us", std::to_string(resources.cpu_quota)));
  }
  if (HasController(controllers, "cpuset")) {
    if (!resources.cpuset_cpus.empty())
      BERTH_TRY(WriteKernelFile(dir + "/cpuset.cpus", resources.cpuset_cpus));
    if (!resources.cpuset_mems.empty())
      BERTH_TRY(WriteKernelFile(dir + "/cpuset.mems", resources.cpuset_mems));
  }
  if (HasController(controllers, "memory")) BERTH_TRY(ApplyV1Memory(dir, resources));
  if (HasController(controllers, "hugetlb")) {
    for (const auto& limit : resources.hugepage_limits) {
      BERTH_TRY(WriteKernelFile(dir + "/hugetlb." + limit.page_size + ".limit_in_bytes",
                                std::to_string(limit.limit_bytes)));
    }
  }
  if (HasController(controllers, "pids") && resources.pids_limit != 0) {
    BERTH_TRY(WriteKernelFile(dir + "/pids.max", PidsMax(resources.pids_limit)));
  }
  if (HasController(controllers, "devices")) BERTH_TRY(ApplyV1Devices(dir, resources.devices));
  return Ok();
}

Result<void> ApplyV2Files(const std::string& dir, const CgroupResources& resources) {
  if (resources.cpu_shares > 0)
    BERTH_TRY(
        WriteKernelFile(dir + "/cpu.weight", std::to_string(SharesToWeight(resources.cpu_shares))));
  if (resources.cpu_quota != 0 || resources.cpu_period > 0) {
    std::string quota = resources.cpu_quota > 0 ? std::to_string(resources.cpu_quota) : "max";
    std::string period = std::to_string(resources.cpu_period > 0 ? resources.cpu_period : 100000);
    BERTH_TRY(WriteKernelFile(dir + "/cpu.max", quota + " " + period));
  }
  if (!resources.cpuset_cpus.empty())
    BERTH_TRY(WriteKernelFile(dir + "/cpuset.cpus", resources.cpuset_cpus));
  if (!resources.cpuset_mems.empty())
    BERTH_TRY(WriteKernelFile(dir + "/cpuset.mems", resources.cpuset_mems));
  if (resources.memory_limit_bytes > 0) {
    BERTH_TRY(WriteKernelFile(dir + "/memory.max", std::to_string(resources.memory_limit_bytes)));
    // v2 limits swap alone; the CRI value is memory + swap, as on v1.
    if (resources.memory_swap_limit_bytes > 0 && PathExists(dir + "/memory.swap.max")) {
      BERTH_TRY(
          WriteKernelFile(dir + "/memory.swap.max", std::to_string(SwapOnlyLimit(resources))));
    }
  }
  if (resources.pids_limit != 0)
    BERTH_TRY(WriteKernelFile(dir + "/pids.max", PidsMax(resources.pids_limit)));
  return ApplyV2Hugetlb(dir, resources);
}

Result<void> ApplyV2Hugetlb(const std::string& dir, const CgroupResources& resources) {
  for (const auto& limit : resources.hugepage_limits) {
    std::string file = dir + "/hugetlb." + limit.page_size + ".max";
    if (PathExists(file)) BERTH_TRY(WriteKernelFile(file, std::to_string(limit.limit_bytes)));
  }
  return Ok();
}

}  // namespace cgroups_internal

std::vector<DeviceRule> DefaultDeviceRules() {
  return {
      {false, 'a', -1, -1, "rwm"},  // deny everything, then allow:
      {true, 'c', -1, -1, "m"},
      {true, 'b', -1, -1, "m"},     // mknod of any node (use still denied)
      {true, 'c', 1, 3, "rwm"},     // /dev/null
      {true, 'c', 1, 5, "rwm"},     // /dev/zero
      {true, 'c', 1, 7, "rwm"},     // /dev/full
      {true, 'c', 5, 0, "rwm"},     // /dev/tty
      {true, 'c', 1, 8, "rwm"},     // /dev/random
      {true, 'c', 1, 9, "rwm"},     // /dev/urandom
      {true, 'c', 5, 2, "rwm"},     // /dev/ptmx
      {true, 'c', 136, -1, "rwm"},  // /dev/pts/*
  };
}

std::string DeviceRuleText(const DeviceRule& rule) {
  if (rule.type == 'a') return "a";
  auto number = [](int64_t value) { return value < 0 ? std::string("*") : std::to_string(value); };
  return std::string(1, rule.type) + " " + number(rule.major) + ":" + number(rule.minor) + " " +
         rule.access;
}

}  // namespace berth::runtime
