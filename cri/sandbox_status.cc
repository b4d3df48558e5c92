#include <nlohmann/json.hpp>

#include "base/process_util.h"
#include "cri/runtime_service.h"
#include "cri/sandbox_convert.h"
#include "cri/status_mapping.h"

namespace berth::cri {
namespace {

pod::SandboxFilter ToFilter(const runtime::v1::PodSandboxFilter& filter) {
  pod::SandboxFilter out;
  out.id = filter.id();
  if (filter.has_state()) {
    out.state = filter.state().state() == runtime::v1::SANDBOX_READY ? pod::SandboxState::kReady
                                                                     : pod::SandboxState::kNotReady;
  }
  out.label_selector.insert(filter.label_selector().begin(), filter.label_selector().end());
  return out;
}

}  // namespace

grpc::Status RuntimeService::PodSandboxStatus(grpc::ServerContext*,
                                              const runtime::v1::PodSandboxStatusRequest* request,
                                              runtime::v1::PodSandboxStatusResponse* response) {
  auto sandbox = sandboxes_.Get(request->pod_sandbox_id());
  if (!sandbox) return ToGrpcStatus(sandbox.error());
  FillSandboxStatus(*sandbox, response->mutable_status());
  response->set_timestamp(NowUnixNanos());
  if (request->verbose()) {
    nlohmann::json info = {{"dir", sandbox->dir},
                           {"netns", sandbox->HasOwnNetwork() ? sandbox->NetnsPath() : "host"},
                           {"hostname", sandbox->config.hostname},
                           {"cgroupPath", sandbox->cgroup_path},
                           {"ips", sandbox->ips},
                           {"sysctls", sandbox->config.sysctls},
                           {"network", network_.Describe()}};
    if (sandbox->init_pid > 0) info["initPid"] = sandbox->init_pid;
    (*response->mutable_info())["info"] = info.dump();
  }
  return grpc::Status::OK;
}

grpc::Status RuntimeService::ListPodSandbox(grpc::ServerContext*,
                                            const runtime::v1::ListPodSandboxRequest* request,
                                            runtime::v1::ListPodSandboxResponse* response) {
  for (const auto& sandbox : sandboxes_.List(ToFilter(request->filter()))) {
    FillSandbox(sandbox, response->add_items());
  }
  return grpc::Status::OK;
}

grpc::Status RuntimeService::StreamPodSandboxes(
    grpc::ServerContext*, const runtime::v1::StreamPodSandboxesRequest* request,
    grpc::ServerWriter<runtime::v1::StreamPodSandboxesResponse>* writer) {
  // One message per batch keeps each well under gRPC's message size limit.
  constexpr int kBatch = 500;
  runtime::v1::StreamPodSandboxesResponse batch;
  for (const auto& sandbox : sandboxes_.List(ToFilter(request->filter()))) {
    FillSandbox(sandbox, batch.add_pod_sandboxes());
    if (batch.pod_sandboxes_size() == kBatch) {
      if (!writer->Write(batch)) return grpc::Status(grpc::StatusCode::CANCELLED, "client went away");
      batch.Clear();
    }
  }
  if (batch.pod_sandboxes_size() > 0) writer->Write(batch);
  return grpc::Status::OK;
}

}  // namespace berth::cri
