#include "cri/rpc_edge.h"
#include "cri/runtime_service.h"

namespace berth::cri {

// The pod CIDR becomes the built-in network's subnet for new pods.
grpc::Status RuntimeService::UpdateRuntimeConfig(
    grpc::ServerContext*, const ::runtime::v1::UpdateRuntimeConfigRequest* request,
    ::runtime::v1::UpdateRuntimeConfigResponse*) {
  return Serve("UpdateRuntimeConfig", [&]() -> Result<void> {
    const std::string& cidr = request->runtime_config().network_config().pod_cidr();
    // kubelet sends an empty config too; only a pod CIDR changes anything.
    if (cidr.empty()) return Ok();
    return network_.SetPodCidr(cidr);
  });
}

}  // namespace berth::cri
