#include "pod/container_manager.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <thread>

#include <spdlog/spdlog.h>

#include "base/file_util.h"
#include "base/idmapped_mount.h"
#include "base/id_prefix.h"
#include "base/process_util.h"
#include "base/random.h"
#include "base/rollback.h"
#include "pod/container_spec.h"
#include "pod/sandbox_init.h"
#include "runtime/cgroups.h"
#include "runtime/launcher/monitor.h"

namespace berth::pod {
namespace {

// berth-exec's request for `args` in `container` (ExecSync and Exec alike).
ExecStartRequest ExecRequestFor(const Container& container, const std::vector<std::string>& args) {
  ExecStartRequest request;
  request.exec_binary = ExecutableSibling("berth-exec");
  request.bundle_dir = container.bundle_dir;
  request.container_pid = container.container_pid;
  request.cgroup_path = container.cgroup_path;
  request.args = args;
  return request;
}

// Containers of a pod without a cgroup parent share "/berth": it goes with the last of them.
std::string SharedCgroupRoot(const std::string& cgroup_path) {
  return cgroup_path.rfind("/berth/", 0) == 0 ? "/berth" : "";
}

CgroupResources ToCgroupResources(const ContainerResources& in) {
  CgroupResources out;
  out.cpu_shares = in.cpu_shares;
  out.cpu_quota = in.cpu_quota;
  out.cpu_period = in.cpu_period;
  out.memory_limit_bytes = in.memory_limit_bytes;
  out.memory_swap_limit_bytes = in.memory_swap_limit_bytes;
  out.cpuset_cpus = in.cpuset_cpus;
  out.cpuset_mems = in.cpuset_mems;
  out.hugepage_limits = in.hugepage_limits;
  out.unified = in.unified;
  return out;
}

constexpr char kKind[] = "container";

int SignalNumber(const std::string& name) {
  static const std::pair<const char*, int> kSignals[] = {
      {"SIGTERM", SIGTERM}, {"SIGINT", SIGINT},   {"SIGQUIT", SIGQUIT}, {"SIGKILL", SIGKILL},
      {"SIGHUP", SIGHUP},   {"SIGUSR1", SIGUSR1}, {"SIGUSR2", SIGUSR2}, {"SIGWINCH", SIGWINCH}};
  std::string full = name.rfind("SIG", 0) == 0 ? name : "SIG" + name;
  for (const auto& [signal_name, number] : kSignals) {
    if (full == signal_name) return number;
  }
  if (!name.empty() && name.find_first_not_of("0123456789") == std::string::npos) {
    return std::stoi(name);
  }
  return SIGTERM;
}

std::string NameKey(const std::string& sandbox_id, const ContainerConfig& config) {
  return sandbox_id + "/" + config.name + "/" + std::to_string(config.attempt);
}

bool Matches(const Container& container, const ContainerFilter& filter) {
  if (!filter.id.empty() && container.id.rfind(filter.id, 0) != 0) return false;
  if (!filter.sandbox_id.empty() && container.sandbox_id.rfind(filter.sandbox_id, 0) != 0) {
    return false;
  }
  if (filter.state && container.state != *filter.state) return false;
  for (const auto& [key, value] : filter.label_selector) {
    auto it = container.config.labels.find(key);
    if (it == container.config.labels.end() || it->second != value) return false;
  }
  return true;
}

bool ProcessAlive(int pid, uint64_t start_time) {
  return pid > 0 && start_time != 0 && ProcessStartTime(pid) == start_time;
}

}  // namespace

ContainerManager::ContainerManager(std::string root, std::string state, MetadataStore& metadata,
                                   SandboxManager& sandboxes, image::ImageManager& images)
    : root_(std::move(root)),
      state_(std::move(state)),
      metadata_(metadata),
      sandboxes_(sandboxes),
      images_(images) {}

ContainerManager::~ContainerManager() {
  {
    std::lock_guard lock(watcher_mutex_);
    stopping_ = true;
  }
  watcher_wake_.notify_all();
  if (watcher_.joinable()) watcher_.join();
}

void ContainerManager::StartExitWatcher() {
  watcher_ = std::thread([this] {
    std::unique_lock lock(watcher_mutex_);
    while (!watcher_wake_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; })) {
      lock.unlock();
      (void)List({});  // refreshes every running container; exits become STOPPED events
      lock.lock();
    }
  });
}

