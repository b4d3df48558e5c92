#include <nlohmann/json.hpp>

#include "base/file_util.h"
#include "cri/container_convert.h"
#include "cri/rpc_edge.h"
#include "cri/rpc_helpers.h"
#include "cri/runtime_service.h"

namespace berth::cri {
namespace {

// A bundle's config.json is berth's own, but bounded all the same (it holds the container's
// environment and mounts, nothing that grows without limit).
constexpr size_t kMaxRuntimeSpecBytes = 4 << 20;

// ContainerStatus' verbose info["info"]: what `crictl inspect` and tools read, documented in
// cri/README.md. runtimeSpec is the OCI config.json the container was started from, as
// containerd and CRI-O report it.
std::string VerboseInfo(const pod::Container& container) {
  nlohmann::ordered_json info = {
      {"sandboxID", container.sandbox_id},   {"bundle", container.bundle_dir},
      {"pid", container.container_pid},      {"monitorPid", container.monitor_pid},
      {"cgroupPath", container.cgroup_path}, {"stopSignal", container.stop_signal},
  };
  if (auto text = ReadFile(container.bundle_dir + "/config.json", kMaxRuntimeSpecBytes)) {
    auto spec = nlohmann::ordered_json::parse(*text, nullptr, /*allow_exceptions=*/false);
    if (!spec.is_discarded()) info["runtimeSpec"] = std::move(spec);
  }
  return info.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace

grpc::Status RuntimeService::ContainerStatus(grpc::ServerContext*,
                                             const ::runtime::v1::ContainerStatusRequest* request,
                                             ::runtime::v1::ContainerStatusResponse* response) {
  return Serve("ContainerStatus", [&]() -> Result<void> {
    BERTH_TRY(NeedContainerId(request->container_id()));
    BERTH_ASSIGN_OR_RETURN(pod::Container container, containers_.Get(request->container_id()));
    FillContainerStatus(container, response->mutable_status());
    if (request->verbose()) (*response->mutable_info())["info"] = VerboseInfo(container);
    return Ok();
  });
}

}  // namespace berth::cri
