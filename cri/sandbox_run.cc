#include "cri/runtime_service.h"
#include "cri/sandbox_convert.h"
#include "cri/status_mapping.h"

namespace berth::cri {

grpc::Status RuntimeService::RunPodSandbox(grpc::ServerContext*,
                                           const runtime::v1::RunPodSandboxRequest* request,
                                           runtime::v1::RunPodSandboxResponse* response) {
  if (!request->has_config()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "RunPodSandbox needs a config");
  }
  auto config = ToSandboxConfig(request->config(), request->runtime_handler());
  if (!config) return ToGrpcStatus(config.error().Wrap("run pod sandbox"));
  auto sandbox = sandboxes_.Run(*config);
  if (!sandbox) {
    return ToGrpcStatus(sandbox.error().Wrap("run pod sandbox " + config->namespace_name + "/" +
                                             config->name));
  }
  response->set_pod_sandbox_id(sandbox->id);
  return grpc::Status::OK;
}

grpc::Status RuntimeService::StopPodSandbox(grpc::ServerContext*,
                                            const runtime::v1::StopPodSandboxRequest* request,
                                            runtime::v1::StopPodSandboxResponse*) {
  if (request->pod_sandbox_id().empty()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "pod sandbox id is empty");
  }
  auto stopped = sandboxes_.Stop(request->pod_sandbox_id());
  if (!stopped) return ToGrpcStatus(stopped.error().Wrap("stop pod sandbox " + request->pod_sandbox_id()));
  return grpc::Status::OK;
}

grpc::Status RuntimeService::RemovePodSandbox(grpc::ServerContext*,
                                              const runtime::v1::RemovePodSandboxRequest* request,
                                              runtime::v1::RemovePodSandboxResponse*) {
  if (request->pod_sandbox_id().empty()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "pod sandbox id is empty");
  }
  auto removed = sandboxes_.Remove(request->pod_sandbox_id());
  if (!removed) {
    return ToGrpcStatus(removed.error().Wrap("remove pod sandbox " + request->pod_sandbox_id()));
  }
  return grpc::Status::OK;
}

}  // namespace berth::cri