void ContainerManager::Publish(const Container& container, ContainerEventType type) {
  events_.Publish({container.id, container.sandbox_id, type, NowUnixNanos()});
}

Result<void> ContainerManager::Load() {
  BERTH_ASSIGN_OR_RETURN(auto objects, metadata_.List(kKind));
  std::lock_guard lock(mutex_);
  for (const auto& object : objects) {
    auto container = ContainerFromJson(object.data);
    if (!container) return std::move(container).error().Wrap("container " + object.id);
    names_[NameKey(container->sandbox_id, container->config)] = container->id;
    containers_[container->id] = std::move(*container);
  }
  for (auto& [id, container] : containers_) Refresh(container);
  spdlog::info("loaded {} containers", containers_.size());
  return Ok();
}

std::shared_ptr<std::mutex> ContainerManager::LockFor(const std::string& id) {
  std::lock_guard lock(mutex_);
  auto& entry = locks_[id];
  if (!entry) entry = std::make_shared<std::mutex>();
  return entry;
}

Result<void> ContainerManager::Persist(const Container& container) {
  BERTH_TRY(metadata_.Update([&](StoreTransaction& transaction) {
    return transaction.Put(kKind, container.id, ContainerToJson(container));
  }));
  std::lock_guard lock(mutex_);
  containers_[container.id] = container;
  return Ok();
}

void ContainerManager::Refresh(Container& container) {
  // Only a running container can have exited behind our back (a created one waits for Start).
  if (container.state != ContainerState::kRunning) return;
  auto status = ReadExitStatus(container.state_dir);
  if (status && status->has_value()) {
    const ExitStatus& exit = **status;
    container.state = ContainerState::kExited;
    container.exit_code = exit.exit_code;
    container.finished_at_nanos = exit.finished_at_unix_nano;
    container.reason = exit.oom_killed ? "OOMKilled" : exit.exit_code == 0 ? "Completed" : "Error";
  } else if (!ProcessAlive(container.container_pid, container.container_start_time) &&
             !ProcessAlive(container.monitor_pid, container.monitor_start_time)) {
    // Gone without a recorded exit (the node rebooted, or its monitor was killed).
    container.state = ContainerState::kExited;
    container.exit_code = 255;
    container.finished_at_nanos = NowUnixNanos();
    container.reason = "Error";
    container.message = "the container's process and its monitor are gone; exit status unknown";
  } else {
    return;
  }
  (void)metadata_.Update([&](StoreTransaction& transaction) {
    return transaction.Put(kKind, container.id, ContainerToJson(container));
  });
  Publish(container, ContainerEventType::kStopped);
}

