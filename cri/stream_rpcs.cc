// Exec, Attach and PortForward: the request is checked and its target resolved here, so that a
// missing or stopped container is a gRPC error before any URL is handed out; the streaming
// server then runs the session (cri/streaming/).
#include "cri/runtime_service.h"
#include "cri/status_mapping.h"

namespace berth::cri {
namespace {

grpc::Status Invalid(const std::string& message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, message);
}

// The container, which must be running.
Result<pod::Container> RunningContainer(pod::ContainerManager& containers, const std::string& id) {
  if (id.empty()) return InvalidArgument("container id is empty");
  return containers.GetRunning(id);
}

}  // namespace

grpc::Status RuntimeService::Exec(grpc::ServerContext*, const runtime::v1::ExecRequest* request,
                                  runtime::v1::ExecResponse* response) {
  if (request->cmd().empty()) return Invalid("exec: cmd is empty");
  // The CRI's rules (api.proto, ExecRequest).
  if (!request->stdin() && !request->stdout() && !request->stderr()) {
    return Invalid("exec: one of stdin, stdout and stderr must be requested");
  }
  if (request->tty() && request->stderr()) return Invalid("exec: with tty, stderr must be false");
  auto container = RunningContainer(containers_, request->container_id());
  if (!container) return ToGrpcStatus(container.error());
  streaming::ExecRequest exec{container->id, {request->cmd().begin(), request->cmd().end()}, request->tty(),
                              request->stdin(), request->stdout(), request->stderr()};
  auto url = streaming_.GetExecUrl(exec);
  if (!url) return ToGrpcStatus(url.error());
  response->set_url(*url);
  return grpc::Status::OK;
}

grpc::Status RuntimeService::Attach(grpc::ServerContext*, const runtime::v1::AttachRequest* request,
                                    runtime::v1::AttachResponse* response) {
  if (!request->stdin() && !request->stdout() && !request->stderr()) {
    return Invalid("attach: one of stdin, stdout and stderr must be requested");
  }
  if (request->tty() && request->stderr()) return Invalid("attach: with tty, stderr must be false");
  auto container = RunningContainer(containers_, request->container_id());
  if (!container) return ToGrpcStatus(container.error());
  if (request->stdin() && !container->config.stdin) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        "attach: container " + container->id + " was not created with stdin");
  }
  streaming::AttachRequest attach{container->id, request->tty(), request->stdin(), request->stdout(),
                                  request->stderr()};
  auto url = streaming_.GetAttachUrl(attach);
  if (!url) return ToGrpcStatus(url.error());
  response->set_url(*url);
  return grpc::Status::OK;
}

grpc::Status RuntimeService::PortForward(grpc::ServerContext*, const runtime::v1::PortForwardRequest* request,
                                         runtime::v1::PortForwardResponse* response) {
  if (request->pod_sandbox_id().empty()) return Invalid("port forward: pod sandbox id is empty");
  for (int32_t port : request->port()) {
    if (port <= 0 || port > 65535) return Invalid("port forward: port " + std::to_string(port) + " is out of range");
  }
  auto sandbox = sandboxes_.Get(request->pod_sandbox_id());
  if (!sandbox) return ToGrpcStatus(sandbox.error());
  if (sandbox->state != pod::SandboxState::kReady) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "pod sandbox " + sandbox->id + " is not ready");
  }
  streaming::PortForwardRequest forward{sandbox->id, {request->port().begin(), request->port().end()}};
  auto url = streaming_.GetPortForwardUrl(forward);
  if (!url) return ToGrpcStatus(url.error());
  response->set_url(*url);
  return grpc::Status::OK;
}

}  // namespace berth::cri
