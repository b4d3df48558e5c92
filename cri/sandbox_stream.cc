// StreamPodSandboxes: ListPodSandbox as a server stream, in batches.
#include "cri/rpc_edge.h"
#include "cri/rpc_helpers.h"
#include "cri/runtime_service.h"
#include "cri/sandbox_convert.h"

namespace berth::cri {

grpc::Status RuntimeService::StreamPodSandboxes(
    grpc::ServerContext*, const ::runtime::v1::StreamPodSandboxesRequest* request,
    grpc::ServerWriter<::runtime::v1::StreamPodSandboxesResponse>* writer) {
  return Serve("StreamPodSandboxes", [&]() -> Result<void> {
    return WriteInBatches(writer, sandboxes_.List(ToSandboxFilter(request->filter())),
                          [](const pod::Sandbox& sandbox, auto& batch) {
                            FillSandbox(sandbox, batch.add_pod_sandboxes());
                          });
  });
}

}  // namespace berth::cri
