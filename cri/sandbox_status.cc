#include <nlohmann/json.hpp>

#include "base/process_util.h"
#include "cri/rpc_edge.h"
#include "cri/runtime_service.h"
#include "cri/sandbox_convert.h"

namespace berth::cri {

grpc::Status RuntimeService::PodSandboxStatus(grpc::ServerContext*,
                                              const ::runtime::v1::PodSandboxStatusRequest* request,
                                              ::runtime::v1::PodSandboxStatusResponse* response) {
  return Serve("PodSandboxStatus", [&]() -> Result<void> {
    BERTH_ASSIGN_OR_RETURN(pod::Sandbox sandbox, sandboxes_.Get(request->pod_sandbox_id()));
    FillSandboxStatus(sandbox, response->mutable_status());
    response->set_timestamp(NowUnixNanos());
    if (request->verbose()) {
      nlohmann::json info = {{"dir", sandbox.dir},
                             {"netns", sandbox.HasOwnNetwork() ? sandbox.NetnsPath() : "host"},
                             {"hostname", sandbox.config.hostname},
                             {"cgroupPath", sandbox.cgroup_path},
                             {"ips", sandbox.ips},
                             {"sysctls", sandbox.config.sysctls},
                             {"network", network_.Describe()}};
      if (sandbox.init_pid > 0) info["initPid"] = sandbox.init_pid;
      (*response->mutable_info())["info"] = info.dump();
    }
    return Ok();
  });
}

}  // namespace berth::cri
