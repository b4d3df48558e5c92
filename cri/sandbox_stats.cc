#include "cri/rpc_edge.h"
#include "cri/runtime_service.h"
#include "cri/stats_convert.h"

namespace berth::cri {

grpc::Status RuntimeService::PodSandboxStats(grpc::ServerContext*,
                                             const ::runtime::v1::PodSandboxStatsRequest* request,
                                             ::runtime::v1::PodSandboxStatsResponse* response) {
  return Serve("PodSandboxStats", [&]() -> Result<void> {
    BERTH_ASSIGN_OR_RETURN(pod::Sandbox sandbox, sandboxes_.Get(request->pod_sandbox_id()));
    FillPodStats(sandbox, containers_.Usage(ToUsageFilter("", sandbox.id, {})),
                 response->mutable_stats());
    return Ok();
  });
}

}  // namespace berth::cri
