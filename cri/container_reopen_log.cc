#include "cri/rpc_edge.h"
#include "cri/rpc_helpers.h"
#include "cri/runtime_service.h"

namespace berth::cri {

// After kubelet rotated the log: the container's monitor reopens the same path.
grpc::Status RuntimeService::ReopenContainerLog(
    grpc::ServerContext*, const ::runtime::v1::ReopenContainerLogRequest* request,
    ::runtime::v1::ReopenContainerLogResponse*) {
  return Serve("ReopenContainerLog", [&]() -> Result<void> {
    BERTH_TRY(NeedContainerId(request->container_id()));
    return containers_.ReopenLog(request->container_id());
  });
}

}  // namespace berth::cri