Result<Container> ContainerManager::Create(const std::string& sandbox_id,
                                           const ContainerConfig& config) {
  if (config.name.empty()) return InvalidArgument("container metadata.name is empty");
  BERTH_ASSIGN_OR_RETURN(Sandbox sandbox, sandboxes_.Get(sandbox_id));
  if (sandbox.state != SandboxState::kReady) {
    return FailedPrecondition("pod sandbox " + sandbox.id + " is not ready");
  }
  BERTH_ASSIGN_OR_RETURN(image::ImageRecord image, images_.Resolve(config.image));
  BERTH_ASSIGN_OR_RETURN(image::ImageConfig image_config, images_.Config(image));

  Container container;
  container.id = RandomHex(64);
  container.sandbox_id = sandbox.id;
  container.config = config;
  container.image_id = image.id;
  container.created_at_nanos = NowUnixNanos();
  container.bundle_dir = root_ + "/containers/" + container.id;
  // Short: the monitor's unix socket lives here, and socket paths are limited to 107 bytes.
  container.state_dir = state_ + "/c/" + container.id.substr(0, 32);
  container.cgroup_path = (sandbox.cgroup_path.empty() ? "/berth" : sandbox.cgroup_path) + "/" +
                          container.id;
  if (!image_config.stop_signal.empty()) container.stop_signal = image_config.stop_signal;
  if (!config.log_path.empty()) {
    if (sandbox.config.log_directory.empty()) {
      return InvalidArgument("log_path is set but the pod sandbox has no log_directory");
    }
    container.log_path = JoinPath(sandbox.config.log_directory, config.log_path);
  }
  std::string key = NameKey(sandbox.id, config);
  {
    std::lock_guard lock(mutex_);
    if (auto it = names_.find(key); it != names_.end()) {
      return AlreadyExists("container " + config.name + " (attempt " +
                           std::to_string(config.attempt) + ") already exists in pod " +
                           sandbox.id + " as " + it->second);
    }
    names_[key] = container.id;
  }
  Rollback undo;
  undo.Add([this, key] {
    std::lock_guard lock(mutex_);
    names_.erase(key);
  });

  // The rootfs: a writable overlay snapshot over the image's layers.
  std::vector<image::Digest> chain;
  for (const auto& layer : image.layers) chain.push_back(layer.chain_id);
  BERTH_TRY(images_.snapshots().Prepare(container.id, chain));
  undo.Add([this, id = container.id] { (void)images_.snapshots().Remove(id); });
  BERTH_TRY(MakeDirs(container.RootfsPath(), 0755));
  undo.Add([dir = container.bundle_dir] {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  });
  BERTH_TRY(MountSnapshot(sandbox, container.id, container.RootfsPath()));
  undo.Add([path = container.RootfsPath()] { (void)image::UnmountPath(path); });

  BERTH_TRY(MountImageVolumes(container, sandbox, undo));
  if (sandbox.HasOwnUserns()) BERTH_TRY(MountIdmappedVolumes(container, sandbox, undo));
  BERTH_ASSIGN_OR_RETURN(OciSpec spec, BuildOciSpec(container, sandbox, image_config));
  container.user = spec.user;
  BERTH_TRY(WriteFileAtomic(container.bundle_dir + "/config.json", spec.json, 0600));
  if (!container.log_path.empty()) {
    BERTH_TRY(MakeDirs(container.log_path.substr(0, container.log_path.find_last_of('/')), 0755));
  }
  undo.Add([dir = container.state_dir] {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  });
  // The cgroup with its limits exists before the init joins it (as runc does): the container
  // never runs unconstrained, and a bad value fails before any process exists.
  Cgroups cgroups = Cgroups::Probe();
  BERTH_TRY(cgroups.Create(container.cgroup_path));
  undo.Add([cgroups, path = container.cgroup_path] { (void)cgroups.Remove(path, SharedCgroupRoot(path)); });
  CgroupResources resources = ToCgroupResources(config.resources);
  resources.devices = spec.device_rules;
  BERTH_TRY(cgroups.Apply(container.cgroup_path, resources));
  auto monitored = SpawnMonitor({ExecutableSibling("berth-monitor"), container.bundle_dir,
                                 container.state_dir,
                                 container.log_path.empty() ? "/dev/null" : container.log_path,
                                 config.stdin, config.stdin_once});
  if (!monitored) return std::move(monitored).error().Wrap("create container " + config.name);
  container.monitor_pid = monitored->monitor_pid;
  container.monitor_start_time = ProcessStartTime(monitored->monitor_pid);
  container.container_pid = monitored->container_pid;
  container.container_start_time = ProcessStartTime(monitored->container_pid);
  undo.Add([pid = monitored->container_pid, monitor = monitored->monitor_pid,
            monitor_start = container.monitor_start_time] {
    ::kill(pid, SIGKILL);
    // The monitor records the exit and ends; wait for it so the cgroup is empty for the next undo.
    for (int i = 0; i < 200 && ProcessAlive(monitor, monitor_start); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
  container.state = ContainerState::kCreated;
  BERTH_TRY(Persist(container));
  undo.Commit();
  spdlog::info("container {} created in pod {}: {}", container.id, sandbox.id, config.name);
  Publish(container, ContainerEventType::kCreated);
  return container;
}

Result<std::string> ContainerManager::ResolveId(const std::string& id) const {
  return ResolveIdPrefix(containers_, id, "container");
}

Result<void> ContainerManager::WithContainer(
    const std::string& id, const std::function<Result<void>(Container&)>& action) {
  std::string full;
  {
    std::lock_guard lock(mutex_);
    BERTH_ASSIGN_OR_RETURN(full, ResolveId(id));
  }
  auto container_lock = LockFor(full);
  std::lock_guard guard(*container_lock);
  Container container;
  {
    std::lock_guard lock(mutex_);
    auto it = containers_.find(full);
    if (it == containers_.end()) return NotFound("container " + id + " not found");
    container = it->second;
  }
  return action(container);
}

Result<void> ContainerManager::Start(const std::string& id) {
  return WithContainer(id, [this](Container& container) -> Result<void> {
    Refresh(container);
    if (container.state != ContainerState::kCreated) {
      return FailedPrecondition("container " + container.id + " is not in the created state");
    }
    auto started = StartMonitoredContainer(container.state_dir);
    if (!started) {
      container.state = ContainerState::kExited;
      container.exit_code = 128;
      container.reason = "StartError";
      container.message = started.error().message();
      container.finished_at_nanos = NowUnixNanos();
      (void)Persist(container);
      return std::move(started).error().Wrap("start container " + container.config.name);
    }
    container.state = ContainerState::kRunning;
    container.started_at_nanos = NowUnixNanos();
    // Published before the record says "running", so the exit watcher's STOPPED comes after.
    Publish(container, ContainerEventType::kStarted);
    return Persist(container);
  });
}

Result<void> ContainerManager::StopLocked(Container& container, int64_t timeout_seconds) {
  Refresh(container);
  if (container.state == ContainerState::kExited) return Ok();
  auto wait_exit = [&](std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      auto status = ReadExitStatus(container.state_dir);
      if (status && status->has_value()) return true;
      if (!ProcessAlive(container.container_pid, container.container_start_time)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  };
  bool alive = ProcessAlive(container.container_pid, container.container_start_time);
  if (alive && timeout_seconds > 0 && container.state == ContainerState::kRunning) {
    ::kill(container.container_pid, SignalNumber(container.stop_signal));
    alive = !wait_exit(std::chrono::seconds(timeout_seconds));
  }
  if (alive) {
    ::kill(container.container_pid, SIGKILL);
    wait_exit(std::chrono::seconds(10));
  }
  // The monitor records the exit once it has drained the output pipes (up to its 2 s grace):
  // wait for that while it lives, so the real exit code is reported.
  for (int i = 0; i < 500; ++i) {
    auto status = ReadExitStatus(container.state_dir);
    if (status && status->has_value()) break;
    if (!ProcessAlive(container.monitor_pid, container.monitor_start_time)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  Refresh(container);
  if (container.state != ContainerState::kExited) {
    container.state = ContainerState::kExited;
    container.exit_code = 137;
    container.reason = "Error";
    container.finished_at_nanos = NowUnixNanos();
    Publish(container, ContainerEventType::kStopped);
  }
  return Persist(container);
}

Result<void> ContainerManager::Stop(const std::string& id, int64_t timeout_seconds) {
  auto stopped = WithContainer(id, [&](Container& container) {
    return StopLocked(container, timeout_seconds);
  });
  if (!stopped && stopped.error().code() == ErrorCode::kNotFound) return Ok();
  return stopped;
}

// A pod with a user namespace sees the image through idmapped layers (see Snapshotter).
Result<void> ContainerManager::MountSnapshot(const Sandbox& sandbox, const std::string& key,
                                             const std::string& target) {
  if (!sandbox.HasOwnUserns()) return images_.snapshots().Mount(key, target);
  // Its root (a host id other than 0) sets the container up from paths under root_.
  BERTH_TRY(CheckTraversableByOthers(target));
  BERTH_ASSIGN_OR_RETURN(UniqueFd userns, OpenFile(sandbox.UsernsPath(), O_RDONLY));
  return images_.snapshots().MountIdmapped(key, target, userns.get(), sandbox.HostRootUid(),
                                           sandbox.HostRootGid());
}

// CRI bind mounts of a pod with a user namespace: an idmapped clone of the host path (with its
// submounts), so that what host root owns is the pod root's; where the filesystem cannot be
// idmapped, or the mount propagates, the plain bind mount (host ownership) is used instead.
Result<void> ContainerManager::MountIdmappedVolumes(const Container& container, const Sandbox& sandbox,
                                                    Rollback& undo) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd userns, OpenFile(sandbox.UsernsPath(), O_RDONLY));
  const auto& mounts = container.config.mounts;
  for (size_t i = 0; i < mounts.size(); ++i) {
    if (!mounts[i].image.empty() || mounts[i].propagation != "private") continue;
    std::error_code error;
    std::string source = std::filesystem::canonical(mounts[i].host_path, error);
    if (error) continue;  // the spec builder reports the missing host path
    std::string target = IdmappedVolumePath(container, i);
    BERTH_TRY(MakeDirs(target.substr(0, target.find_last_of('/')), 0711));
    if (std::filesystem::is_directory(source)) {
      BERTH_TRY(MakeDirs(target, 0755));
    } else {
      BERTH_ASSIGN_OR_RETURN(UniqueFd file, OpenFile(target, O_WRONLY | O_CREAT, 0644));
    }
    auto attached = AttachIdmappedTree(source, target, userns.get(), true);
    if (!attached) {
      std::filesystem::remove(target, error);
      int code = attached.error().sys_errno();
      if (code != EINVAL && code != EOPNOTSUPP && code != ENOSYS && code != EPERM) return std::move(attached).error();
      spdlog::info("container {}: mount {} is not idmapped ({}); its files keep their host owners",
                   container.id, mounts[i].container_path, attached.error().message());
      continue;
    }
    undo.Add([target] { ::umount2(target.c_str(), MNT_DETACH); });
  }
  return Ok();
}

Result<void> ContainerManager::MountImageVolumes(const Container& container, const Sandbox& sandbox,
                                                 Rollback& undo) {
  const auto& mounts = container.config.mounts;
  for (size_t i = 0; i < mounts.size(); ++i) {
    if (mounts[i].image.empty()) continue;
    auto image = images_.Resolve(mounts[i].image);
    if (!image) return std::move(image).error().Wrap("image volume " + mounts[i].container_path);
    std::vector<image::Digest> chain;
    for (const auto& layer : image->layers) chain.push_back(layer.chain_id);
    std::string key = ImageVolumeKey(container.id, i), path = ImageVolumePath(container, i);
    BERTH_TRY(images_.snapshots().Prepare(key, chain));
    undo.Add([this, key] { (void)images_.snapshots().Remove(key); });
    BERTH_TRY(MakeDirs(path, 0755));
    BERTH_TRY(MountSnapshot(sandbox, key, path));
    undo.Add([path] { (void)image::UnmountPath(path); });
  }
  return Ok();
}

Result<void> ContainerManager::RemoveLocked(Container& container) {
  BERTH_TRY(StopLocked(container, 0));
  BERTH_TRY(image::UnmountPath(container.RootfsPath()));
  BERTH_TRY(images_.snapshots().Remove(container.id));
  for (size_t i = 0; i < container.config.mounts.size(); ++i) {
    // Detached before the bundle is deleted: removing the bundle must never reach a host volume.
    std::string idmapped = IdmappedVolumePath(container, i);
    if (PathExists(idmapped) && ::umount2(idmapped.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) != 0 && errno != EINVAL) {
      return Error::FromErrno(errno, "unmount " + idmapped);
    }
    if (container.config.mounts[i].image.empty()) continue;
    if (PathExists(ImageVolumePath(container, i))) BERTH_TRY(image::UnmountPath(ImageVolumePath(container, i)));
    BERTH_TRY(images_.snapshots().Remove(ImageVolumeKey(container.id, i)));
  }
  std::error_code error;
  std::filesystem::remove_all(container.bundle_dir, error);
  std::filesystem::remove_all(container.state_dir, error);
  // Containers of a pod without a cgroup parent share "/berth": it goes with the last of them.
  (void)Cgroups::Probe().Remove(container.cgroup_path, SharedCgroupRoot(container.cgroup_path));
  BERTH_TRY(metadata_.Update(
      [&](StoreTransaction& transaction) { return transaction.Delete(kKind, container.id); }));
  std::lock_guard lock(mutex_);
  names_.erase(NameKey(container.sandbox_id, container.config));
  containers_.erase(container.id);
  locks_.erase(container.id);
  cpu_samples_.erase(container.id);
  spdlog::info("container {} removed", container.id);
  Publish(container, ContainerEventType::kDeleted);
  return Ok();
}

Result<void> ContainerManager::Remove(const std::string& id) {
  auto removed = WithContainer(id, [this](Container& container) { return RemoveLocked(container); });
  if (!removed && removed.error().code() == ErrorCode::kNotFound) return Ok();
  return removed;
}

Result<void> ContainerManager::ReopenLog(const std::string& id) {
  return WithContainer(id, [](Container& container) -> Result<void> {
    if (container.state != ContainerState::kRunning) {
      return FailedPrecondition("container " + container.id + " is not running");
    }
    return ReopenMonitoredLog(container.state_dir);
  });
}

Result<Container> ContainerManager::GetRunning(const std::string& id) {
  BERTH_ASSIGN_OR_RETURN(Container container, Get(id));
  if (container.state != ContainerState::kRunning) {
    return FailedPrecondition("container " + container.id + " is not running");
  }
  return container;
}

Result<ExecSyncResult> ContainerManager::ExecSync(const std::string& id,
                                                  const std::vector<std::string>& args,
                                                  int64_t timeout_seconds) {
  if (args.empty()) return InvalidArgument("exec: no command given");
  BERTH_ASSIGN_OR_RETURN(Container container, GetRunning(id));
  ExecSyncRequest request;
  request.command = ExecRequestFor(container, args);
  request.timeout = std::chrono::seconds(timeout_seconds);
  auto result = berth::ExecSync(request);
  if (!result) return std::move(result).error().Wrap("exec in container " + container.id);
  return result;
}

Result<StartedExec> ContainerManager::StartExec(const std::string& id, const std::vector<std::string>& args,
                                                bool tty, bool stdin, bool stdout, bool stderr) {
  if (args.empty()) return InvalidArgument("exec: no command given");
  BERTH_ASSIGN_OR_RETURN(Container container, GetRunning(id));
  ExecStartRequest request = ExecRequestFor(container, args);
  request.tty = tty;
  request.stdin = stdin;
  request.stdout = stdout;
  request.stderr = stderr;
  auto started = berth::StartExec(request);
  if (!started) return std::move(started).error().Wrap("exec in container " + container.id);
  return started;
}

Result<UniqueFd> ContainerManager::Attach(const std::string& id, int in, int out, int err) {
  BERTH_ASSIGN_OR_RETURN(Container container, GetRunning(id));
  auto attached = AttachToMonitor(container.state_dir, container.config.stdin ? in : -1, out,
                                  container.config.tty ? -1 : err);
  if (!attached) return std::move(attached).error().Wrap("attach to container " + container.id);
  return attached;
}

Result<void> ContainerManager::UpdateResources(const std::string& id,
                                               const ContainerResources& resources) {
  return WithContainer(id, [&](Container& container) -> Result<void> {
    Refresh(container);
    if (container.state == ContainerState::kExited) {
      return FailedPrecondition("container " + container.id + " has exited");
    }
    BERTH_TRY(Cgroups::Probe().Apply(container.cgroup_path, ToCgroupResources(resources)));
    container.config.resources = resources;
    return Persist(container);
  });
}

std::vector<ContainerUsage> ContainerManager::Usage(const ContainerFilter& filter) {
  Cgroups cgroups = Cgroups::Probe();
  std::vector<ContainerUsage> usages;
  for (auto& container : List(filter)) {
    ContainerUsage usage;
    usage.timestamp_nanos = NowUnixNanos();
    if (container.state == ContainerState::kRunning) {
      usage.cgroup = ReadCgroupStats(cgroups, container.cgroup_path);
    }
    usage.writable_layer = images_.snapshots().SnapshotUsage(container.id);
    usage.writable_layer_mountpoint = images_.snapshots().root();
    if (usage.cgroup.has_cpu) {
      std::lock_guard lock(mutex_);
      auto& previous = cpu_samples_[container.id];
      if (previous.first > 0 && usage.timestamp_nanos > previous.first &&
          usage.cgroup.cpu_usage_ns >= previous.second) {
        double cores = static_cast<double>(usage.cgroup.cpu_usage_ns - previous.second) /
                       static_cast<double>(usage.timestamp_nanos - previous.first);
        usage.nano_cores = static_cast<uint64_t>(cores * 1e9);
      }
      previous = {usage.timestamp_nanos, usage.cgroup.cpu_usage_ns};
    }
    usage.container = std::move(container);
    usages.push_back(std::move(usage));
  }
  return usages;
}

Result<Container> ContainerManager::Get(const std::string& id) {
  // Refreshed in place, under the same lock as the exit watcher's, so an exit is seen once.
  std::lock_guard lock(mutex_);
  BERTH_ASSIGN_OR_RETURN(std::string full, ResolveId(id));
  Container& container = containers_.at(full);
  Refresh(container);
  return container;
}

std::vector<Container> ContainerManager::List(const ContainerFilter& filter) {
  std::vector<Container> result;
  std::lock_guard lock(mutex_);
  for (auto& [id, container] : containers_) {
    Refresh(container);
    if (Matches(container, filter)) result.push_back(container);
  }
  std::sort(result.begin(), result.end(), [](const Container& a, const Container& b) {
    return a.created_at_nanos < b.created_at_nanos;
  });
  return result;
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

bool ContainerManager::ImageInUse(const std::string& image_id) {
  std::lock_guard lock(mutex_);
  for (const auto& [id, container] : containers_) {
    if (container.image_id == image_id) return true;
  }
  return false;
}

}  // namespace berth::pod
