// CreateContainer, StartContainer, StopContainer, RemoveContainer, ContainerStatus,
// ListContainers, StreamContainers, ReopenContainerLog, ExecSync, GetContainerEvents.
#include <chrono>

#include "cri/container_convert.h"
#include "cri/sandbox_convert.h"
#include "cri/runtime_service.h"
#include "cri/status_mapping.h"

namespace berth::cri {
namespace {

grpc::Status NeedId(const std::string& id) {
  if (id.empty()) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "container id is empty");
  return grpc::Status::OK;
}

}  // namespace

grpc::Status RuntimeService::CreateContainer(grpc::ServerContext*,
                                             const runtime::v1::CreateContainerRequest* request,
                                             runtime::v1::CreateContainerResponse* response) {
  if (request->pod_sandbox_id().empty()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "pod sandbox id is empty");
  }
  auto config = ToContainerConfig(request->config());
  if (!config) return ToGrpcStatus(config.error().Wrap("create container"));
  auto created = containers_.Create(request->pod_sandbox_id(), *config);
  if (!created) {
    return ToGrpcStatus(created.error().Wrap("create container \"" + config->name + "\" in pod " +
                                             request->pod_sandbox_id()));
  }
  response->set_container_id(created->id);
  return grpc::Status::OK;
}

grpc::Status RuntimeService::StartContainer(grpc::ServerContext*,
                                            const runtime::v1::StartContainerRequest* request,
                                            runtime::v1::StartContainerResponse*) {
  if (auto status = NeedId(request->container_id()); !status.ok()) return status;
  return ToGrpcStatus(containers_.Start(request->container_id()));
}

grpc::Status RuntimeService::StopContainer(grpc::ServerContext*,
                                           const runtime::v1::StopContainerRequest* request,
                                           runtime::v1::StopContainerResponse*) {
  if (auto status = NeedId(request->container_id()); !status.ok()) return status;
  return ToGrpcStatus(containers_.Stop(request->container_id(), request->timeout()));
}

grpc::Status RuntimeService::RemoveContainer(grpc::ServerContext*,
                                             const runtime::v1::RemoveContainerRequest* request,
                                             runtime::v1::RemoveContainerResponse*) {
  if (auto status = NeedId(request->container_id()); !status.ok()) return status;
  return ToGrpcStatus(containers_.Remove(request->container_id()));
}

grpc::Status RuntimeService::ContainerStatus(grpc::ServerContext*,
                                             const runtime::v1::ContainerStatusRequest* request,
                                             runtime::v1::ContainerStatusResponse* response) {
  if (auto status = NeedId(request->container_id()); !status.ok()) return status;
  auto container = containers_.Get(request->container_id());
  if (!container) return ToGrpcStatus(container.error());
  FillContainerStatus(*container, response->mutable_status());
  if (request->verbose()) {
    (*response->mutable_info())["info"] =
        "{\"bundle\":\"" + container->bundle_dir + "\",\"pid\":" +
        std::to_string(container->container_pid) + ",\"monitorPid\":" +
        std::to_string(container->monitor_pid) + ",\"cgroupPath\":\"" + container->cgroup_path +
        "\"}";
  }
  return grpc::Status::OK;
}

grpc::Status RuntimeService::ListContainers(grpc::ServerContext*,
                                            const runtime::v1::ListContainersRequest* request,
                                            runtime::v1::ListContainersResponse* response) {
  for (const auto& container : containers_.List(ToContainerFilter(request->filter()))) {
    FillContainer(container, response->add_containers());
  }
  return grpc::Status::OK;
}

grpc::Status RuntimeService::StreamContainers(
    grpc::ServerContext*, const runtime::v1::StreamContainersRequest* request,
    grpc::ServerWriter<runtime::v1::StreamContainersResponse>* writer) {
  // One message per batch keeps each well under gRPC's message size limit.
  constexpr int kBatch = 500;
  runtime::v1::StreamContainersResponse batch;
  for (const auto& container : containers_.List(ToContainerFilter(request->filter()))) {
    FillContainer(container, batch.add_containers());
    if (batch.containers_size() == kBatch) {
      if (!writer->Write(batch)) return grpc::Status(grpc::StatusCode::CANCELLED, "client went away");
      batch.Clear();
    }
  }
  if (batch.containers_size() > 0) writer->Write(batch);
  return grpc::Status::OK;
}

grpc::Status RuntimeService::ExecSync(grpc::ServerContext*,
                                      const runtime::v1::ExecSyncRequest* request,
                                      runtime::v1::ExecSyncResponse* response) {
  if (auto status = NeedId(request->container_id()); !status.ok()) return status;
  if (request->cmd().empty()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "ExecSync needs a command");
  }
  std::vector<std::string> args(request->cmd().begin(), request->cmd().end());
  // The runtime enforces the timeout (seconds; 0 means none), not the client's deadline.
  auto result = containers_.ExecSync(request->container_id(), args, request->timeout());
  if (!result) return ToGrpcStatus(result.error());
  response->set_stdout(result->stdout_data);
  response->set_stderr(result->stderr_data);
  response->set_exit_code(result->exit_code);
  return grpc::Status::OK;
}

grpc::Status RuntimeService::GetContainerEvents(
    grpc::ServerContext* context, const runtime::v1::GetEventsRequest*,
    grpc::ServerWriter<runtime::v1::ContainerEventResponse>* writer) {
  auto subscription = containers_.events().Subscribe();
  while (!context->IsCancelled() && !subscription->closed()) {
    auto event = subscription->Next(std::chrono::milliseconds(500));
    if (!event) continue;
    runtime::v1::ContainerEventResponse response;
    response.set_container_id(event->container_id);
    switch (event->type) {
      case pod::ContainerEventType::kCreated:
        response.set_container_event_type(runtime::v1::CONTAINER_CREATED_EVENT);
        break;
      case pod::ContainerEventType::kStarted:
        response.set_container_event_type(runtime::v1::CONTAINER_STARTED_EVENT);
        break;
      case pod::ContainerEventType::kStopped:
        response.set_container_event_type(runtime::v1::CONTAINER_STOPPED_EVENT);
        break;
      case pod::ContainerEventType::kDeleted:
        response.set_container_event_type(runtime::v1::CONTAINER_DELETED_EVENT);
        break;
    }
    response.set_created_at(event->at_nanos);
    // kubelet's evented PLEG wants the pod's status and its containers' with each event.
    if (auto sandbox = sandboxes_.Get(event->sandbox_id)) {
      FillSandboxStatus(*sandbox, response.mutable_pod_sandbox_status());
    }
    for (const auto& container : containers_.List({"", event->sandbox_id, std::nullopt, {}})) {
      FillContainerStatus(container, response.add_containers_statuses());
    }
    if (!writer->Write(response)) break;
  }
  containers_.events().Unsubscribe(subscription);
  return grpc::Status::OK;
}

grpc::Status RuntimeService::ReopenContainerLog(
    grpc::ServerContext*, const runtime::v1::ReopenContainerLogRequest* request,
    runtime::v1::ReopenContainerLogResponse*) {
  if (auto status = NeedId(request->container_id()); !status.ok()) return status;
  return ToGrpcStatus(containers_.ReopenLog(request->container_id()));
}

}  // namespace berth::cri
