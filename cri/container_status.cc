#include "cri/container_convert.h"
#include "cri/rpc_edge.h"
#include "cri/rpc_helpers.h"
#include "cri/runtime_service.h"

namespace berth::cri {

grpc::Status RuntimeService::ContainerStatus(grpc::ServerContext*,
                                             const runtime::v1::ContainerStatusRequest* request,
                                             runtime::v1::ContainerStatusResponse* response) {
  return Serve("ContainerStatus", [&]() -> Result<void> {
    BERTH_TRY(NeedContainerId(request->container_id()));
    BERTH_ASSIGN_OR_RETURN(pod::Container container, containers_.Get(request->container_id()));
    FillContainerStatus(container, response->mutable_status());
    if (request->verbose()) {
      (*response->mutable_info())["info"] =
          "{\"bundle\":\"" + container.bundle_dir +
          "\",\"pid\":" + std::to_string(container.container_pid) +
          ",\"monitorPid\":" + std::to_string(container.monitor_pid) + ",\"cgroupPath\":\"" +
          container.cgroup_path + "\"}";
    }
    return Ok();
  });
}

}  // namespace berth::cri
