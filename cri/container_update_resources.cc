#include "cri/container_convert.h"
#include "cri/rpc_edge.h"
#include "cri/rpc_helpers.h"
#include "cri/runtime_service.h"

namespace berth::cri {

// Every resource CreateContainer takes, applied to the live cgroup.
grpc::Status RuntimeService::UpdateContainerResources(
    grpc::ServerContext*, const ::runtime::v1::UpdateContainerResourcesRequest* request,
    ::runtime::v1::UpdateContainerResourcesResponse*) {
  return Serve("UpdateContainerResources", [&]() -> Result<void> {
    BERTH_TRY(NeedContainerId(request->container_id()));
    return containers_.UpdateResources(request->container_id(),
                                       ToContainerResources(request->linux()));
  });
}

}  // namespace berth::cri
