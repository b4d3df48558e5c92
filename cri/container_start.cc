#include "cri/rpc_edge.h"
#include "cri/rpc_helpers.h"
#include "cri/runtime_service.h"

namespace berth::cri {

grpc::Status RuntimeService::StartContainer(grpc::ServerContext*,
                                            const ::runtime::v1::StartContainerRequest* request,
                                            ::runtime::v1::StartContainerResponse*) {
  return Serve("StartContainer", [&]() -> Result<void> {
    BERTH_TRY(NeedContainerId(request->container_id()));
    return containers_.Start(request->container_id());
  });
}

}  // namespace berth::cri
