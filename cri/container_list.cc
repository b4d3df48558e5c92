#include "cri/container_convert.h"
#include "cri/rpc_edge.h"
#include "cri/runtime_service.h"

namespace berth::cri {

grpc::Status RuntimeService::ListContainers(grpc::ServerContext*,
                                            const ::runtime::v1::ListContainersRequest* request,
                                            ::runtime::v1::ListContainersResponse* response) {
  return Serve("ListContainers", [&]() -> Result<void> {
    for (const auto& container : containers_.List(ToContainerFilter(request->filter()))) {
      FillContainer(container, response->add_containers());
    }
    return Ok();
  });
}

}  // namespace berth::cri
