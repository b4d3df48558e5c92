#include <nlohmann/json.hpp>

#include "base/version.h"
#include "cri/rpc_edge.h"
#include "cri/runtime_service.h"
#include "runtime/launcher/cri_log.h"
#include "runtime/launcher/exec.h"

namespace berth::cri {
namespace {

// Status' verbose info["settings"]: the values berthd works with that are not keys of its config
// file (or are, resolved), for tools that read them (documented in cri/README.md).
std::string EffectiveSettings(const Config& config, const runtime::HostFeatures& host,
                              const std::string& streaming_url) {
  nlohmann::ordered_json settings = {
      {"maxContainerLogLineSize", runtime::kMaxLogLineBytes},
      {"containerLogFormat", "cri"},
      {"execSyncMaxOutputBytes", runtime::ExecSyncRequest{}.max_output},
      {"defaultRuntimeHandler", kDefaultRuntimeHandler},
      {"runtimeHandlers", nlohmann::ordered_json::array({kDefaultRuntimeHandler})},
      {"cgroupDriver", config.cgroup_driver},
      {"cgroupLayout", CgroupLayoutName(host.cgroup_layout)},
      {"streamingServerUrl", streaming_url},
      {"streamingTokenTtlSeconds", config.streaming.token_ttl_seconds},
      {"maxConcurrentDownloads", config.max_concurrent_downloads},
      {"networkMode", config.network.mode},
      {"criApiVersion", "v1"},
  };
  return settings.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

void AddCondition(::runtime::v1::StatusResponse* response, const char* type, bool ready,
                  const char* reason, const char* message) {
  auto* condition = response->mutable_status()->add_conditions();
  condition->set_type(type);
  condition->set_status(ready);
  condition->set_reason(reason);
  condition->set_message(message);
}

}  // namespace

grpc::Status RuntimeService::Status(grpc::ServerContext*,
                                    const ::runtime::v1::StatusRequest* request,
                                    ::runtime::v1::StatusResponse* response) {
  return Serve("Status", [&]() -> Result<void> {
    AddCondition(response, "RuntimeReady", true, "", "");
    auto network = network_.Ready();
    if (network) {
      AddCondition(response, "NetworkReady", true, "", "");
    } else {
      std::string message = "berth: " + network.error().message();
      AddCondition(response, "NetworkReady", false, "NetworkPluginNotReady", message.c_str());
    }

    // Report only what works: kubelet uses a feature only when the runtime reports it.
    auto* handler = response->add_runtime_handlers();
    handler->set_name(kDefaultRuntimeHandler);
    // Recursive read-only mounts through mount_setattr(AT_RECURSIVE) (Linux 5.12+).
    handler->mutable_features()->set_recursive_read_only_mounts(host_.mount_setattr);
    // Pods with a user namespace: idmapped image layers need mount_setattr too.
    handler->mutable_features()->set_user_namespaces(host_.user_namespaces && host_.mount_setattr);
    response->mutable_features()->set_supplemental_groups_policy(true);
    response->mutable_features()->set_user_namespaces_host_network(false);

    if (request->verbose()) {
      auto& info = *response->mutable_info();
      info["version"] = kBerthVersion;
      info["config"] = ConfigToJson(config_);
      info["host"] = HostFeaturesToJson(host_);
      info["network"] = network_.Describe();
      info["settings"] = EffectiveSettings(config_, host_, streaming_.BaseUrl());
    }
    return Ok();
  });
}

}  // namespace berth::cri
