// UpdatePodSandboxResources (pod-level resources, Kubernetes 1.34+): kubelet has resized the pod
// cgroup already; berth records the new limits and applies them to the pod cgroup it knows.
#include "cri/rpc_edge.h"
#include "cri/rpc_helpers.h"
#include "cri/runtime_service.h"
#include "cri/sandbox_convert.h"

namespace berth::cri {

grpc::Status RuntimeService::UpdatePodSandboxResources(
    grpc::ServerContext*, const ::runtime::v1::UpdatePodSandboxResourcesRequest* request,
    ::runtime::v1::UpdatePodSandboxResourcesResponse*) {
  return Serve("UpdatePodSandboxResources", [&]() -> Result<void> {
    if (request->pod_sandbox_id().empty()) return InvalidArgument("pod_sandbox_id is required");
    return sandboxes_.UpdateResources(
        request->pod_sandbox_id(),
        ToPodLimits(request->has_resources() ? &request->resources() : nullptr,
                    request->has_overhead() ? &request->overhead() : nullptr));
  });
}

}  // namespace berth::cri
