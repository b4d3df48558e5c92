#include "cri/rpc_edge.h"
#include "cri/runtime_service.h"
#include "cri/stats_convert.h"

namespace berth::cri {

grpc::Status RuntimeService::ListPodSandboxStats(
    grpc::ServerContext*, const ::runtime::v1::ListPodSandboxStatsRequest* request,
    ::runtime::v1::ListPodSandboxStatsResponse* response) {
  return Serve("ListPodSandboxStats", [&]() -> Result<void> {
    pod::SandboxFilter filter;
    filter.id = request->filter().id();
    filter.label_selector.insert(request->filter().label_selector().begin(),
                                 request->filter().label_selector().end());
    for (const auto& sandbox : sandboxes_.List(filter)) {
      FillPodStats(sandbox, containers_.Usage(ToUsageFilter("", sandbox.id, {})),
                   response->add_stats());
    }
    return Ok();
  });
}

}  // namespace berth::cri
