#include "cri/rpc_edge.h"
#include "cri/rpc_helpers.h"
#include "cri/runtime_service.h"

namespace berth::cri {

// The image's STOPSIGNAL, then SIGKILL after `timeout` seconds; a container that is gone is OK.
grpc::Status RuntimeService::StopContainer(grpc::ServerContext*,
                                           const ::runtime::v1::StopContainerRequest* request,
                                           ::runtime::v1::StopContainerResponse*) {
  return Serve("StopContainer", [&]() -> Result<void> {
    BERTH_TRY(NeedContainerId(request->container_id()));
    return containers_.Stop(request->container_id(), request->timeout());
  });
}

}  // namespace berth::cri
