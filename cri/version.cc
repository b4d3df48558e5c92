#include "base/version.h"

#include "cri/rpc_edge.h"
#include "cri/runtime_service.h"

namespace berth::cri {

// The version of the CRI's own Version message; kubelet and crictl print it as "Version".
constexpr char kKubeletApiVersion[] = "0.1.0";
constexpr char kRuntimeApiVersion[] = "v1";
constexpr char kRuntimeName[] = "berth";

grpc::Status RuntimeService::Version(grpc::ServerContext*, const ::runtime::v1::VersionRequest*,
                                     ::runtime::v1::VersionResponse* response) {
  return Serve("Version", [&]() -> Result<void> {
    response->set_version(kKubeletApiVersion);
    response->set_runtime_name(kRuntimeName);
    response->set_runtime_version(kBerthVersion);
    response->set_runtime_api_version(kRuntimeApiVersion);
    return Ok();
  });
}

}  // namespace berth::cri
