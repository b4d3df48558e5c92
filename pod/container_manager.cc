#include "pod/container_manager.h"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/failpoint.h"
#include "base/file_util.h"
#include "base/process_util.h"
#include "base/random.h"
#include "base/remove_tree.h"
#include "base/rollback.h"
#include "base/signal_names.h"
#include "pod/container_spec.h"
#include "pod/image_config_volumes.h"
#include "pod/log_path.h"
#include "pod/validation.h"
#include "runtime/cgroups.h"
#include "runtime/launcher/monitor.h"
#include "runtime/process.h"

namespace berth::pod {
namespace {

std::string NameKey(const std::string& sandbox_id, const ContainerConfig& config) {
  return sandbox_id + "/" + config.name + "/" + std::to_string(config.attempt);
}

RecordCodec<Container> ContainerCodec() {
  return {"container", "container", ContainerToJson, ContainerFromJson,
          [](const Container& c) { return NameKey(c.sandbox_id, c.config); }};
}

bool Matches(const Container& container, const ContainerFilter& filter) {
  if (!filter.id.empty() && container.id.rfind(filter.id, 0) != 0) return false;
  if (!filter.sandbox_id.empty() && container.sandbox_id.rfind(filter.sandbox_id, 0) != 0) {
    return false;
  }
  if (filter.state && container.state != *filter.state) return false;
  return MatchesLabels(container.config.labels, filter.label_selector);
}

runtime::ProcessIdentity MonitorOf(const Container& container) {
  return {container.monitor_pid, container.monitor_start_time};
}
runtime::ProcessIdentity ProcessOf(const Container& container) {
  return {container.container_pid, container.container_start_time};
}

// Signals the container's process if it is still that process (a pidfd: no reused PID is hit).
void SignalContainer(const Container& container, int signal) {
  auto pidfd = runtime::OpenProcess(ProcessOf(container));
  if (pidfd) ::syscall(SYS_pidfd_send_signal, pidfd->get(), signal, nullptr, 0);
}

// The signal StopContainer sends first: the config's stop_signal (KEP-4960), else the image's
// STOPSIGNAL, else SIGTERM; checked now, as one that names no signal would make every stop fail.
Result<std::string> StopSignalOf(const ContainerConfig& config, const image::ImageConfig& image) {
  const std::string& requested =
      config.stop_signal.empty() ? image.stop_signal : config.stop_signal;
  if (requested.empty()) return std::string("SIGTERM");
  auto signal = ParseSignal(requested);
  if (!signal) {
    return InvalidArgument(
        (config.stop_signal.empty() ? "the image's STOPSIGNAL \"" : "stop_signal \"") + requested +
        "\" names no signal");
  }
  std::string name = SignalName(*signal);
  return name.empty() ? std::to_string(*signal) : name;
}

// Moves `container` to EXITED with what its monitor recorded, or as lost when nothing was.
void RecordExit(Container& container, const std::optional<runtime::ExitStatus>& status) {
  container.state = ContainerState::kExited;
  if (status) {
    container.exit_code = status->exit_code;
    container.finished_at_nanos = status->finished_at_unix_nano;
    container.reason = status->oom_killed       ? "OOMKilled"
                       : status->exit_code == 0 ? "Completed"
                                                : "Error";
    return;
  }
  // Gone without a recorded exit (the node rebooted, or its monitor was killed).
  container.exit_code = 255;
  container.finished_at_nanos = NowUnixNanos();
  container.reason = "Error";
  container.message = "the container's process and its monitor are gone; exit status unknown";
}

}  // namespace

ContainerManager::ContainerManager(std::string root, std::string state, MetadataStore& metadata,
                                   SandboxManager& sandboxes, image::ImageManager& images)
    : root_(std::move(root)),
      state_(std::move(state)),
      sandboxes_(sandboxes),
      images_(images),
      rootfs_(images),
      records_(metadata, ContainerCodec()),
      watcher_([this](const std::string& id) { OnMonitorExit(id); }) {}

ContainerManager::~ContainerManager() {
  watcher_.Stop();
}

void ContainerManager::Publish(const Container& container, ContainerEventType type) {
  auto sandbox = sandboxes_.Get(container.sandbox_id);
  events_.Publish({container.id, container.sandbox_id, type, NowUnixNanos(),
                   sandbox ? std::optional<Sandbox>(*sandbox) : std::nullopt,
                   List({"", container.sandbox_id, std::nullopt, {}})});
}

void ContainerManager::PublishSandboxEvent(const Sandbox& sandbox, ContainerEventType type) {
  events_.Publish({sandbox.id, sandbox.id, type, NowUnixNanos(), sandbox,
                   List({"", sandbox.id, std::nullopt, {}})});
}

Result<void> ContainerManager::Load() {
  BERTH_ASSIGN_OR_RETURN(size_t count, records_.Load());
  for (auto container :
       records_.Select([](const Container& c) { return c.state != ContainerState::kExited; })) {
    // Started, but berthd went down before it recorded that: the monitor did.
    if (container.state == ContainerState::kCreated) {
      if (auto started = runtime::ReadStartTime(container.state_dir)) {
        container.state = ContainerState::kRunning;
        container.started_at_nanos = *started;
        BERTH_TRY(records_.Put(container));
      }
    }
    watcher_.Watch(container.id, MonitorOf(container));
  }
  spdlog::info("loaded {} containers", count);
  return Ok();
}

void ContainerManager::OnMonitorExit(const std::string& id) {
  auto lock = records_.LockFor(id);
  std::lock_guard guard(*lock);
  auto container = records_.Find(id);
  if (!container || container->state == ContainerState::kExited) return;
  auto status = runtime::ReadExitStatus(container->state_dir);
  bool recorded = status && status->has_value();
  if (!recorded && runtime::ProcessAlive(ProcessOf(*container))) {
    // The monitor was killed but the container lives on: watch the container itself.
    spdlog::warn("container {}: its monitor is gone; watching the container's process", id);
    watcher_.Watch(id, ProcessOf(*container));
    return;
  }
  RecordExit(*container, recorded ? **status : std::optional<runtime::ExitStatus>());
  if (auto stored = records_.Put(*container); !stored) {
    spdlog::error("container {} exited ({}), but recording it failed: {}", id, container->exit_code,
                  stored.error().message());
  }
  Publish(*container, ContainerEventType::kStopped);
  exited_.notify_all();
}

Result<Container> ContainerManager::Create(const std::string& sandbox_id,
                                           const ContainerConfig& config,
                                           const CancelToken& caller) {
  BERTH_TRY(ValidateContainerConfig(config));
  BERTH_ASSIGN_OR_RETURN(Sandbox sandbox, sandboxes_.Get(sandbox_id));
  if (sandbox.state != SandboxState::kReady) {
    return FailedPrecondition("pod sandbox " + sandbox.id + " is not ready");
  }
  std::string key = NameKey(sandbox.id, config), id = RandomHex(64);
  auto claim = records_.Claim(key, id, caller.SteadyDeadline());
  if (claim.kind == NameClaim::Kind::kRetryOf) {
    spdlog::info("container {}: answering kubelet's retry of its create", claim.id);
    return records_.Get(claim.id);
  }
  if (claim.kind == NameClaim::Kind::kTaken) {
    return AlreadyExists("container " + config.name + " (attempt " +
                         std::to_string(config.attempt) + ") already exists in pod " + sandbox.id +
                         " as " + claim.id);
  }
  auto created = CreateClaimed(sandbox, config, id);
  bool caller_gone = caller.expired() || caller.cancelled();
  records_.Finish(key, created.ok(), caller_gone);
  if (created) {
    if (caller_gone) spdlog::warn("container {} outlived its create call; kept for the retry", id);
    Publish(*created, ContainerEventType::kCreated);
    watcher_.Watch(id, MonitorOf(*created));
  }
  return created;
}

Result<Container> ContainerManager::CreateClaimed(const Sandbox& sandbox,
                                                  const ContainerConfig& config,
                                                  const std::string& id) {
  BERTH_ASSIGN_OR_RETURN(image::ImageRecord image, images_.Resolve(config.image));
  BERTH_ASSIGN_OR_RETURN(image::ImageConfig image_config, images_.Config(image));
  Container container;
  container.id = id;
  container.sandbox_id = sandbox.id;
  container.config = config;
  container.image_id = image.id;
  container.created_at_nanos = NowUnixNanos();
  container.bundle_dir = root_ + "/containers/" + id;
  // Short: the monitor's unix socket lives here, and socket paths are limited to 107 bytes.
  container.state_dir = state_ + "/c/" + id.substr(0, 32);
  runtime::Cgroups cgroups = runtime::Cgroups::Probe();
  container.cgroup_path = cgroups.ContainerPath(sandbox.cgroup_path, id);
  BERTH_ASSIGN_OR_RETURN(container.stop_signal, StopSignalOf(config, image_config));
  if (!config.log_path.empty()) {
    BERTH_ASSIGN_OR_RETURN(container.log_path,
                           PrepareContainerLogPath(sandbox.config.log_directory, config.log_path));
  }

  Rollback ledger("CreateContainer",
                  "container " + id + " (" + config.name + ") in pod " + sandbox.id);
  BERTH_TRY(rootfs_.Build(container, image, sandbox, ledger));
  // In the bundle: they go with it if a later step fails.
  BERTH_TRY(PrepareImageConfigVolumes(container, image_config.volumes, image_volumes_));
  BERTH_TRY(ledger.Done("image-config-volumes"));
  BERTH_ASSIGN_OR_RETURN(OciSpec spec, BuildOciSpec(container, sandbox, image_config));
  container.user = spec.user;
  BERTH_TRY(WriteFileAtomic(container.bundle_dir + "/config.json", spec.json, 0600));
  BERTH_TRY(ledger.Done("config"));
  // The cgroup with its limits exists before the init joins it (as runc does): the container
  // never runs unconstrained, and a bad value fails before any process exists (a systemd scope
  // is started with the waiting init in it: place_init). Its undo kills whatever a failed create
  // left inside, so the cgroup always goes.
  runtime::CgroupResources resources = ToCgroupResources(config.resources);
  resources.devices = spec.device_rules;
  BERTH_TRY(ledger.Done("cgroup",
                        [cgroups, path = container.cgroup_path] { return cgroups.Destroy(path); }));
  BERTH_TRY(cgroups.PrepareContainer(container.cgroup_path, resources));
  BERTH_TRY(ledger.Done("cgroup-limits"));
  BERTH_TRY(ledger.Done("state-dir", [dir = container.state_dir] { return RemoveTree(dir); }));
  runtime::MonitorRequest request{
      ExecutableSibling("berth-monitor"),
      container.bundle_dir,
      container.state_dir,
      container.log_path.empty() ? "/dev/null" : container.log_path,
      config.stdin,
      config.stdin_once,
      [&](pid_t pid) { return cgroups.PlaceContainerInit(container.cgroup_path, pid, resources); }};
  auto monitored = runtime::SpawnMonitor(request);
  if (!monitored) return std::move(monitored).error().Wrap("create container " + config.name);
  container.monitor_pid = monitored->monitor_pid;
  container.monitor_start_time = runtime::ProcessStartTime(monitored->monitor_pid);
  container.container_pid = monitored->container_pid;
  container.container_start_time = runtime::ProcessStartTime(monitored->container_pid);
  BERTH_TRY(ledger.Done("monitor", [container]() -> Result<void> {
    // The monitor records the exit and ends once its container is gone.
    if (!runtime::KillProcess(ProcessOf(container), std::chrono::seconds(5)) ||
        !KillProcess(MonitorOf(container), std::chrono::seconds(5))) {
      return Internal("the container's processes did not end after SIGKILL");
    }
    return Ok();
  }));
  BERTH_TRY(cgroups.PlaceHelper(container.monitor_pid, "monitor", container.id));
  container.state = ContainerState::kCreated;
  BERTH_TRY(records_.Put(container));
  BERTH_TRY(ledger.Done("record", [this, container] { return records_.Erase(container); }));
  ledger.Commit();
  spdlog::info("container {} created in pod {}: {}", container.id, sandbox.id, config.name);
  return container;
}

Result<void> ContainerManager::Start(const std::string& id) {
  return records_.WithLocked(id, [this](const std::string& full, std::unique_lock<std::mutex>&) {
    return StartLocked(full);
  });
}

Result<void> ContainerManager::StartLocked(const std::string& id) {
  auto container = records_.Find(id);
  if (!container) return NotFound("container " + id + " not found");
  if (container->state != ContainerState::kCreated) {
    return FailedPrecondition("container " + id + " is not in the created state");
  }
  BERTH_TRY(Failpoint("StartContainer/before-start"));
  auto started = runtime::StartMonitoredContainer(container->state_dir);
  if (started) BERTH_TRY(Failpoint("StartContainer/started"));
  if (!started) {
    auto failed = records_.Modify(id, [&](Container& c) -> Result<void> {
      c.state = ContainerState::kExited;
      c.exit_code = 128;
      c.reason = "StartError";
      c.message = started.error().message();
      c.finished_at_nanos = NowUnixNanos();
      return Ok();
    });
    if (failed) Publish(*failed, ContainerEventType::kStopped);
    return std::move(started).error().Wrap("start container " + container->config.name);
  }
  BERTH_ASSIGN_OR_RETURN(Container running, records_.Modify(id, [](Container& c) -> Result<void> {
    c.state = ContainerState::kRunning;
    c.started_at_nanos = NowUnixNanos();
    return Ok();
  }));
  // Published with the container's lock held: the exit watcher's STOPPED (it needs the lock)
  // always comes after.
  Publish(running, ContainerEventType::kStarted);
  return Ok();
}

bool ContainerManager::WaitExited(const std::string& id, std::chrono::milliseconds limit,
                                  std::unique_lock<std::mutex>& lock) {
  return exited_.wait_for(lock, limit, [&] {
    auto current = records_.Find(id);
    return !current || current->state == ContainerState::kExited;
  });
}

Result<void> ContainerManager::StopLocked(const std::string& id, int64_t timeout_seconds,
                                          std::unique_lock<std::mutex>& lock) {
  auto container = records_.Find(id);
  if (!container) return NotFound("container " + id + " not found");
  if (container->state == ContainerState::kExited) return Ok();
  if (timeout_seconds > 0 && container->state == ContainerState::kRunning) {
    SignalContainer(*container, ParseSignal(container->stop_signal).value_or(SIGTERM));
    if (WaitExited(id, std::chrono::seconds(timeout_seconds), lock)) return Ok();
  }
  BERTH_TRY(Failpoint("StopContainer/before-kill"));
  SignalContainer(*container, SIGKILL);
  // And whatever else runs in its cgroup (in a pod's shared PID namespace the init's death does
  // not take the other processes along).
  (void)runtime::Cgroups::Probe().KillAll(container->cgroup_path);
  // The monitor records the exit once it has drained the output pipes, then ends.
  if (WaitExited(id, std::chrono::seconds(15), lock)) return Ok();
  return Error(ErrorCode::kDeadlineExceeded,
               "container " + id + " did not exit within 15 s of SIGKILL");
}

Result<void> ContainerManager::Stop(const std::string& id, int64_t timeout_seconds) {
  auto stopped =
      records_.WithLocked(id, [&](const std::string& full, std::unique_lock<std::mutex>& lock) {
        return StopLocked(full, timeout_seconds, lock);
      });
  // Only an ID that names no container is a success (kubelet retries); NotFound from anything
  // deeper is a real error.
  if (!stopped && stopped.error().code() == ErrorCode::kNotFound && !records_.Resolve(id)) {
    return Ok();
  }
  return stopped;
}

Result<void> ContainerManager::RemoveLocked(const std::string& id,
                                            std::unique_lock<std::mutex>& lock) {
  BERTH_TRY(StopLocked(id, 0, lock));
  auto container = records_.Find(id);
  if (!container) return Ok();
  watcher_.Forget(id);
  // The cgroup first, while the bundle still says whose it is (the start-up clean-up goes by
  // that). Empty by now (the monitor removes it when its container ends); Destroy covers the
  // rest. The shared parent of pods without a cgroup parent, "/berth", stays: other berthds on
  // the host may be creating containers in it at this very moment.
  BERTH_TRY(runtime::Cgroups::Probe().Destroy(container->cgroup_path));
  BERTH_TRY(rootfs_.Remove(*container));
  BERTH_TRY(Failpoint("RemoveContainer/rootfs-removed"));
  BERTH_TRY(RemoveTree(container->state_dir));
  BERTH_TRY(records_.Erase(*container));
  {
    std::lock_guard samples(cpu_samples_mutex_);
    cpu_samples_.erase(id);
  }
  spdlog::info("container {} removed", id);
  Publish(*container, ContainerEventType::kDeleted);
  return Ok();
}

Result<void> ContainerManager::Remove(const std::string& id) {
  auto removed =
      records_.WithLocked(id, [this](const std::string& full, std::unique_lock<std::mutex>& lock) {
        return RemoveLocked(full, lock);
      });
  if (!removed && removed.error().code() == ErrorCode::kNotFound && !records_.Resolve(id)) {
    return Ok();
  }
  return removed;
}

Result<Container> ContainerManager::Get(const std::string& id) const {
  return records_.Get(id);
}

Result<Container> ContainerManager::GetRunning(const std::string& id) const {
  BERTH_ASSIGN_OR_RETURN(Container container, Get(id));
  if (container.state != ContainerState::kRunning) {
    return FailedPrecondition("container " + container.id + " is not running");
  }
  return container;
}

std::vector<Container> ContainerManager::List(const ContainerFilter& filter) const {
  return records_.Select([&](const Container& c) { return Matches(c, filter); });
}

Result<void> ContainerManager::StopAll(const std::string& sandbox_id) {
  for (const auto& container : List({"", sandbox_id, std::nullopt, {}})) {
    BERTH_TRY(Stop(container.id, 0));
  }
  return Ok();
}

Result<void> ContainerManager::RemoveAll(const std::string& sandbox_id) {
  for (const auto& container : List({"", sandbox_id, std::nullopt, {}})) {
    BERTH_TRY(Remove(container.id));
  }
  return Ok();
}

bool ContainerManager::ImageInUse(const std::string& image_id) const {
  return records_.Any([&](const Container& c) { return c.image_id == image_id; });
}

}  // namespace berth::pod
