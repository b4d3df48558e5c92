#include "pod/sandbox_manager.h"

#include <sched.h>
#include <sys/mount.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include <spdlog/spdlog.h>

#include "base/file_util.h"
#include "base/id_prefix.h"
#include "base/namespaces.h"
#include "base/process_util.h"
#include "base/random.h"
#include "base/rollback.h"
#include "pod/sandbox_files.h"
#include "pod/sandbox_init.h"
#include "pod/sysctls.h"

namespace berth::pod {
namespace {

constexpr char kKind[] = "sandbox";
// The pod-wide /dev/shm, as Docker and containerd size it.
constexpr char kShmOptions[] = "mode=1777,size=65536k";

std::string NameKey(const SandboxConfig& config) {
  return config.name + "/" + config.namespace_name + "/" + config.uid + "/" +
         std::to_string(config.attempt);
}

Result<void> Validate(const SandboxConfig& config, const std::vector<std::string>& handlers) {
  if (config.name.empty()) return InvalidArgument("pod sandbox metadata.name is empty");
  if (config.namespace_name.empty()) return InvalidArgument("pod sandbox metadata.namespace is empty");
  if (config.uid.empty()) return InvalidArgument("pod sandbox metadata.uid is empty");
  if (std::find(handlers.begin(), handlers.end(), config.runtime_handler) == handlers.end()) {
    return InvalidArgument("unknown runtime handler \"" + config.runtime_handler + "\"");
  }
  if (config.hostname.size() > 64) {  // the kernel's limit (sethostname: EINVAL)
    return InvalidArgument("hostname \"" + config.hostname + "\" is longer than 64 bytes");
  }
  if (!config.log_directory.empty() && config.log_directory.front() != '/') {
    return InvalidArgument("log_directory must be absolute, got \"" + config.log_directory + "\"");
  }
  for (const auto& mapping : config.port_mappings) {
    if (mapping.protocol != "tcp" && mapping.protocol != "udp") {
      return InvalidArgument("port mapping protocol " + mapping.protocol + " is not supported");
    }
    if (mapping.container_port == 0) return InvalidArgument("port mapping without container port");
  }
  BERTH_TRY(ValidateDns(config.dns));
  return ValidateSysctls(config.sysctls, config.network_mode != NamespaceMode::kNode,
                         config.ipc_mode != NamespaceMode::kNode);
}

cni::PodNetworkRequest NetworkRequest(const Sandbox& sandbox) {
  return {sandbox.id,           sandbox.config.name,        sandbox.config.namespace_name,
          sandbox.config.uid,   sandbox.NetnsPath(),        sandbox.config.port_mappings};
}

bool Matches(const Sandbox& sandbox, const SandboxFilter& filter) {
  if (!filter.id.empty() && sandbox.id.rfind(filter.id, 0) != 0) return false;
  if (filter.state && sandbox.state != *filter.state) return false;
  for (const auto& [key, value] : filter.label_selector) {
    auto it = sandbox.config.labels.find(key);
    if (it == sandbox.config.labels.end() || it->second != value) return false;
  }
  return true;
}

// The pod's files: hostname, hosts, and resolv.conf (from DNSConfig; a host-network pod without
// one gets the host's, as kubelet expects).
Result<void> WriteFiles(const Sandbox& sandbox) {
  BERTH_TRY(MakeDirs(sandbox.dir + "/etc", 0755));
  BERTH_TRY(WriteFileAtomic(sandbox.HostnamePath(), HostnameFile(sandbox.config.hostname)));
  BERTH_TRY(WriteFileAtomic(sandbox.HostsPath(), HostsFile(sandbox.config.hostname, sandbox.ips)));
  std::string resolv = ResolvConf(sandbox.config.dns);
  if (resolv.empty() && !sandbox.HasOwnNetwork()) {
    auto host = ReadFile("/etc/resolv.conf", 1 << 20);
    if (host) resolv = *host;
  }
  return WriteFileAtomic(sandbox.ResolvConfPath(), resolv);
}

void UnmountQuietly(const std::string& path) { ::umount2(path.c_str(), MNT_DETACH); }

}  // namespace

SandboxManager::SandboxManager(std::string state_dir, MetadataStore& metadata,
                               cni::PodNetwork& network, std::vector<std::string> handlers)
    : state_dir_(std::move(state_dir)),
      metadata_(metadata),
      network_(network),
      handlers_(std::move(handlers)),
      cgroups_(Cgroups::Probe()) {}

Result<void> SandboxManager::Load() {
  BERTH_ASSIGN_OR_RETURN(auto objects, metadata_.List(kKind));
  std::lock_guard lock(mutex_);
  for (const auto& object : objects) {
    auto sandbox = SandboxFromJson(object.data);
    if (!sandbox) return std::move(sandbox).error().Wrap("sandbox " + object.id);
    if (sandbox->state == SandboxState::kReady) {
      bool net_ok = !sandbox->HasOwnNetwork() || PathExists(sandbox->NetnsPath());
      bool init_ok = sandbox->config.pid_mode != NamespaceMode::kPod ||
                     PodInitAlive({sandbox->init_pid, sandbox->init_start_time});
      if (!net_ok || !init_ok) {
        spdlog::warn("sandbox {} lost its namespaces while berthd was down; marking it not ready",
                     sandbox->id);
        sandbox->state = SandboxState::kNotReady;
      }
    }
    names_[NameKey(sandbox->config)] = sandbox->id;
    sandboxes_[sandbox->id] = std::move(*sandbox);
  }
  spdlog::info("loaded {} pod sandboxes", sandboxes_.size());
  return Ok();
}

std::shared_ptr<std::mutex> SandboxManager::LockFor(const std::string& id) {
  std::lock_guard lock(mutex_);
  auto& entry = locks_[id];
  if (!entry) entry = std::make_shared<std::mutex>();
  return entry;
}

Result<void> SandboxManager::Persist(const Sandbox& sandbox) {
  BERTH_TRY(metadata_.Update([&](StoreTransaction& transaction) {
    return transaction.Put(kKind, sandbox.id, SandboxToJson(sandbox));
  }));
  std::lock_guard lock(mutex_);
  sandboxes_[sandbox.id] = sandbox;
  return Ok();
}

namespace {
std::string NodeHostname() {
  struct utsname uts {};
  return ::uname(&uts) == 0 ? std::string(uts.nodename) : std::string("localhost");
}
}  // namespace

Result<Sandbox> SandboxManager::Run(const SandboxConfig& config) {
  BERTH_TRY(Validate(config, handlers_));
  Sandbox sandbox;
  sandbox.config = config;
  // No hostname given: the node's, as containerd and CRI-O do (a pod name can be longer than the
  // kernel's 64 bytes).
  if (sandbox.config.hostname.empty()) sandbox.config.hostname = NodeHostname();
  sandbox.id = RandomHex(64);
  sandbox.dir = state_dir_ + "/pods/" + sandbox.id;
  sandbox.created_at_nanos = NowUnixNanos();
  std::string key = NameKey(config);
  {
    std::lock_guard lock(mutex_);
    if (auto it = names_.find(key); it != names_.end()) {
      return AlreadyExists("pod sandbox " + config.namespace_name + "/" + config.name +
                           " (uid " + config.uid + ", attempt " + std::to_string(config.attempt) +
                           ") already exists as " + it->second);
    }
    names_[key] = sandbox.id;  // reserved while it is being created
  }
  Rollback undo;
  undo.Add([this, key] {
    std::lock_guard lock(mutex_);
    names_.erase(key);
  });
  undo.Add([dir = sandbox.dir] {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  });
  BERTH_TRY(MakeDirs(sandbox.dir, 0711));

  // 1. Namespaces, pinned (host network pods keep the host's UTS namespace too, as in Kubernetes).
  // With a pod user namespace, it owns the others (so the pod's root may configure them).
  if (sandbox.HasOwnUserns() && (!sandbox.HasOwnNetwork() || !sandbox.HasOwnIpc() ||
                                 config.pid_mode == NamespaceMode::kNode)) {
    return InvalidArgument("a pod with a user namespace needs its own network, IPC and PID namespaces");
  }
  if (sandbox.HasOwnUserns()) {
    // The pod's root is a host id other than 0: the paths its containers are set up from must be
    // reachable for it (as with runc/containerd; berthd makes its own directories 0711).
    BERTH_TRY(CheckTraversableByOthers(state_dir_));
  }
  PinnedNamespaceRequest namespaces{sandbox.dir + "/ns", sandbox.HasOwnNetwork(),
                                    sandbox.HasOwnIpc(), sandbox.HasOwnNetwork(),
                                    sandbox.config.hostname};
  UserNamespaceMaps maps{IdMapText(config.uid_mappings), IdMapText(config.gid_mappings)};
  BERTH_TRY(CreatePinnedNamespaces(namespaces, sandbox.HasOwnUserns() ? &maps : nullptr));
  undo.Add([&sandbox] {
    for (const auto& pin : {sandbox.NetnsPath(), sandbox.IpcnsPath(), sandbox.UtsnsPath(), sandbox.UsernsPath()}) {
      (void)UnpinNamespace(pin);
    }
  });

  // 2. Sysctls inside them.
  if (!config.sysctls.empty()) {
    BERTH_TRY(ApplySysctls(config.sysctls, sandbox.NetnsPath(), sandbox.IpcnsPath(),
                           sandbox.UtsnsPath()));
  }

  // 3. The pod's /dev/shm.
  if (sandbox.HasOwnIpc()) {
    BERTH_TRY(MakeDirs(sandbox.ShmPath(), 0755));
    // Owned by the pod's root, whatever host id that is.
    std::string shm_options = std::string(kShmOptions) + ",uid=" + std::to_string(sandbox.HostRootUid()) +
                              ",gid=" + std::to_string(sandbox.HostRootGid());
    if (::mount("shm", sandbox.ShmPath().c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                shm_options.c_str()) != 0) {
      return Error::FromErrno(errno, "mount pod /dev/shm");
    }
    undo.Add([path = sandbox.ShmPath()] { UnmountQuietly(path); });
  }

  // 4. The pod cgroup.
  if (!config.cgroup_parent.empty()) {
    BERTH_ASSIGN_OR_RETURN(sandbox.cgroup_path, CgroupParentToPath(config.cgroup_parent));
    BERTH_ASSIGN_OR_RETURN(sandbox.cgroup_created, cgroups_.Create(sandbox.cgroup_path));
    if (!sandbox.cgroup_created.empty()) {
      undo.Add([this, &sandbox] { (void)cgroups_.Remove(sandbox.cgroup_path, sandbox.cgroup_created); });
    }
    CgroupResources resources;
    resources.cpu_shares = config.cpu_shares;
    resources.cpu_quota = config.cpu_quota;
    resources.cpu_period = config.cpu_period;
    resources.memory_limit_bytes = config.memory_limit_bytes;
    BERTH_TRY(cgroups_.Apply(sandbox.cgroup_path, resources));
  }

  // 5. The network.
  if (sandbox.HasOwnNetwork()) {
    auto attached = network_.Setup(NetworkRequest(sandbox));
    if (!attached) return std::move(attached).error().Wrap("set up pod network");
    sandbox.ips = attached->ips;
    undo.Add([this, &sandbox] { (void)network_.Teardown(NetworkRequest(sandbox)); });
  }

  // 6. Files the containers share.
  BERTH_TRY(WriteFiles(sandbox));

  // 7. The shared PID namespace's init.
  if (config.pid_mode == NamespaceMode::kPod) {
    BERTH_ASSIGN_OR_RETURN(InitProcess init,
                           StartPodInit(sandbox.HasOwnUserns() ? sandbox.UsernsPath() : "",
                                        sandbox.HasOwnNetwork() ? sandbox.NetnsPath() : "",
                                        sandbox.HasOwnIpc() ? sandbox.IpcnsPath() : "",
                                        sandbox.HasOwnNetwork() ? sandbox.UtsnsPath() : ""));
    sandbox.init_pid = init.pid;
    sandbox.init_start_time = init.start_time;
    undo.Add([init] { StopPodInit(init); });
  }

  sandbox.state = SandboxState::kReady;
  BERTH_TRY(Persist(sandbox));
  undo.Commit();
  spdlog::info("pod sandbox {} ready: {}/{} ips=[{}]", sandbox.id, config.namespace_name,
               config.name, sandbox.ips.empty() ? "" : sandbox.ips.front());
  return sandbox;
}

Result<std::string> SandboxManager::ResolveId(const std::string& id) const {
  return ResolveIdPrefix(sandboxes_, id, "pod sandbox");
}

Result<Sandbox> SandboxManager::Get(const std::string& id) const {
  std::lock_guard lock(mutex_);
  BERTH_ASSIGN_OR_RETURN(std::string full, ResolveId(id));
  return sandboxes_.at(full);
}

std::vector<Sandbox> SandboxManager::List(const SandboxFilter& filter) const {
  std::lock_guard lock(mutex_);
  std::vector<Sandbox> result;
  for (const auto& [id, sandbox] : sandboxes_) {
    if (Matches(sandbox, filter)) result.push_back(sandbox);
  }
  std::sort(result.begin(), result.end(), [](const Sandbox& a, const Sandbox& b) {
    return a.created_at_nanos < b.created_at_nanos;
  });
  return result;
}

Result<void> SandboxManager::StopLocked(Sandbox& sandbox) {
  if (stop_containers_) BERTH_TRY(stop_containers_(sandbox.id));
  StopPodInit({sandbox.init_pid, sandbox.init_start_time});
  if (sandbox.HasOwnNetwork()) {
    auto detached = network_.Teardown(NetworkRequest(sandbox));
    if (!detached) return std::move(detached).error().Wrap("tear down pod network");
  }
  UnmountQuietly(sandbox.ShmPath());
  for (const auto& pin : {sandbox.NetnsPath(), sandbox.IpcnsPath(), sandbox.UtsnsPath(), sandbox.UsernsPath()}) {
    BERTH_TRY(UnpinNamespace(pin));
  }
  if (sandbox.state != SandboxState::kNotReady) {
    sandbox.state = SandboxState::kNotReady;
    BERTH_TRY(Persist(sandbox));
    spdlog::info("pod sandbox {} stopped", sandbox.id);
  }
  return Ok();
}

Result<void> SandboxManager::WithSandbox(const std::string& id,
                                         const std::function<Result<void>(Sandbox&)>& action) {
  std::string full;
  {
    std::lock_guard lock(mutex_);
    auto resolved = ResolveId(id);
    // Stop and remove of a sandbox that is gone are successes: kubelet retries them.
    if (!resolved && resolved.error().code() == ErrorCode::kNotFound) return Ok();
    if (!resolved) return resolved.error();
    full = *resolved;
  }
  auto sandbox_lock = LockFor(full);
  std::lock_guard guard(*sandbox_lock);
  Sandbox sandbox;
  {
    std::lock_guard lock(mutex_);
    auto it = sandboxes_.find(full);
    if (it == sandboxes_.end()) return Ok();  // removed meanwhile
    sandbox = it->second;
  }
  return action(sandbox);
}

Result<void> SandboxManager::Stop(const std::string& id) {
  return WithSandbox(id, [this](Sandbox& sandbox) { return StopLocked(sandbox); });
}

Result<void> SandboxManager::Remove(const std::string& id) {
  return WithSandbox(id, [this](Sandbox& sandbox) { return RemoveLocked(sandbox); });
}

Result<void> SandboxManager::RemoveLocked(Sandbox& sandbox) {
  BERTH_TRY(StopLocked(sandbox));
  if (remove_containers_) BERTH_TRY(remove_containers_(sandbox.id));
  if (!sandbox.cgroup_created.empty()) {
    // Only what berth created goes; kubelet owns (and removes) the cgroups it made itself.
    auto removed = cgroups_.Remove(sandbox.cgroup_path, sandbox.cgroup_created);
    if (!removed) spdlog::warn("sandbox {}: {}", sandbox.id, removed.error().message());
  }
  std::error_code error;
  std::filesystem::remove_all(sandbox.dir, error);
  if (error) return Internal("remove " + sandbox.dir + ": " + error.message());
  BERTH_TRY(metadata_.Update(
      [&](StoreTransaction& transaction) { return transaction.Delete(kKind, sandbox.id); }));
  std::lock_guard lock(mutex_);
  names_.erase(NameKey(sandbox.config));
  sandboxes_.erase(sandbox.id);
  locks_.erase(sandbox.id);
  spdlog::info("pod sandbox {} removed", sandbox.id);
  return Ok();
}

}  // namespace berth::pod
