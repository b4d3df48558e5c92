// PortForward: the pod must be ready; the streaming server dials each port inside the pod's
// network namespace (container_streams.cc).
#include "cri/rpc_edge.h"
#include "cri/rpc_helpers.h"
#include "cri/runtime_service.h"

namespace berth::cri {

grpc::Status RuntimeService::PortForward(grpc::ServerContext*,
                                         const ::runtime::v1::PortForwardRequest* request,
                                         ::runtime::v1::PortForwardResponse* response) {
  return Serve("PortForward", [&]() -> Result<void> {
    if (request->pod_sandbox_id().empty()) {
      return InvalidArgument("port forward: pod sandbox id is empty");
    }
    for (int32_t port : request->port()) {
      auto checked = CheckPort(port);
      if (!checked) return checked.error().Wrap("port forward");
    }
    BERTH_ASSIGN_OR_RETURN(pod::Sandbox sandbox, sandboxes_.Get(request->pod_sandbox_id()));
    if (sandbox.state != pod::SandboxState::kReady) {
      return FailedPrecondition("pod sandbox " + sandbox.id + " is not ready");
    }
    streaming::PortForwardRequest forward{sandbox.id,
                                          {request->port().begin(), request->port().end()}};
    BERTH_ASSIGN_OR_RETURN(std::string url, streaming_.GetPortForwardUrl(forward));
    response->set_url(url);
    return Ok();
  });
}

}  // namespace berth::cri
