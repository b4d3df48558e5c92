#include "cri/rpc_edge.h"
#include "cri/runtime_service.h"
#include "cri/sandbox_convert.h"

namespace berth::cri {

grpc::Status RuntimeService::ListPodSandbox(grpc::ServerContext*,
                                            const ::runtime::v1::ListPodSandboxRequest* request,
                                            ::runtime::v1::ListPodSandboxResponse* response) {
  return Serve("ListPodSandbox", [&]() -> Result<void> {
    for (const auto& sandbox : sandboxes_.List(ToSandboxFilter(request->filter()))) {
      FillSandbox(sandbox, response->add_items());
    }
    return Ok();
  });
}

}  // namespace berth::cri
