// runtime.v1.RuntimeService. One file per RPC family (version.cc, status.cc, runtime_config.cc);
// RPCs not overridden here answer UNIMPLEMENTED through the generated base class until their
// issue lands.
#pragma once

#include "cri_api.h"
#include "config/config.h"
#include "runtime/host_features.h"

namespace berth::cri {

// The default runtime handler, named "" in the CRI.
inline constexpr char kDefaultRuntimeHandler[] = "";

class RuntimeService final : public runtime::v1::RuntimeService::Service {
 public:
  RuntimeService(const Config& config, const HostFeatures& host) : config_(config), host_(host) {}

  grpc::Status Version(grpc::ServerContext* context, const runtime::v1::VersionRequest* request,
                       runtime::v1::VersionResponse* response) override;
  grpc::Status Status(grpc::ServerContext* context, const runtime::v1::StatusRequest* request,
                      runtime::v1::StatusResponse* response) override;
  grpc::Status RuntimeConfig(grpc::ServerContext* context,
                             const runtime::v1::RuntimeConfigRequest* request,
                             runtime::v1::RuntimeConfigResponse* response) override;

 private:
  const Config& config_;
  const HostFeatures& host_;
};

}  // namespace berth::cri
