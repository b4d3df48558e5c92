#include "cri/rpc_edge.h"
#include "cri/rpc_helpers.h"
#include "cri/runtime_service.h"

namespace berth::cri {

// A running container is force-stopped first; one that is gone is OK.
grpc::Status RuntimeService::RemoveContainer(grpc::ServerContext*,
                                             const ::runtime::v1::RemoveContainerRequest* request,
                                             ::runtime::v1::RemoveContainerResponse*) {
  return Serve("RemoveContainer", [&]() -> Result<void> {
    BERTH_TRY(NeedContainerId(request->container_id()));
    return containers_.Remove(request->container_id());
  });
}

}  // namespace berth::cri
