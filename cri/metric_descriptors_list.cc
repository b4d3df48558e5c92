// ListMetricDescriptors: the metrics ListPodSandboxMetrics sends (cAdvisor's names; a static list).
#include "cri/metrics_convert.h"
#include "cri/rpc_edge.h"
#include "cri/runtime_service.h"

namespace berth::cri {

grpc::Status RuntimeService::ListMetricDescriptors(
    grpc::ServerContext*, const ::runtime::v1::ListMetricDescriptorsRequest*,
    ::runtime::v1::ListMetricDescriptorsResponse* response) {
  return Serve("ListMetricDescriptors", [&]() -> Result<void> {
    for (auto& descriptor : MetricDescriptors())
      *response->add_descriptors() = std::move(descriptor);
    return Ok();
  });
}

}  // namespace berth::cri
