// The names of berthd's metrics and their definitions in a registry (README: "Metrics").
#pragma once

#include "metrics/registry.h"

namespace berth::metrics {

inline constexpr char kRpcDuration[] = "berth_cri_rpc_duration_seconds";
inline constexpr char kRpcErrors[] = "berth_cri_rpc_errors_total";
inline constexpr char kPods[] = "berth_pod_sandboxes";
inline constexpr char kContainers[] = "berth_containers";
inline constexpr char kMonitors[] = "berth_container_monitors";
inline constexpr char kImages[] = "berth_images";
inline constexpr char kImageStoreBytes[] = "berth_image_store_bytes";
inline constexpr char kPulls[] = "berth_image_pulls_total";
inline constexpr char kPullDuration[] = "berth_image_pull_duration_seconds";
inline constexpr char kPullBytes[] = "berth_image_pull_bytes_total";
inline constexpr char kResidentMemory[] = "process_resident_memory_bytes";
inline constexpr char kOpenFds[] = "process_open_fds";
inline constexpr char kMaxFds[] = "process_max_fds";
inline constexpr char kThreads[] = "process_threads";
inline constexpr char kCpuSeconds[] = "process_cpu_seconds_total";
inline constexpr char kStartTime[] = "process_start_time_seconds";

// Defines every family above (so that a scrape shows each one from the start) and adds the
// collector of the process_* gauges, read from /proc/self.
void DefineBerthMetrics(Registry& registry);

// A gRPC status code's name as the metrics label it ("OK", "NOT_FOUND", ...).
const char* GrpcCodeName(int code);

}  // namespace berth::metrics
