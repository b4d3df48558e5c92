// runtime.v1.RuntimeService. One file per RPC family (version.cc, status.cc, runtime_config.cc);
// RPCs not overridden here answer UNIMPLEMENTED through the generated base class until their
// issue lands.
#pragma once

#include "cni/pod_network.h"
#include "config/config.h"
#include "cri_api.h"
#include "pod/sandbox_manager.h"
#include "runtime/host_features.h"

namespace berth::cri {

// The default runtime handler, named "" in the CRI.
inline constexpr char kDefaultRuntimeHandler[] = "";

class RuntimeService final : public runtime::v1::RuntimeService::Service {
 public:
  RuntimeService(const Config& config, const HostFeatures& host, pod::SandboxManager& sandboxes,
                 cni::PodNetwork& network)
      : config_(config), host_(host), sandboxes_(sandboxes), network_(network) {}

  grpc::Status Version(grpc::ServerContext* context, const runtime::v1::VersionRequest* request,
                       runtime::v1::VersionResponse* response) override;
  grpc::Status Status(grpc::ServerContext* context, const runtime::v1::StatusRequest* request,
                      runtime::v1::StatusResponse* response) override;
  grpc::Status RuntimeConfig(grpc::ServerContext* context,
                             const runtime::v1::RuntimeConfigRequest* request,
                             runtime::v1::RuntimeConfigResponse* response) override;
  grpc::Status UpdateRuntimeConfig(grpc::ServerContext* context,
                                   const runtime::v1::UpdateRuntimeConfigRequest* request,
                                   runtime::v1::UpdateRuntimeConfigResponse* response) override;

  // sandbox_run.cc, sandbox_stop.cc, sandbox_remove.cc, sandbox_status.cc, sandbox_list.cc
  grpc::Status RunPodSandbox(grpc::ServerContext* context,
                             const runtime::v1::RunPodSandboxRequest* request,
                             runtime::v1::RunPodSandboxResponse* response) override;
  grpc::Status StopPodSandbox(grpc::ServerContext* context,
                              const runtime::v1::StopPodSandboxRequest* request,
                              runtime::v1::StopPodSandboxResponse* response) override;
  grpc::Status RemovePodSandbox(grpc::ServerContext* context,
                                const runtime::v1::RemovePodSandboxRequest* request,
                                runtime::v1::RemovePodSandboxResponse* response) override;
  grpc::Status PodSandboxStatus(grpc::ServerContext* context,
                                const runtime::v1::PodSandboxStatusRequest* request,
                                runtime::v1::PodSandboxStatusResponse* response) override;
  grpc::Status ListPodSandbox(grpc::ServerContext* context,
                              const runtime::v1::ListPodSandboxRequest* request,
                              runtime::v1::ListPodSandboxResponse* response) override;
  grpc::Status StreamPodSandboxes(
      grpc::ServerContext* context, const runtime::v1::StreamPodSandboxesRequest* request,
      grpc::ServerWriter<runtime::v1::StreamPodSandboxesResponse>* writer) override;

 private:
  const Config& config_;
  const HostFeatures& host_;
  pod::SandboxManager& sandboxes_;
  cni::PodNetwork& network_;
};

}  // namespace berth::cri
