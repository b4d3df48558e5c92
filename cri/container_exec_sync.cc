#include "cri/rpc_edge.h"
#include "cri/rpc_helpers.h"
#include "cri/runtime_service.h"

namespace berth::cri {

grpc::Status RuntimeService::ExecSync(grpc::ServerContext*,
                                      const ::runtime::v1::ExecSyncRequest* request,
                                      ::runtime::v1::ExecSyncResponse* response) {
  return Serve("ExecSync", [&]() -> Result<void> {
    BERTH_TRY(NeedContainerId(request->container_id()));
    if (request->cmd().empty()) return InvalidArgument("ExecSync needs a command");
    std::vector<std::string> args(request->cmd().begin(), request->cmd().end());
    // The runtime enforces the timeout (seconds; 0 means none), not the client's deadline.
    BERTH_ASSIGN_OR_RETURN(auto result,
                           containers_.ExecSync(request->container_id(), args, request->timeout()));
    // Output and exit code even for a non-zero exit: the client judges the code.
    response->set_stdout(result.stdout_data);
    response->set_stderr(result.stderr_data);
    response->set_exit_code(result.exit_code);
    return Ok();
  });
}

}  // namespace berth::cri
