// runtime.v1.RuntimeService. One file per RPC, named object_verb.cc after it as CRI-O does (the
// file is named beside each declaration below); every handler's body runs through Serve
// (rpc_edge.h). RPCs not overridden here answer UNIMPLEMENTED through the generated base class
// until their issue lands.
#pragma once

#include "cni/pod_network.h"
#include "config/config.h"
#include "cri/streaming/server.h"
#include "cri_api.h"
#include "pod/container_manager.h"
#include "pod/sandbox_manager.h"
#include "runtime/host_features.h"

namespace berth::cri {

// The default runtime handler, named "" in the CRI.
inline constexpr char kDefaultRuntimeHandler[] = "";

class RuntimeService final : public ::runtime::v1::RuntimeService::Service {
 public:
  RuntimeService(const Config& config, const runtime::HostFeatures& host,
                 pod::SandboxManager& sandboxes, pod::ContainerManager& containers,
                 cni::PodNetwork& network, streaming::StreamingServer& streaming)
      : config_(config),
        host_(host),
        sandboxes_(sandboxes),
        containers_(containers),
        network_(network),
        streaming_(streaming) {}

  // The runtime itself.
  // version.cc
  grpc::Status Version(grpc::ServerContext* context, const ::runtime::v1::VersionRequest* request,
                       ::runtime::v1::VersionResponse* response) override;
  // status.cc
  grpc::Status Status(grpc::ServerContext* context, const ::runtime::v1::StatusRequest* request,
                      ::runtime::v1::StatusResponse* response) override;
  // runtime_config.cc
  grpc::Status RuntimeConfig(grpc::ServerContext* context,
                             const ::runtime::v1::RuntimeConfigRequest* request,
                             ::runtime::v1::RuntimeConfigResponse* response) override;
  // runtime_config_update.cc
  grpc::Status UpdateRuntimeConfig(grpc::ServerContext* context,
                                   const ::runtime::v1::UpdateRuntimeConfigRequest* request,
                                   ::runtime::v1::UpdateRuntimeConfigResponse* response) override;

  // Pod sandboxes.
  // sandbox_run.cc
  grpc::Status RunPodSandbox(grpc::ServerContext* context,
                             const ::runtime::v1::RunPodSandboxRequest* request,
                             ::runtime::v1::RunPodSandboxResponse* response) override;
  // sandbox_stop.cc
  grpc::Status StopPodSandbox(grpc::ServerContext* context,
                              const ::runtime::v1::StopPodSandboxRequest* request,
                              ::runtime::v1::StopPodSandboxResponse* response) override;
  // sandbox_remove.cc
  grpc::Status RemovePodSandbox(grpc::ServerContext* context,
                                const ::runtime::v1::RemovePodSandboxRequest* request,
                                ::runtime::v1::RemovePodSandboxResponse* response) override;
  // sandbox_status.cc
  grpc::Status PodSandboxStatus(grpc::ServerContext* context,
                                const ::runtime::v1::PodSandboxStatusRequest* request,
                                ::runtime::v1::PodSandboxStatusResponse* response) override;
  // sandbox_list.cc
  grpc::Status ListPodSandbox(grpc::ServerContext* context,
                              const ::runtime::v1::ListPodSandboxRequest* request,
                              ::runtime::v1::ListPodSandboxResponse* response) override;
  // sandbox_stream.cc
  grpc::Status StreamPodSandboxes(
      grpc::ServerContext* context, const ::runtime::v1::StreamPodSandboxesRequest* request,
      grpc::ServerWriter<::runtime::v1::StreamPodSandboxesResponse>* writer) override;
  // sandbox_stats.cc
  grpc::Status PodSandboxStats(grpc::ServerContext* context,
                               const ::runtime::v1::PodSandboxStatsRequest* request,
                               ::runtime::v1::PodSandboxStatsResponse* response) override;
  // sandbox_stats_list.cc
  grpc::Status ListPodSandboxStats(grpc::ServerContext* context,
                                   const ::runtime::v1::ListPodSandboxStatsRequest* request,
                                   ::runtime::v1::ListPodSandboxStatsResponse* response) override;
  // sandbox_update_resources.cc
  grpc::Status UpdatePodSandboxResources(
      grpc::ServerContext* context, const ::runtime::v1::UpdatePodSandboxResourcesRequest* request,
      ::runtime::v1::UpdatePodSandboxResourcesResponse* response) override;
  // metric_descriptors_list.cc
  grpc::Status ListMetricDescriptors(
      grpc::ServerContext* context, const ::runtime::v1::ListMetricDescriptorsRequest* request,
      ::runtime::v1::ListMetricDescriptorsResponse* response) override;
  // sandbox_metrics_list.cc
  grpc::Status ListPodSandboxMetrics(
      grpc::ServerContext* context, const ::runtime::v1::ListPodSandboxMetricsRequest* request,
      ::runtime::v1::ListPodSandboxMetricsResponse* response) override;
  grpc::Status StreamPodSandboxMetrics(
      grpc::ServerContext* context, const ::runtime::v1::StreamPodSandboxMetricsRequest* request,
      grpc::ServerWriter<::runtime::v1::StreamPodSandboxMetricsResponse>* writer) override;
  // sandbox_port_forward.cc: a single-use URL on the streaming server.
  grpc::Status PortForward(grpc::ServerContext* context,
                           const ::runtime::v1::PortForwardRequest* request,
                           ::runtime::v1::PortForwardResponse* response) override;

