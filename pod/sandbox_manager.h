// Pod sandboxes: RunPodSandbox's steps (each with its undo), stop, remove, status and list, kept
// in the metadata store so that sandboxes come back after a berthd restart with their pinned
// namespaces and network.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/cancel.h"
#include "base/result.h"
#include "base/rollback.h"
#include "cni/pod_network.h"
#include "pod/container_events.h"
#include "pod/record_registry.h"
#include "pod/sandbox.h"
#include "runtime/cgroups.h"
#include "store/metadata_store.h"

namespace berth::pod {

// Pod-level limits for the pod cgroup (PodSandboxConfig.linux overhead + resources), 0 = unset.
struct PodLimits {
  int64_t cpu_shares = 0;
  int64_t cpu_quota = 0;
  int64_t cpu_period = 0;
  int64_t memory_limit_bytes = 0;
};

struct SandboxFilter {
  std::string id;  // exact or unique prefix
  std::optional<SandboxState> state;
  std::map<std::string, std::string> label_selector;
};

class SandboxManager {
 public:
  // `handlers`: the runtime handler names accepted ("" is the default).
  SandboxManager(std::string state_dir, MetadataStore& metadata, cni::PodNetwork& network,
                 std::vector<std::string> handlers);

  // Reads the stored sandboxes; a ready sandbox whose namespaces are gone is marked not ready.
  Result<void> Load();

  // Creates and starts a sandbox; on failure every step done so far is undone. `caller`: the
  // request's deadline; a sandbox that outlives it is kept for kubelet's retry (RecordRegistry).
  Result<Sandbox> Run(const SandboxConfig& config, const CancelToken& caller = CancelToken());
  // Stops the pod's containers (via the hook), tears down its network and namespaces. Unknown
  // IDs are OK (kubelet retries).
  Result<void> Stop(const std::string& id);
  // Stops, then removes everything. Unknown IDs are OK.
  Result<void> Remove(const std::string& id);

  // By full ID or unique prefix: NotFound / InvalidArgument (ambiguous) otherwise.
  Result<Sandbox> Get(const std::string& id) const;
  std::vector<Sandbox> List(const SandboxFilter& filter) const;
  // UpdatePodSandboxResources: records the pod's new limits and applies them to its pod cgroup
  // (a pod without a cgroup parent has none: only the record changes).
  Result<void> UpdateResources(const std::string& id, const PodLimits& limits);

  // Called by Stop with the sandbox ID, before the network goes (containers, once they exist).
  void SetStopContainersHook(std::function<Result<void>(const std::string&)> hook) {
    stop_containers_ = std::move(hook);
  }
  // Called by Remove with the sandbox ID after it stopped, to remove the pod's containers.
  void SetRemoveContainersHook(std::function<Result<void>(const std::string&)> hook) {
    remove_containers_ = std::move(hook);
  }
  // Called with the sandbox's record after each step of its life (created and started by Run,
  // stopped by the first Stop, deleted by Remove), for GetContainerEvents.
  void SetEventHook(std::function<void(const Sandbox&, ContainerEventType)> hook) {
    publish_ = std::move(hook);
  }

 private:
  Result<Sandbox> RunClaimed(const SandboxConfig& config, const std::string& id);
  // The steps of RunClaimed after the namespaces, each recorded in `ledger`.
  Result<void> SetUpShmAndCgroup(Sandbox& sandbox, Rollback& ledger);
  Result<void> SetUpNetworkAndInit(Sandbox& sandbox, Rollback& ledger);
  // Resolves `id`, takes the sandbox's own lock and runs `action` on its current record; an ID
  // that names no sandbox is a success (stop and remove are idempotent).
  Result<void> WithSandbox(const std::string& id,
                           const std::function<Result<void>(Sandbox&)>& action);
  Result<void> StopLocked(Sandbox& sandbox);
  Result<void> RemoveLocked(Sandbox& sandbox);
  void Publish(const Sandbox& sandbox, ContainerEventType type);

  std::string state_dir_;
  cni::PodNetwork& network_;
  std::vector<std::string> handlers_;
  runtime::Cgroups cgroups_;
  std::function<Result<void>(const std::string&)> stop_containers_;
  std::function<Result<void>(const std::string&)> remove_containers_;
  std::function<void(const Sandbox&, ContainerEventType)> publish_;
  RecordRegistry<Sandbox> records_;
};

}  // namespace berth::pod
