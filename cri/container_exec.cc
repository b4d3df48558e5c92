// Exec: the request is checked and its container resolved here, so that a missing or stopped
// container is an error before any URL is handed out; the streaming server (cri/streaming/)
// then runs the session behind the single-use URL.
#include "cri/rpc_edge.h"
#include "cri/rpc_helpers.h"
#include "cri/runtime_service.h"

namespace berth::cri {

grpc::Status RuntimeService::Exec(grpc::ServerContext*, const ::runtime::v1::ExecRequest* request,
                                  ::runtime::v1::ExecResponse* response) {
  return Serve("Exec", [&]() -> Result<void> {
    if (request->cmd().empty()) return InvalidArgument("exec: cmd is empty");
    BERTH_TRY(CheckStreams("exec", request->stdin(), request->stdout(), request->stderr(),
                           request->tty()));
    BERTH_TRY(NeedContainerId(request->container_id()));
    BERTH_ASSIGN_OR_RETURN(pod::Container container,
                           containers_.GetRunning(request->container_id()));
    streaming::ExecRequest exec{container.id,      {request->cmd().begin(), request->cmd().end()},
                                request->tty(),    request->stdin(),
                                request->stdout(), request->stderr()};
    BERTH_ASSIGN_OR_RETURN(std::string url, streaming_.GetExecUrl(exec));
    response->set_url(url);
    return Ok();
  });
}

}  // namespace berth::cri
