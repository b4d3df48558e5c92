// ListMetricDescriptors / ListPodSandboxMetrics: pod and container usage as metrics with the
// names cAdvisor gives them (container_cpu_usage_seconds_total, container_memory_working_set_bytes,
// container_network_receive_bytes_total, container_fs_usage_bytes, ...), which kubelet's CRI stats
// path serves on /metrics/cadvisor. Each metric's label_values follow its descriptor's label_keys;
// kubelet appends namespace, pod and container itself.
#pragma once

#include <optional>
#include <vector>

#include "cri_api.h"
#include "pod/container_manager.h"
#include "pod/sandbox.h"
#include "pod/sandbox_stats.h"

namespace berth::cri {

// Every metric ListPodSandboxMetrics may send; the same list for the daemon's lifetime (the CRI
// asks for a static list).
std::vector<::runtime::v1::MetricDescriptor> MetricDescriptors();

// One pod's metrics: its network interface's counters at pod level (`network`, when it has its
// own), each container's cgroup, writable layer and spec values at container level.
void FillPodMetrics(const pod::Sandbox& sandbox, const std::vector<pod::ContainerUsage>& containers,
                    const std::optional<pod::InterfaceCounters>& network,
                    ::runtime::v1::PodSandboxMetrics* out);

}  // namespace berth::cri
