// StreamContainers: ListContainers as a server stream, in batches.
#include "cri/container_convert.h"
#include "cri/rpc_edge.h"
#include "cri/rpc_helpers.h"
#include "cri/runtime_service.h"

namespace berth::cri {

grpc::Status RuntimeService::StreamContainers(
    grpc::ServerContext*, const ::runtime::v1::StreamContainersRequest* request,
    grpc::ServerWriter<::runtime::v1::StreamContainersResponse>* writer) {
  return Serve("StreamContainers", [&]() -> Result<void> {
    return WriteInBatches(writer, containers_.List(ToContainerFilter(request->filter())),
                          [](const pod::Container& container, auto& batch) {
                            FillContainer(container, batch.add_containers());
                          });
  });
}

}  // namespace berth::cri
