// Attach: checked and resolved here (a missing or stopped container is an error before any
// URL); the streaming server attaches through the container's monitor.
#include "cri/rpc_edge.h"
#include "cri/rpc_helpers.h"
#include "cri/runtime_service.h"

namespace berth::cri {

grpc::Status RuntimeService::Attach(grpc::ServerContext*,
                                    const ::runtime::v1::AttachRequest* request,
                                    ::runtime::v1::AttachResponse* response) {
  return Serve("Attach", [&]() -> Result<void> {
    BERTH_TRY(CheckStreams("attach", request->stdin(), request->stdout(), request->stderr(),
                           request->tty()));
    BERTH_TRY(NeedContainerId(request->container_id()));
    BERTH_ASSIGN_OR_RETURN(pod::Container container,
                           containers_.GetRunning(request->container_id()));
    if (request->stdin() && !container.config.stdin) {
      return FailedPrecondition("attach: container " + container.id +
                                " was not created with stdin");
    }
    streaming::AttachRequest attach{container.id, request->tty(), request->stdin(),
                                    request->stdout(), request->stderr()};
    BERTH_ASSIGN_OR_RETURN(std::string url, streaming_.GetAttachUrl(attach));
    response->set_url(url);
    return Ok();
  });
}

}  // namespace berth::cri
