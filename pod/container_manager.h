// Containers: CreateContainer (rootfs snapshot, config.json, a berth-monitor that creates the
// container), start, stop, remove, status and list, kept in the metadata store. The monitors
// are not berthd's children, so containers keep running when berthd stops, and a new berthd
// picks their state up from the monitors' exit files.
#pragma once

#include <map>
#include <memory>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/rollback.h"
#include "image/image_manager.h"
#include "pod/container.h"
#include "pod/container_events.h"
#include "pod/sandbox_manager.h"
#include "runtime/cgroup_stats.h"
#include "runtime/launcher/exec.h"
#include "store/metadata_store.h"

namespace berth::pod {

// A container's resource usage right now, for the stats RPCs.
struct ContainerUsage {
  Container container;
  int64_t timestamp_nanos = 0;
  CgroupStats cgroup;
  std::optional<uint64_t> nano_cores;  // from the previous sample, when there is one
  image::DiskUsage writable_layer;
  std::string writable_layer_mountpoint;
};

struct ContainerFilter {
  std::string id;  // exact or unique prefix
  std::string sandbox_id;
  std::optional<ContainerState> state;
  std::map<std::string, std::string> label_selector;
};

class ContainerManager {
 public:
  ContainerManager(std::string root, std::string state, MetadataStore& metadata,
                   SandboxManager& sandboxes, image::ImageManager& images);
  ~ContainerManager();

  Result<void> Load();

  Result<Container> Create(const std::string& sandbox_id, const ContainerConfig& config);
  Result<void> Start(const std::string& id);
  // The image's stop signal, SIGKILL after `timeout_seconds`. Unknown IDs are OK.
  Result<void> Stop(const std::string& id, int64_t timeout_seconds);
  // Force-stops, then removes everything. Unknown IDs are OK.
  Result<void> Remove(const std::string& id);
  Result<void> ReopenLog(const std::string& id);
  // Runs `args` in the running container; a timeout (0: none) is DeadlineExceeded.
  Result<ExecSyncResult> ExecSync(const std::string& id, const std::vector<std::string>& args,
                                  int64_t timeout_seconds);

  // CRI Exec: starts `args` in the running container with the caller's ends of its stdio.
  Result<StartedExec> StartExec(const std::string& id, const std::vector<std::string>& args, bool tty,
                                bool stdin, bool stdout, bool stderr);
  // CRI Attach: hands pipes to the container's monitor (see AttachToMonitor); -1 for a stream not
  // wanted. Returns the control connection.
  Result<UniqueFd> Attach(const std::string& id, int in, int out, int err);

  // UpdateContainerResources: applied to the live cgroup and kept in the record.
  Result<void> UpdateResources(const std::string& id, const ContainerResources& resources);
  std::vector<ContainerUsage> Usage(const ContainerFilter& filter);

  Result<Container> Get(const std::string& id);
  // Get, and FailedPrecondition unless the container is running (exec, attach).
  Result<Container> GetRunning(const std::string& id);
  std::vector<Container> List(const ContainerFilter& filter);

  // For the sandbox's Stop and Remove.
  Result<void> StopAll(const std::string& sandbox_id);
  Result<void> RemoveAll(const std::string& sandbox_id);
  bool ImageInUse(const std::string& image_id);

  // Lifecycle events (created, started, stopped, deleted). A watcher notices exits within a
  // second even when nobody asks for a status.
  ContainerEventBus& events() { return events_; }
  void StartExitWatcher();

 private:
  Result<std::string> ResolveId(const std::string& id) const;  // caller holds mutex_
  Result<void> Persist(const Container& container);
  // Folds what the monitor recorded into the record (running -> exited).
  void Refresh(Container& container);
  Result<void> StopLocked(Container& container, int64_t timeout_seconds);
  Result<void> RemoveLocked(Container& container);
  // CRI image volumes: a snapshot of each image, mounted at ImageVolumePath (container.h).
  Result<void> MountImageVolumes(const Container& container, const Sandbox& sandbox, Rollback& undo);
  Result<void> MountSnapshot(const Sandbox& sandbox, const std::string& key, const std::string& target);
  Result<void> MountIdmappedVolumes(const Container& container, const Sandbox& sandbox, Rollback& undo);
  std::shared_ptr<std::mutex> LockFor(const std::string& id);
  Result<void> WithContainer(const std::string& id,
                             const std::function<Result<void>(Container&)>& action);

  std::string root_;
  std::string state_;
  MetadataStore& metadata_;
  SandboxManager& sandboxes_;
  image::ImageManager& images_;
  mutable std::mutex mutex_;
  std::map<std::string, Container> containers_;
  std::map<std::string, std::string> names_;  // "sandbox/name/attempt" -> ID
  std::map<std::string, std::shared_ptr<std::mutex>> locks_;
  void Publish(const Container& container, ContainerEventType type);
  ContainerEventBus events_;
  std::thread watcher_;
  std::mutex watcher_mutex_;
  std::condition_variable watcher_wake_;
  bool stopping_ = false;
  // Previous CPU sample per container: (wall time ns, cpu usage ns), for usage_nano_cores.
  std::map<std::string, std::pair<int64_t, uint64_t>> cpu_samples_;
};

}  // namespace berth::pod
