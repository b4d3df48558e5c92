#include "cri/rpc_edge.h"
#include "cri/rpc_helpers.h"
#include "cri/runtime_service.h"

namespace berth::cri {

// Stops the pod's containers too; an unknown pod is OK (kubelet retries).
grpc::Status RuntimeService::StopPodSandbox(grpc::ServerContext*,
                                            const ::runtime::v1::StopPodSandboxRequest* request,
                                            ::runtime::v1::StopPodSandboxResponse*) {
  return Serve("StopPodSandbox", [&]() -> Result<void> {
    BERTH_TRY(NeedSandboxId(request->pod_sandbox_id()));
    auto stopped = sandboxes_.Stop(request->pod_sandbox_id());
    if (!stopped) return stopped.error().Wrap("stop pod sandbox " + request->pod_sandbox_id());
    return Ok();
  });
}

}  // namespace berth::cri
