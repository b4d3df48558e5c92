#include "pod/sandbox_manager.h"

#include <spdlog/spdlog.h>
#include <sys/utsname.h>

#include "base/failpoint.h"
#include "base/file_util.h"
#include "base/process_util.h"
#include "base/random.h"
#include "base/remove_tree.h"
#include "pod/sandbox_files.h"
#include "pod/sysctls.h"
#include "pod/validation.h"
#include "runtime/mounts.h"
#include "runtime/pinned_namespaces.h"
#include "runtime/pod_init.h"

namespace berth::pod {
namespace {

std::string NameKey(const SandboxConfig& config) {
  return config.name + "/" + config.namespace_name + "/" + config.uid + "/" +
         std::to_string(config.attempt);
}

RecordCodec<Sandbox> SandboxCodec() {
  return {"sandbox", "pod sandbox", SandboxToJson, SandboxFromJson,
          [](const Sandbox& sandbox) { return NameKey(sandbox.config); }};
}

cni::PodNetworkRequest NetworkRequest(const Sandbox& sandbox) {
  return {sandbox.id,         sandbox.config.name, sandbox.config.namespace_name,
          sandbox.config.uid, sandbox.NetnsPath(), sandbox.config.port_mappings};
}

bool Matches(const Sandbox& sandbox, const SandboxFilter& filter) {
  if (!filter.id.empty() && sandbox.id.rfind(filter.id, 0) != 0) return false;
  if (filter.state && sandbox.state != *filter.state) return false;
  return MatchesLabels(sandbox.config.labels, filter.label_selector);
}

runtime::ProcessIdentity InitOf(const Sandbox& sandbox) {
  return {sandbox.init_pid, sandbox.init_start_time};
}

std::vector<std::string> NamespacePins(const Sandbox& sandbox) {
  return {sandbox.NetnsPath(), sandbox.IpcnsPath(), sandbox.UtsnsPath(), sandbox.UsernsPath()};
}

Result<void> UnpinAll(const Sandbox& sandbox) {
  for (const auto& pin : NamespacePins(sandbox)) BERTH_TRY(runtime::UnpinNamespace(pin));
  return Ok();
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

std::string NodeHostname() {
  struct utsname uts {};
  return ::uname(&uts) == 0 ? std::string(uts.nodename) : std::string("localhost");
}

}  // namespace

SandboxManager::SandboxManager(std::string state_dir, MetadataStore& metadata,
                               cni::PodNetwork& network, std::vector<std::string> handlers)
    : state_dir_(std::move(state_dir)),
      network_(network),
      handlers_(std::move(handlers)),
      cgroups_(runtime::Cgroups::Probe()),
      records_(metadata, SandboxCodec()) {}

Result<void> SandboxManager::Load() {
  BERTH_ASSIGN_OR_RETURN(size_t count, records_.Load());
  for (auto sandbox :
       records_.Select([](const Sandbox& s) { return s.state == SandboxState::kReady; })) {
    bool net_ok = !sandbox.HasOwnNetwork() || PathExists(sandbox.NetnsPath());
    bool init_ok =
        sandbox.config.pid_mode != NamespaceMode::kPod || runtime::ProcessAlive(InitOf(sandbox));
    if (net_ok && init_ok) continue;
    spdlog::warn("sandbox {} lost its namespaces while berthd was down; marking it not ready",
                 sandbox.id);
    sandbox.state = SandboxState::kNotReady;
    BERTH_TRY(records_.Put(sandbox));
  }
  spdlog::info("loaded {} pod sandboxes", count);
  return Ok();
}

Result<Sandbox> SandboxManager::Run(const SandboxConfig& config, const CancelToken& caller) {
  BERTH_TRY(ValidateSandboxConfig(config, handlers_));
  std::string key = NameKey(config), id = RandomHex(64);
  auto claim = records_.Claim(key, id, caller.SteadyDeadline());
  if (claim.kind == NameClaim::Kind::kRetryOf) {
    spdlog::info("pod sandbox {}: answering kubelet's retry of its RunPodSandbox", claim.id);
    return records_.Get(claim.id);
  }
  if (claim.kind == NameClaim::Kind::kTaken) {
    return AlreadyExists("pod sandbox " + config.namespace_name + "/" + config.name + " (uid " +
                         config.uid + ", attempt " + std::to_string(config.attempt) +
                         ") already exists as " + claim.id);
  }
  auto made = RunClaimed(config, id);
  bool caller_gone = caller.expired() || caller.cancelled();
  records_.Finish(key, made.ok(), caller_gone);
  if (made && caller_gone) spdlog::warn("pod sandbox {} outlived its call; kept for the retry", id);
  if (made) {
    // Created and started at once: berth has no pause container to start apart.
    Publish(*made, ContainerEventType::kCreated);
    Publish(*made, ContainerEventType::kStarted);
  }
  return made;
}

Result<Sandbox> SandboxManager::RunClaimed(const SandboxConfig& config, const std::string& id) {
  Sandbox sandbox;
  sandbox.config = config;
  // No hostname given: the node's, as containerd and CRI-O do (a pod name can be longer than the
  // kernel's 64 bytes).
  std::string node = NodeHostname();
  if (sandbox.config.hostname.empty()) sandbox.config.hostname = node;
  // A host-network pod keeps the node's UTS namespace: another name would show in /etc/hostname
  // and $HOSTNAME while `hostname` said the node's. Refused, as containerd refuses it (runc will
  // not set a hostname without a UTS namespace of its own); kubelet sends none for such a pod.
  if (!sandbox.HasOwnNetwork() && sandbox.config.hostname != node) {
    return InvalidArgument("hostname \"" + sandbox.config.hostname +
                           "\" for a host-network pod: it shares the node's UTS namespace, whose "
                           "hostname is \"" +
                           node + "\" (leave hostname empty)");
  }
  sandbox.id = id;
  sandbox.dir = state_dir_ + "/pods/" + sandbox.id;
  sandbox.created_at_nanos = NowUnixNanos();
  if (sandbox.HasOwnUserns() && (!sandbox.HasOwnNetwork() || !sandbox.HasOwnIpc() ||
                                 config.pid_mode == NamespaceMode::kNode)) {
    return InvalidArgument(
        "a pod with a user namespace needs its own network, IPC and PID namespaces");
  }
  if (sandbox.HasOwnUserns()) {
    // The pod's root is a host id other than 0: the paths its containers are set up from must be
    // reachable for it (as with runc/containerd; berthd makes its own directories 0711).
    BERTH_TRY(CheckTraversableByOthers(state_dir_));
  }
  Rollback ledger("RunPodSandbox", "pod sandbox " + sandbox.id + " (" + config.namespace_name +
                                       "/" + config.name + ")");
  BERTH_TRY(MakeDirs(sandbox.dir, 0711));
  BERTH_TRY(ledger.Done("dir", [dir = sandbox.dir] { return RemoveTree(dir); }));

  // Namespaces, pinned (host network pods keep the host's UTS namespace too, as in Kubernetes).
  // With a pod user namespace, it owns the others (so the pod's root may configure them).
  runtime::PinnedNamespaceRequest namespaces{sandbox.dir + "/ns", sandbox.HasOwnNetwork(),
                                             sandbox.HasOwnIpc(), sandbox.HasOwnNetwork(),
                                             sandbox.config.hostname};
  runtime::UserNamespaceMaps maps{IdMapText(config.uid_mappings), IdMapText(config.gid_mappings)};
  BERTH_TRY(runtime::CreatePinnedNamespaces(namespaces, sandbox.HasOwnUserns() ? &maps : nullptr));
  BERTH_TRY(ledger.Done("namespaces", [sandbox] { return UnpinAll(sandbox); }));
  if (!config.sysctls.empty()) {
    BERTH_TRY(ApplySysctls(config.sysctls, sandbox.NetnsPath(), sandbox.IpcnsPath(),
                           sandbox.UtsnsPath()));
    BERTH_TRY(ledger.Done("sysctls"));
  }
  BERTH_TRY(SetUpShmAndCgroup(sandbox, ledger));
  BERTH_TRY(SetUpNetworkAndInit(sandbox, ledger));
  sandbox.state = SandboxState::kReady;
  BERTH_TRY(records_.Put(sandbox));
  BERTH_TRY(ledger.Done("record", [this, sandbox] { return records_.Erase(sandbox); }));
  ledger.Commit();
  spdlog::info("pod sandbox {} ready: {}/{} ips=[{}]", sandbox.id, config.namespace_name,
               config.name, sandbox.ips.empty() ? "" : sandbox.ips.front());
  return sandbox;
}

// The pod cgroup's share of a sandbox config: its pod-level limits.
static runtime::CgroupResources PodCgroupResources(const SandboxConfig& config) {
  runtime::CgroupResources resources;
  resources.cpu_shares = config.cpu_shares;
  resources.cpu_quota = config.cpu_quota;
  resources.cpu_period = config.cpu_period;
  resources.memory_limit_bytes = config.memory_limit_bytes;
  return resources;
}

Result<void> SandboxManager::SetUpShmAndCgroup(Sandbox& sandbox, Rollback& ledger) {
  if (sandbox.HasOwnIpc()) {
    BERTH_TRY(
        runtime::MountPodShm(sandbox.ShmPath(), sandbox.HostRootUid(), sandbox.HostRootGid()));
    BERTH_TRY(
        ledger.Done("shm", [path = sandbox.ShmPath()] { return runtime::UnmountIfMounted(path); }));
  }
  const SandboxConfig& config = sandbox.config;
  if (config.cgroup_parent.empty()) return Ok();
  BERTH_ASSIGN_OR_RETURN(sandbox.cgroup_path, cgroups_.PodPath(config.cgroup_parent));
  BERTH_ASSIGN_OR_RETURN(sandbox.cgroup_created, cgroups_.Create(sandbox.cgroup_path));
  if (!sandbox.cgroup_created.empty()) {
    BERTH_TRY(
        ledger.Done("cgroup", [this, path = sandbox.cgroup_path, created = sandbox.cgroup_created] {
          return cgroups_.Destroy(path, created);
        }));
  }
  BERTH_TRY(cgroups_.Apply(sandbox.cgroup_path, PodCgroupResources(config)));
  return ledger.Done("cgroup-limits");
}

Result<void> SandboxManager::UpdateResources(const std::string& id, const PodLimits& limits) {
  // Unlike stop and remove, an unknown pod is NotFound (kubelet only resizes pods it runs).
  if (auto resolved = records_.Resolve(id); !resolved) return resolved.error();
  return WithSandbox(id, [&](Sandbox& sandbox) -> Result<void> {
    SandboxConfig& config = sandbox.config;
    config.cpu_shares = limits.cpu_shares;
    config.cpu_quota = limits.cpu_quota;
    config.cpu_period = limits.cpu_period;
    config.memory_limit_bytes = limits.memory_limit_bytes;
    if (!sandbox.cgroup_path.empty()) {
      auto applied = cgroups_.Apply(sandbox.cgroup_path, PodCgroupResources(config));
      if (!applied) {
        return Error(applied.error().code(), "update resources of pod sandbox " + sandbox.id +
                                                 ": " + applied.error().message());
      }
    }
    BERTH_TRY(records_.Put(sandbox));
    spdlog::info("pod sandbox {}: resources updated", sandbox.id);
    return Ok();
  });
}

Result<void> SandboxManager::SetUpNetworkAndInit(Sandbox& sandbox, Rollback& ledger) {
  if (sandbox.HasOwnNetwork()) {
    auto attached = network_.Setup(NetworkRequest(sandbox));
    if (!attached) return std::move(attached).error().Wrap("set up pod network");
    sandbox.ips = attached->ips;
    BERTH_TRY(ledger.Done("network", [this, request = NetworkRequest(sandbox)] {
      return network_.Teardown(request);
    }));
  }
  BERTH_TRY(WriteFiles(sandbox));
  BERTH_TRY(ledger.Done("files"));
  if (sandbox.config.pid_mode != NamespaceMode::kPod) return Ok();
  BERTH_ASSIGN_OR_RETURN(
      runtime::ProcessIdentity init,
      runtime::StartPodInit(sandbox.id, sandbox.HasOwnUserns() ? sandbox.UsernsPath() : "",
                            sandbox.HasOwnNetwork() ? sandbox.NetnsPath() : "",
                            sandbox.HasOwnIpc() ? sandbox.IpcnsPath() : "",
                            sandbox.HasOwnNetwork() ? sandbox.UtsnsPath() : ""));
  sandbox.init_pid = init.pid;
  sandbox.init_start_time = init.start_time;
  BERTH_TRY(ledger.Done("pod-init", [init]() -> Result<void> {
    if (!runtime::StopPodInit(init)) return Internal("the pod init did not end after SIGKILL");
    return Ok();
  }));
  return cgroups_.PlaceHelper(init.pid, "pod-init", sandbox.id);
}

void SandboxManager::Publish(const Sandbox& sandbox, ContainerEventType type) {
  if (publish_) publish_(sandbox, type);
}

Result<Sandbox> SandboxManager::Get(const std::string& id) const {
  return records_.Get(id);
}

std::vector<Sandbox> SandboxManager::List(const SandboxFilter& filter) const {
  return records_.Select([&](const Sandbox& sandbox) { return Matches(sandbox, filter); });
}

Result<void> SandboxManager::StopLocked(Sandbox& sandbox) {
  if (stop_containers_) BERTH_TRY(stop_containers_(sandbox.id));
  if (!runtime::StopPodInit(InitOf(sandbox))) {
    return Internal("pod sandbox " + sandbox.id + ": its init did not end after SIGKILL");
  }
  BERTH_TRY(Failpoint("StopPodSandbox/containers-stopped"));
  if (sandbox.HasOwnNetwork()) {
    auto detached = network_.Teardown(NetworkRequest(sandbox));
    if (!detached) return std::move(detached).error().Wrap("tear down pod network");
  }
  BERTH_TRY(Failpoint("StopPodSandbox/network-down"));
  BERTH_TRY(runtime::UnmountIfMounted(sandbox.ShmPath()));
  BERTH_TRY(UnpinAll(sandbox));
  if (sandbox.state != SandboxState::kNotReady) {
    sandbox.state = SandboxState::kNotReady;
    BERTH_TRY(records_.Put(sandbox));
    spdlog::info("pod sandbox {} stopped", sandbox.id);
    Publish(sandbox, ContainerEventType::kStopped);
  }
  return Ok();
}

Result<void> SandboxManager::WithSandbox(const std::string& id,
                                         const std::function<Result<void>(Sandbox&)>& action) {
  // Stop and remove of a sandbox that is gone are successes: kubelet retries them. Only the ID's
  // resolution may say so; a NotFound from deeper down is a real failure.
  auto resolved = records_.Resolve(id);
  if (!resolved && resolved.error().code() == ErrorCode::kNotFound) return Ok();
  if (!resolved) return resolved.error();
  auto sandbox_lock = records_.LockFor(*resolved);
  std::lock_guard guard(*sandbox_lock);
  auto sandbox = records_.Find(*resolved);
  if (!sandbox) return Ok();  // removed meanwhile
  return action(*sandbox);
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
    auto removed = cgroups_.Destroy(sandbox.cgroup_path, sandbox.cgroup_created);
    if (!removed) spdlog::warn("sandbox {}: {}", sandbox.id, removed.error().message());
  }
  BERTH_TRY(Failpoint("RemovePodSandbox/containers-removed"));
  BERTH_TRY(RemoveTree(sandbox.dir));
  BERTH_TRY(Failpoint("RemovePodSandbox/dir-removed"));
  BERTH_TRY(records_.Erase(sandbox));
  spdlog::info("pod sandbox {} removed", sandbox.id);
  Publish(sandbox, ContainerEventType::kDeleted);
  return Ok();
}

}  // namespace berth::pod
