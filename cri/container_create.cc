// CreateContainer: the CRI config translated and checked (container_convert.cc), then the
// container made by pod::ContainerManager.
#include "base/cancel.h"
#include "cri/container_convert.h"
#include "cri/rpc_edge.h"
#include "cri/rpc_helpers.h"
#include "cri/runtime_service.h"

namespace berth::cri {

grpc::Status RuntimeService::CreateContainer(grpc::ServerContext* context,
                                             const ::runtime::v1::CreateContainerRequest* request,
                                             ::runtime::v1::CreateContainerResponse* response) {
  return Serve("CreateContainer", [&]() -> Result<void> {
    BERTH_TRY(NeedSandboxId(request->pod_sandbox_id()));
    auto config = ToContainerConfig(request->config());
    if (!config) return config.error().Wrap("create container");
    // The caller's deadline: a container that outlives it is kept for kubelet's retry.
    auto created =
        containers_.Create(request->pod_sandbox_id(), *config, CancelToken(context->deadline()));
    if (!created) {
      return created.error().Wrap("create container \"" + config->name + "\" in pod " +
                                  request->pod_sandbox_id());
    }
    response->set_container_id(created->id);
    return Ok();
  });
}

}  // namespace berth::cri
