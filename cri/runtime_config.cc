#include "cri/rpc_edge.h"
#include "cri/runtime_service.h"

namespace berth::cri {

grpc::Status RuntimeService::RuntimeConfig(grpc::ServerContext*,
                                           const ::runtime::v1::RuntimeConfigRequest*,
                                           ::runtime::v1::RuntimeConfigResponse* response) {
  return Serve("RuntimeConfig", [&]() -> Result<void> {
    // ValidateConfig admits only cgroupfs so far.
    response->mutable_linux()->set_cgroup_driver(config_.cgroup_driver == "systemd"
                                                     ? ::runtime::v1::CgroupDriver::SYSTEMD
                                                     : ::runtime::v1::CgroupDriver::CGROUPFS);
    return Ok();
  });
}

}  // namespace berth::cri
