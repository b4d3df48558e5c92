#include "cri/runtime_service.h"
#include "cri/status_mapping.h"

namespace berth::cri {

grpc::Status RuntimeService::RuntimeConfig(grpc::ServerContext*,
                                           const runtime::v1::RuntimeConfigRequest*,
                                           runtime::v1::RuntimeConfigResponse* response) {
  // ValidateConfig admits only cgroupfs so far.
  response->mutable_linux()->set_cgroup_driver(config_.cgroup_driver == "systemd"
                                                   ? runtime::v1::CgroupDriver::SYSTEMD
                                                   : runtime::v1::CgroupDriver::CGROUPFS);
  return grpc::Status::OK;
}

grpc::Status RuntimeService::UpdateRuntimeConfig(grpc::ServerContext*,
                                                 const runtime::v1::UpdateRuntimeConfigRequest* request,
                                                 runtime::v1::UpdateRuntimeConfigResponse*) {
  const std::string& cidr = request->runtime_config().network_config().pod_cidr();
  // kubelet sends an empty config too; only a pod CIDR changes anything.
  if (cidr.empty()) return grpc::Status::OK;
  return ToGrpcStatus(network_.SetPodCidr(cidr));
}

}  // namespace berth::cri
