#include "cri/rpc_edge.h"
#include "cri/rpc_helpers.h"
#include "cri/runtime_service.h"
#include "cri/stats_convert.h"

namespace berth::cri {

grpc::Status RuntimeService::ContainerStats(grpc::ServerContext*,
                                            const ::runtime::v1::ContainerStatsRequest* request,
                                            ::runtime::v1::ContainerStatsResponse* response) {
  return Serve("ContainerStats", [&]() -> Result<void> {
    BERTH_TRY(NeedContainerId(request->container_id()));
    BERTH_ASSIGN_OR_RETURN(pod::Container container, containers_.Get(request->container_id()));
    auto usages = containers_.Usage(ToUsageFilter(container.id, "", {}));
    if (usages.empty()) return NotFound("container gone");
    FillContainerStats(usages.front(), response->mutable_stats());
    return Ok();
  });
}

}  // namespace berth::cri