  // Containers.
  // container_create.cc
  grpc::Status CreateContainer(grpc::ServerContext* context,
                               const ::runtime::v1::CreateContainerRequest* request,
                               ::runtime::v1::CreateContainerResponse* response) override;
  // container_start.cc
  grpc::Status StartContainer(grpc::ServerContext* context,
                              const ::runtime::v1::StartContainerRequest* request,
                              ::runtime::v1::StartContainerResponse* response) override;
  // container_stop.cc
  grpc::Status StopContainer(grpc::ServerContext* context,
                             const ::runtime::v1::StopContainerRequest* request,
                             ::runtime::v1::StopContainerResponse* response) override;
  // container_remove.cc
  grpc::Status RemoveContainer(grpc::ServerContext* context,
                               const ::runtime::v1::RemoveContainerRequest* request,
                               ::runtime::v1::RemoveContainerResponse* response) override;
  // container_status.cc
  grpc::Status ContainerStatus(grpc::ServerContext* context,
                               const ::runtime::v1::ContainerStatusRequest* request,
                               ::runtime::v1::ContainerStatusResponse* response) override;
  // container_list.cc
  grpc::Status ListContainers(grpc::ServerContext* context,
                              const ::runtime::v1::ListContainersRequest* request,
                              ::runtime::v1::ListContainersResponse* response) override;
  // container_stream.cc
  grpc::Status StreamContainers(
      grpc::ServerContext* context, const ::runtime::v1::StreamContainersRequest* request,
      grpc::ServerWriter<::runtime::v1::StreamContainersResponse>* writer) override;
  // container_stats.cc
  grpc::Status ContainerStats(grpc::ServerContext* context,
                              const ::runtime::v1::ContainerStatsRequest* request,
                              ::runtime::v1::ContainerStatsResponse* response) override;
  // container_stats_list.cc
  grpc::Status ListContainerStats(grpc::ServerContext* context,
                                  const ::runtime::v1::ListContainerStatsRequest* request,
                                  ::runtime::v1::ListContainerStatsResponse* response) override;
  // container_update_resources.cc
  grpc::Status UpdateContainerResources(
      grpc::ServerContext* context, const ::runtime::v1::UpdateContainerResourcesRequest* request,
      ::runtime::v1::UpdateContainerResourcesResponse* response) override;
  // container_events.cc
  grpc::Status GetContainerEvents(
      grpc::ServerContext* context, const ::runtime::v1::GetEventsRequest* request,
      grpc::ServerWriter<::runtime::v1::ContainerEventResponse>* writer) override;
  // container_reopen_log.cc
  grpc::Status ReopenContainerLog(grpc::ServerContext* context,
                                  const ::runtime::v1::ReopenContainerLogRequest* request,
                                  ::runtime::v1::ReopenContainerLogResponse* response) override;
  // container_exec_sync.cc
  grpc::Status ExecSync(grpc::ServerContext* context, const ::runtime::v1::ExecSyncRequest* request,
                        ::runtime::v1::ExecSyncResponse* response) override;
  // container_exec.cc: a single-use URL on the streaming server.
  grpc::Status Exec(grpc::ServerContext* context, const ::runtime::v1::ExecRequest* request,
                    ::runtime::v1::ExecResponse* response) override;
  // container_attach.cc: a single-use URL on the streaming server.
  grpc::Status Attach(grpc::ServerContext* context, const ::runtime::v1::AttachRequest* request,
                      ::runtime::v1::AttachResponse* response) override;

 private:
  void FillSandboxMetrics(const pod::Sandbox& sandbox, ::runtime::v1::PodSandboxMetrics* out);

  const Config& config_;
  const runtime::HostFeatures& host_;
  pod::SandboxManager& sandboxes_;
  pod::ContainerManager& containers_;
  cni::PodNetwork& network_;
  streaming::StreamingServer& streaming_;
};

}  // namespace berth::cri
