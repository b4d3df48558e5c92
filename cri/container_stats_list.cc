#include "cri/rpc_edge.h"
#include "cri/runtime_service.h"
#include "cri/stats_convert.h"

namespace berth::cri {

grpc::Status RuntimeService::ListContainerStats(
    grpc::ServerContext*, const ::runtime::v1::ListContainerStatsRequest* request,
    ::runtime::v1::ListContainerStatsResponse* response) {
  return Serve("ListContainerStats", [&]() -> Result<void> {
    const auto& filter = request->filter();
    auto usages = containers_.Usage(
        ToUsageFilter(filter.id(), filter.pod_sandbox_id(), filter.label_selector()));
    for (const auto& usage : usages) FillContainerStats(usage, response->add_stats());
    return Ok();
  });
}

}  // namespace berth::cri
