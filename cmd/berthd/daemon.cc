#include "cmd/berthd/daemon.h"

#include <unistd.h>

#include <chrono>
#include <map>

#include "base/child_reaper.h"
#include "base/file_util.h"
#include "base/lock_file.h"
#include "base/logging.h"
#include "base/signals.h"
#include "base/version.h"
#include "cmd/berthd/shutdown_watchdog.h"
#include "cni/builtin/builtin_network.h"
#include "cni/plugin/cni_network.h"
#include "cri/admin_service.h"
#include "cri/container_streams.h"
#include "cri/image_service.h"
#include "cri/runtime_service.h"
#include "cri/server.h"
#include "cri/streaming/server.h"
#include "image/image_manager.h"
#include "image/registry/registry_provider.h"
#include "metrics/berth_metrics.h"
#include "metrics/http_endpoint.h"
#include "pod/reconciler.h"
#include "pod/sandbox_manager.h"
#include "runtime/cgroups.h"
#include "runtime/host_features.h"
#include "store/metadata_store.h"

namespace berth {
namespace {

using cri::InFlightRpcs;

// In-flight RPCs get this long to finish at shutdown before they are cancelled.
constexpr std::chrono::seconds kShutdownGrace(10);
// And the whole shutdown this much more: then berthd exits even if a handler (or any later step)
// never returns.
constexpr std::chrono::seconds kShutdownSlack(2);

// The shutdown watchdog's last resort: say what is stuck, and exit without running the
// destructors the stuck threads still use.
[[noreturn]] void AbandonShutdown(InFlightRpcs& in_flight, const std::string& listen) {
  std::string stuck = in_flight.Describe();
  spdlog::error(
      "shutdown did not finish within {} s; CRI calls still in flight: {}; exiting "
      "without waiting for them",
      (kShutdownGrace + kShutdownSlack).count(),
      stuck.empty() ? "none (a later shutdown step is stuck)" : stuck);
  spdlog::default_logger()->flush();
  ::unlink(listen.c_str());
  ::_exit(1);
}

Result<std::unique_ptr<cni::PodNetwork>> MakeNetwork(const Config& config, MetadataStore& store) {
  if (config.network.mode == "cni") {
    return cni::MakeCniNetwork(config.network, config.root + "/cni-cache");
  }
  return cni::MakeBuiltinNetwork(config.network, store);
}

const char* ContainerStateName(pod::ContainerState state) {
  switch (state) {
    case pod::ContainerState::kCreated: return "created";
    case pod::ContainerState::kRunning: return "running";
    case pod::ContainerState::kExited: return "exited";
    case pod::ContainerState::kUnknown: break;
  }
  return "unknown";
}

// The gauges of what berthd holds, computed at each scrape.
void CollectState(metrics::Registry& registry, const pod::SandboxManager& sandboxes,
                  const pod::ContainerManager& containers, const image::ImageManager& images) {
  std::map<std::string, int> pods = {{"ready", 0}, {"notready", 0}};
  for (const auto& sandbox : sandboxes.List({})) {
    ++pods[sandbox.state == pod::SandboxState::kReady ? "ready" : "notready"];
  }
  for (const auto& [state, count] : pods) registry.Set(metrics::kPods, {{"state", state}}, count);
  std::map<std::string, int> by_state = {
      {"created", 0}, {"running", 0}, {"exited", 0}, {"unknown", 0}};
  int monitors = 0;
  for (const auto& container : containers.List({})) {
    ++by_state[ContainerStateName(container.state)];
    bool live = container.state == pod::ContainerState::kCreated ||
                container.state == pod::ContainerState::kRunning;
    if (live && container.monitor_pid > 0) ++monitors;
  }
  for (const auto& [state, count] : by_state) {
    registry.Set(metrics::kContainers, {{"state", state}}, count);
  }
  registry.Set(metrics::kMonitors, {}, monitors);
  auto records = images.List();
  double bytes = 0;
  for (const auto& record : records) bytes += static_cast<double>(record.size);
  registry.Set(metrics::kImages, {}, static_cast<double>(records.size()));
  registry.Set(metrics::kImageStoreBytes, {}, bytes);
}

// Removes the collectors (they hold references to RunDaemon's locals) when it returns.
struct CollectorsGuard {
  ~CollectorsGuard() { metrics::DefaultRegistry().ClearCollectors(); }
};

// User-namespaced pods get their rootfs as an overlay over idmapped layers: report them
// supported (Status) only where that mount works, tried here rather than inferred from the
// kernel's version (Debian 12's 6.1 has user namespaces and idmapped mounts, and overlayfs
// over idmapped lowers only through the classic mount options).
void CheckUserNamespaces(runtime::HostFeatures& host, image::ImageManager& images) {
  if (!host.user_namespaces || !host.mount_setattr) return;
  if (auto probed = images.snapshots().ProbeIdmappedMount(); !probed) {
    spdlog::warn("user namespaces for pods are off: {}", probed.error().message());
    host.user_namespaces = false;
  }
}

// The managers' calls into each other, set once both exist.
void ConnectManagers(pod::SandboxManager& sandboxes, pod::ContainerManager& containers,
                     image::ImageManager& images) {
  sandboxes.SetStopContainersHook([&](const std::string& id) { return containers.StopAll(id); });
  sandboxes.SetRemoveContainersHook(
      [&](const std::string& id) { return containers.RemoveAll(id); });
  sandboxes.SetEventHook([&](const pod::Sandbox& sandbox, pod::ContainerEventType type) {
    containers.PublishSandboxEvent(sandbox, type);
  });
  images.SetInUseCheck([&](const std::string& id) { return containers.ImageInUse(id); });
}

streaming::StreamingServerConfig StreamingConfigOf(const Config& config) {
  streaming::StreamingServerConfig streaming;
  streaming.address = config.streaming.address;
  streaming.port = static_cast<uint16_t>(config.streaming.port);
  streaming.token_ttl = std::chrono::seconds(config.streaming.token_ttl_seconds);
  if (!config.streaming.tls_cert_file.empty())
    streaming.tls_cert_file = config.streaming.tls_cert_file;
  if (!config.streaming.tls_key_file.empty())
    streaming.tls_key_file = config.streaming.tls_key_file;
  return streaming;
}

// The Prometheus endpoint where metrics.address asks for one (none otherwise).
Result<std::unique_ptr<metrics::HttpEndpoint>> StartMetricsEndpoint(
    const Config& config, pod::SandboxManager& sandboxes, pod::ContainerManager& containers,
    image::ImageManager& images) {
  if (config.metrics.address.empty()) return std::unique_ptr<metrics::HttpEndpoint>();
  metrics::DefaultRegistry().AddCollector(
      [&](metrics::Registry& registry) { CollectState(registry, sandboxes, containers, images); });
  BERTH_ASSIGN_OR_RETURN(auto endpoint, metrics::HttpEndpoint::Start(config.metrics.address,
                                                                     metrics::DefaultRegistry()));
  spdlog::info("metrics endpoint at {}", endpoint->url());
  return endpoint;
}

}  // namespace

Result<void> RunDaemon(const Config& config) {
  // Destroyed last, so that it also watches every destructor the shutdown runs.
  ShutdownWatchdog watchdog;
  metrics::DefineBerthMetrics(metrics::DefaultRegistry());
  // Every claim first, so that a second berthd changes nothing before it fails.
  BERTH_ASSIGN_OR_RETURN(LockFile socket_claim, cri::ClaimSocket(config.listen));
  BERTH_TRY(MakeDirs(config.root, 0711));
  BERTH_TRY(MakeDirs(config.state, 0711));
  BERTH_ASSIGN_OR_RETURN(LockFile root_lock,
                         LockFile::Acquire(config.root + "/berthd.lock", "root " + config.root));
  BERTH_ASSIGN_OR_RETURN(LockFile state_lock,
                         LockFile::Acquire(config.state + "/berthd.lock", "state " + config.state));
  // Monitors and pod inits end as berthd's zombies, reaped at once, not as PID 1's.
  BERTH_TRY(StartChildReaper());
  BERTH_ASSIGN_OR_RETURN(auto store, MetadataStore::Open(config.root + "/metadata.db"));

  runtime::HostFeatures host = runtime::ProbeHostFeatures();
  spdlog::info("host kernel={} cgroups={} apparmor={} selinux={} seccomp={}", host.kernel_release,
               runtime::CgroupLayoutName(host.cgroup_layout), host.apparmor_enabled,
               host.selinux_enabled, host.seccomp_available);
  // Before anything makes a cgroup: every manager asks Cgroups::Probe(), which answers this one.
  BERTH_ASSIGN_OR_RETURN(runtime::Cgroups cgroups,
                         runtime::Cgroups::Configure(config.cgroup_driver));
  spdlog::info("cgroup driver: {}", cgroups.driver_name());

  image::RegistryClient registry(config.registries);
  image::ImageManagerOptions image_options;
  image_options.root = config.root;
  image_options.max_concurrent_downloads = config.max_concurrent_downloads;
  BERTH_ASSIGN_OR_RETURN(
      auto images,
      image::ImageManager::Open(image_options, *store, image::MakeRegistryOpener(registry)));

  CheckUserNamespaces(host, *images);

  auto network = MakeNetwork(config, *store);
  if (!network) return std::move(network).error().Wrap("pod network (" + config.network.mode + ")");
  spdlog::info("pod network: {}", (*network)->Describe());
  pod::SandboxManager sandboxes(config.state, *store, **network, {cri::kDefaultRuntimeHandler});
  BERTH_TRY(sandboxes.Load());
  pod::ContainerManager containers(config.root, config.state, *store, sandboxes, *images);
  containers.SetImageVolumes(config.image_volumes);
  BERTH_TRY(containers.Load());
  // Before any request: what a crash left that no record knows goes now.
  pod::Reconciler(config.root, config.state, images->snapshots(), **network)
      .Run(sandboxes.List({}), containers.List({}));
  containers.StartExitWatcher();
  ConnectManagers(sandboxes, containers, *images);

  cri::ContainerStreams container_streams(containers, sandboxes);
  streaming::StreamingServer streaming_server(StreamingConfigOf(config), container_streams);
  BERTH_TRY(streaming_server.Start());
  spdlog::info("streaming server at {}", streaming_server.BaseUrl());

  CollectorsGuard collectors_guard;
  BERTH_ASSIGN_OR_RETURN(auto metrics_endpoint,
                         StartMetricsEndpoint(config, sandboxes, containers, *images));

  cri::RuntimeService runtime_service(config, host, sandboxes, containers, **network,
                                      streaming_server);
  cri::ImageService image_service(*images);
  cri::AdminService admin_service(*images);
  BERTH_ASSIGN_OR_RETURN(auto server,
                         cri::CriServer::Start(config.listen, std::move(socket_claim),
                                               {&runtime_service, &image_service, &admin_service}));
  spdlog::info("berthd {} serving unix://{} root={} state={}", kBerthVersion, config.listen,
               config.root, config.state);

  spdlog::info("received {}, shutting down", WaitForTerminationSignal());
  watchdog.Arm(std::chrono::steady_clock::now() + kShutdownGrace + kShutdownSlack,
               [in_flight = server->in_flight(), listen = config.listen] {
                 AbandonShutdown(*in_flight, listen);
               });
  containers.events().Close();  // event streams end instead of holding the shutdown up
  server->Shutdown(kShutdownGrace);
  streaming_server.Stop();
  spdlog::info("berthd stopped");
  return Ok();
}

}  // namespace berth
