// ListPodSandboxMetrics and StreamPodSandboxMetrics: every pod's metrics (metrics_convert.h),
// from the cgroups (v1 or v2) of its containers, their writable layers and the pod's interface.
#include "cri/metrics_convert.h"
#include "cri/rpc_edge.h"
#include "cri/rpc_helpers.h"
#include "cri/runtime_service.h"
#include "cri/stats_convert.h"

namespace berth::cri {
namespace {

// eth0's counters, read inside the pod's network namespace (a ready pod with its own network).
std::optional<pod::InterfaceCounters> PodNetwork(const pod::Sandbox& sandbox) {
  if (!sandbox.HasOwnNetwork() || sandbox.state != pod::SandboxState::kReady) return std::nullopt;
  auto counters = pod::ReadInterfaceCounters(sandbox.NetnsPath(), "eth0");
  if (!counters) return std::nullopt;
  return *counters;
}

}  // namespace

void RuntimeService::FillSandboxMetrics(const pod::Sandbox& sandbox,
                                        ::runtime::v1::PodSandboxMetrics* out) {
  FillPodMetrics(sandbox, containers_.Usage(ToUsageFilter("", sandbox.id, {})), PodNetwork(sandbox),
                 out);
}

grpc::Status RuntimeService::ListPodSandboxMetrics(
    grpc::ServerContext*, const ::runtime::v1::ListPodSandboxMetricsRequest*,
    ::runtime::v1::ListPodSandboxMetricsResponse* response) {
  return Serve("ListPodSandboxMetrics", [&]() -> Result<void> {
    for (const auto& sandbox : sandboxes_.List({})) {
      FillSandboxMetrics(sandbox, response->add_pod_metrics());
    }
    return Ok();
  });
}

grpc::Status RuntimeService::StreamPodSandboxMetrics(
    grpc::ServerContext*, const ::runtime::v1::StreamPodSandboxMetricsRequest*,
    grpc::ServerWriter<::runtime::v1::StreamPodSandboxMetricsResponse>* writer) {
  return Serve("StreamPodSandboxMetrics", [&]() -> Result<void> {
    return WriteInBatches(writer, sandboxes_.List({}),
                          [this](const pod::Sandbox& sandbox, auto& batch) {
                            FillSandboxMetrics(sandbox, batch.add_pod_sandbox_metrics());
                          });
  });
}

}  // namespace berth::cri
