#include "metrics/berth_metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <ctime>
#include <iterator>
#include <sstream>
#include <string>

#include "base/file_util.h"

namespace berth::metrics {
namespace {

void CollectProcessUnchecked(Registry& registry) {
  // /proc/self/status: VmRSS in kB, Threads.
  if (auto status = ReadFile("/proc/self/status", 64 << 10)) {
    std::istringstream lines(*status);
    for (std::string line; std::getline(lines, line);) {
      std::istringstream fields(line);
      std::string key;
      double value = 0;
      fields >> key >> value;
      if (key == "VmRSS:") registry.Set(kResidentMemory, {}, value * 1024);
      if (key == "Threads:") registry.Set(kThreads, {}, value);
    }
  }
  int fds = 0;
  if (DIR* dir = ::opendir("/proc/self/fd")) {
    while (dirent* entry = ::readdir(dir)) fds += entry->d_name[0] != '.';
    ::closedir(dir);
    registry.Set(kOpenFds, {}, fds - 1);  // not the directory's own fd
  }
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    registry.Set(kMaxFds, {}, static_cast<double>(limit.rlim_cur));
  }
  // /proc/self/stat: utime and stime (fields 14, 15) in clock ticks, starttime (22) in ticks
  // since boot. The command name (field 2) may hold spaces: fields count after its ')'.
  auto stat = ReadFile("/proc/self/stat", 4 << 10);
  auto uptime = ReadFile("/proc/uptime", 4 << 10);
  if (stat && stat->rfind(')') != std::string::npos) {
    std::istringstream fields(stat->substr(stat->rfind(')') + 2));
    std::string field;
    double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
    double utime = 0, stime = 0, start = 0;
    for (int index = 3; fields >> field; ++index) {
      if (index == 14) utime = std::stod(field);
      if (index == 15) stime = std::stod(field);
      if (index == 22) {
        start = std::stod(field);
        break;
      }
    }
    registry.Set(kCpuSeconds, {}, (utime + stime) / ticks);
    if (uptime) {
      double since_boot = std::stod(*uptime);
      double now = static_cast<double>(::time(nullptr));
      registry.Set(kStartTime, {}, now - since_boot + start / ticks);
    }
  }
}

// The kernel's text is trusted, but a parse error must not end the endpoint's thread.
void CollectProcess(Registry& registry) {
  try {
    CollectProcessUnchecked(registry);
  } catch (const std::exception&) {
  }
}

}  // namespace

void DefineBerthMetrics(Registry& registry) {
  const std::vector<double> rpc_buckets = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                           1,     2.5,   5,    10,    30,   60,  120};
  registry.DefineHistogram(
      kRpcDuration, "Duration of CRI calls, by service, method and gRPC status code.", rpc_buckets);
  registry.DefineCounter(kRpcErrors,
                         "CRI calls that failed, by service, method and gRPC status code.");
  registry.DefineGauge(kPods, "Pod sandboxes, by state (ready, notready).");
  registry.DefineGauge(kContainers, "Containers, by state (created, running, exited, unknown).");
  registry.DefineGauge(
      kMonitors, "Container monitor processes berthd supervises (created or running containers).");
  registry.DefineGauge(kImages, "Images in the image store.");
  registry.DefineGauge(kImageStoreBytes,
                       "Bytes of the image store: the sizes of its images (manifest, config, "
                       "compressed layers) added up.");
  registry.DefineCounter(kPulls, "PullImage calls, by result (success, failure).");
  registry.DefineHistogram(kPullDuration, "Duration of PullImage calls, by result.",
                           {0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600});
  registry.DefineCounter(
      kPullBytes, "Sizes of the images successfully pulled (manifest, config, compressed layers).");
  registry.DefineGauge(kResidentMemory, "Resident memory of berthd in bytes.");
  registry.DefineGauge(kOpenFds, "Open file descriptors of berthd.");
  registry.DefineGauge(kMaxFds, "berthd's limit of open file descriptors.");
  registry.DefineGauge(kThreads, "Threads of berthd.");
  registry.DefineGauge(kCpuSeconds, "User and system CPU time of berthd in seconds.");
  registry.DefineGauge(kStartTime, "Start time of berthd since the epoch in seconds.");
  registry.AddCollector(CollectProcess);
}

const char* GrpcCodeName(int code) {
  static const char* const kNames[] = {"OK",
                                       "CANCELLED",
                                       "UNKNOWN",
                                       "INVALID_ARGUMENT",
                                       "DEADLINE_EXCEEDED",
                                       "NOT_FOUND",
                                       "ALREADY_EXISTS",
                                       "PERMISSION_DENIED",
                                       "RESOURCE_EXHAUSTED",
                                       "FAILED_PRECONDITION",
                                       "ABORTED",
                                       "OUT_OF_RANGE",
                                       "UNIMPLEMENTED",
                                       "INTERNAL",
                                       "UNAVAILABLE",
                                       "DATA_LOSS",
                                       "UNAUTHENTICATED"};
  if (code < 0 || code >= static_cast<int>(std::size(kNames))) return "UNKNOWN";
  return kNames[code];
}

}  // namespace berth::metrics
