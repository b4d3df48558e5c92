// Containers: CreateContainer (rootfs, config.json, cgroup, a berth-monitor that creates the
// container), start, stop, remove, status and list, kept in the metadata store. The monitors
// are not berthd's children, so containers keep running when berthd stops; an exit watcher
// (pidfds) notices a monitor's end, and that is the one place a container becomes EXITED, with
// what the monitor recorded. Reads (Get, List) only copy records.
//
// Files: container_manager.cc (create, start, stop, remove, exits), container_exec.cc (exec,
// attach, logs), container_usage.cc (resources and stats).
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/cancel.h"
#include "base/result.h"
#include "image/image_manager.h"
#include "pod/container.h"
#include "pod/container_events.h"
#include "pod/container_rootfs.h"
#include "pod/exit_watcher.h"
#include "pod/record_registry.h"
#include "pod/sandbox_manager.h"
#include "runtime/cgroup_stats.h"
#include "runtime/launcher/exec.h"
#include "store/metadata_store.h"

namespace berth::pod {

// A container's resource usage right now, for the stats RPCs.
struct ContainerUsage {
  Container container;
  int64_t timestamp_nanos = 0;
  runtime::CgroupStats cgroup;
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

  // Reads the stored containers and watches the monitors of those not exited (an exit while
  // berthd was down is picked up at once).
  Result<void> Load();

  // `caller`: the request's deadline. A create that outlives it is kept for kubelet's retry,
  // which then gets this container instead of AlreadyExists (see RecordRegistry).
  Result<Container> Create(const std::string& sandbox_id, const ContainerConfig& config,
                           const CancelToken& caller = CancelToken());
  Result<void> Start(const std::string& id);
  // The stop signal, SIGKILL after `timeout_seconds`. Unknown IDs are OK.
  Result<void> Stop(const std::string& id, int64_t timeout_seconds);
  // Force-stops, then removes everything. Unknown IDs are OK.
  Result<void> Remove(const std::string& id);
  Result<void> ReopenLog(const std::string& id);
  // Runs `args` in the running container; a timeout (0: none) is DeadlineExceeded.
  Result<runtime::ExecSyncResult> ExecSync(const std::string& id,
                                           const std::vector<std::string>& args,
                                           int64_t timeout_seconds);

  // CRI Exec: starts `args` in the running container with the caller's ends of its stdio.
  Result<runtime::StartedExec> StartExec(const std::string& id,
                                         const std::vector<std::string>& args, bool tty, bool stdin,
                                         bool stdout, bool stderr);
  // CRI Attach: hands pipes to the container's monitor (see AttachToMonitor); -1 for a stream not
  // wanted. Returns the control connection.
  Result<UniqueFd> Attach(const std::string& id, int in, int out, int err);

  // UpdateContainerResources: applied to the live cgroup and kept in the record.
  Result<void> UpdateResources(const std::string& id, const ContainerResources& resources);
  std::vector<ContainerUsage> Usage(const ContainerFilter& filter);

  Result<Container> Get(const std::string& id) const;
  // Get, and FailedPrecondition unless the container is running (exec, attach).
  Result<Container> GetRunning(const std::string& id) const;
  std::vector<Container> List(const ContainerFilter& filter) const;

  // For the sandbox's Stop and Remove.
  Result<void> StopAll(const std::string& sandbox_id);
  Result<void> RemoveAll(const std::string& sandbox_id);
  bool ImageInUse(const std::string& image_id) const;

  // Lifecycle events (created, started, stopped, deleted) of containers and, through
  // PublishSandboxEvent, of their pods, published as they happen.
  ContainerEventBus& events() { return events_; }
  // What containers get at their image's VOLUMEs: "copy" (the default), "mkdir" or "ignore"
  // (image_config_volumes.h).
  void SetImageVolumes(std::string mode) { image_volumes_ = std::move(mode); }
  // A pod sandbox's own event (SandboxManager::SetEventHook), with its containers as they are.
  void PublishSandboxEvent(const Sandbox& sandbox, ContainerEventType type);
  // Kept for berthd's start-up order; the exit watcher runs from construction on.
  void StartExitWatcher() {}

 private:
  Result<Container> CreateClaimed(const Sandbox& sandbox, const ContainerConfig& config,
                                  const std::string& id);
  Result<void> StartLocked(const std::string& id);
  // Signals, waits for the exit watcher's EXITED (releasing `lock` while it waits).
  Result<void> StopLocked(const std::string& id, int64_t timeout_seconds,
                          std::unique_lock<std::mutex>& lock);
  Result<void> RemoveLocked(const std::string& id, std::unique_lock<std::mutex>& lock);
  // Waits until the container is EXITED or `limit` passed; true when it is.
  bool WaitExited(const std::string& id, std::chrono::milliseconds limit,
                  std::unique_lock<std::mutex>& lock);
  // The exit watcher's callback: the container's monitor (or, once that is gone, its process)
  // ended.
  void OnMonitorExit(const std::string& id);
  void Publish(const Container& container, ContainerEventType type);

  std::string root_;
  std::string image_volumes_ = "copy";
  std::string state_;
  SandboxManager& sandboxes_;
  image::ImageManager& images_;
  ContainerRootfs rootfs_;
  RecordRegistry<Container> records_;
  ContainerEventBus events_;
  // Notified after each move to EXITED; waited on with the container's own lock (any lock: hence
  // condition_variable_any), which the exit watcher takes to make that move, so no wake is lost.
  std::condition_variable_any exited_;
  // Previous CPU sample per container: (wall time ns, cpu usage ns), for usage_nano_cores.
  std::mutex cpu_samples_mutex_;
  std::map<std::string, std::pair<int64_t, uint64_t>> cpu_samples_;
  ExitWatcher watcher_;  // last: its thread stops before the members it uses go
};

}  // namespace berth::pod
