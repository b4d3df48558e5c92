// RunPodSandbox: the CRI config translated and checked (sandbox_convert.cc), then every step of
// pod::SandboxManager::Run, each undone on failure.
#include "base/cancel.h"
#include "cri/rpc_edge.h"
#include "cri/runtime_service.h"
#include "cri/sandbox_convert.h"

namespace berth::cri {

grpc::Status RuntimeService::RunPodSandbox(grpc::ServerContext* context,
                                           const ::runtime::v1::RunPodSandboxRequest* request,
                                           ::runtime::v1::RunPodSandboxResponse* response) {
  return Serve("RunPodSandbox", [&]() -> Result<void> {
    if (!request->has_config()) return InvalidArgument("RunPodSandbox needs a config");
    auto config = ToSandboxConfig(request->config(), request->runtime_handler());
    if (!config) return config.error().Wrap("run pod sandbox");
    // The caller's deadline: a sandbox that outlives it is kept for kubelet's retry.
    auto sandbox = sandboxes_.Run(*config, CancelToken(context->deadline()));
    if (!sandbox) {
      return sandbox.error().Wrap("run pod sandbox " + config->namespace_name + "/" + config->name);
    }
    response->set_pod_sandbox_id(sandbox->id);
    return Ok();
  });
}

}  // namespace berth::cri
