#include "cri/rpc_edge.h"
#include "cri/rpc_helpers.h"
#include "cri/runtime_service.h"

namespace berth::cri {

// Removes the pod's containers too; an unknown pod is OK (kubelet retries).
grpc::Status RuntimeService::RemovePodSandbox(grpc::ServerContext*,
                                              const ::runtime::v1::RemovePodSandboxRequest* request,
                                              ::runtime::v1::RemovePodSandboxResponse*) {
  return Serve("RemovePodSandbox", [&]() -> Result<void> {
    BERTH_TRY(NeedSandboxId(request->pod_sandbox_id()));
    auto removed = sandboxes_.Remove(request->pod_sandbox_id());
    if (!removed) return removed.error().Wrap("remove pod sandbox " + request->pod_sandbox_id());
    return Ok();
  });
}

}  // namespace berth::cri
