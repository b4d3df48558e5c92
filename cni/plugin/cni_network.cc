#include "cni/plugin/cni_network.h"

#include <linux/magic.h>
#include <spdlog/spdlog.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>

#include "base/file_util.h"
#include "cni/plugin/protocol.h"

namespace berth::cni {
namespace {

using json = nlohmann::json;

std::string ShortId(const std::string& id) {
  return id.substr(0, 12);
}

std::string JoinIps(const std::vector<std::string>& ips) {
  std::string joined;
  for (const auto& ip : ips) joined += (joined.empty() ? "" : ",") + ip;
  return joined;
}

// A pin whose namespace is gone (berthd restarted after a reboot, or pod/ already unpinned it) is
// no nsfs mount any more; DEL then goes without CNI_NETNS, which the spec tells plugins to accept
// ("When CNI_NETNS and/or prevResult are not provided, the plugin should clean up as many
// resources as possible").
bool IsLiveNetns(const std::string& path) {
  struct statfs fs {};
  return !path.empty() && ::statfs(path.c_str(), &fs) == 0 &&
         static_cast<unsigned long>(fs.f_type) == NSFS_MAGIC;
}

Result<void> RemoveCacheFile(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return Error::FromErrno(errno, "remove CNI result cache " + path);
  }
  return Ok();
}

Result<void> ValidatePodId(const PodNetworkRequest& request) {
  if (!IsValidContainerId(request.pod_id)) {
    return InvalidArgument("invalid pod id \"" + request.pod_id + "\" for CNI");
  }
  return Ok();
}

}  // namespace

CniNetwork::CniNetwork(NetworkConfig config, std::string cache_dir, ExecLimits limits)
    : config_(std::move(config)), cache_dir_(std::move(cache_dir)), limits_(limits) {}

Result<std::shared_ptr<const NetworkList>> CniNetwork::CurrentNetwork() {
  std::lock_guard lock(mutex_);
  DirFingerprint seen = FingerprintNetworkDir(config_.cni_conf_dir);
  if (!fingerprint_ || !(*fingerprint_ == seen)) {
    fingerprint_ = std::move(seen);
    auto loaded = LoadFirstNetwork(config_.cni_conf_dir);
    if (loaded.ok()) {
      network_ = std::make_shared<const NetworkList>(std::move(*loaded));
      load_error_.reset();
      spdlog::info("CNI network \"{}\" (cniVersion {}) loaded from {}", network_->name,
                   network_->cni_version, network_->source);
    } else {
      if (network_ || !load_error_) spdlog::warn("CNI: {}", loaded.error().message());
      network_.reset();
      load_error_ = std::move(loaded).error();
    }
  }
  if (!network_) return *load_error_;
  return network_;
}

ChainRequest CniNetwork::MakeChainRequest(const NetworkList& network,
                                          const std::string& container_id,
                                          const std::string& netns) const {
  ChainRequest chain;
  chain.network = &network;
  chain.bin_dirs = config_.cni_bin_dirs;
  chain.container_id = container_id;
  chain.netns = netns;
  chain.limits = limits_;
  return chain;
}

Result<void> CniNetwork::Ready() {
  BERTH_ASSIGN_OR_RETURN(auto network, CurrentNetwork());
  std::string label = "CNI network \"" + network->name + "\" (" + network->source + ")";
  for (const auto& plugin : network->plugins) {
    auto found = FindPlugin(plugin.type, config_.cni_bin_dirs);
    if (!found.ok()) return std::move(found).error().Wrap(label);
    // The IPAM plugin a main plugin delegates to is exec'd from CNI_PATH too; a missing one would
    // fail every pod, so it counts for readiness as well.
    auto ipam = plugin.raw.find("ipam");
    if (ipam != plugin.raw.end() && ipam->is_object() && ipam->contains("type") &&
        (*ipam)["type"].is_string()) {
      auto ipam_found = FindPlugin((*ipam)["type"].get<std::string>(), config_.cni_bin_dirs);
      if (!ipam_found.ok()) return std::move(ipam_found).error().Wrap(label);
    }
  }
  auto status = RunStatus(MakeChainRequest(*network, "", ""));
  if (!status.ok()) return std::move(status).error().Wrap(label + " not ready");
  return Ok();
}

Result<PodNetworkStatus> CniNetwork::Setup(const PodNetworkRequest& request) {
  BERTH_TRY(ValidatePodId(request));
  std::string what = "set up CNI network of pod " + ShortId(request.pod_id);
  if (request.netns_path.empty()) return InvalidArgument(what + ": no network namespace");
  auto network = CurrentNetwork();
  if (!network.ok()) return std::move(network).error().Wrap(what);
  ChainRequest chain = MakeChainRequest(**network, request.pod_id, request.netns_path);
  auto cni_args = BuildCniArgs(request);
  if (!cni_args.ok()) return std::move(cni_args).error().Wrap(what);
  chain.cni_args = *cni_args;
  {
    std::lock_guard lock(mutex_);
    chain.capability_args = BuildCapabilityArgs(request.port_mappings, pod_cidr_);
  }

  auto result = RunAdd(chain);
  if (!result.ok()) return std::move(result).error().Wrap(what);
  // From here the pod is attached: any failure must DEL before returning.
  auto undo = [&](Error error) {
    if (auto deleted = RunDel(chain, &*result); !deleted.ok()) {
      spdlog::warn("{}: rollback: {}", what, deleted.error().message());
    }
    return std::move(error).Wrap(what);
  };
  auto ips = PodIpsFromResult(*result, chain.ifname);
  if (!ips.ok()) return undo(std::move(ips).error().Wrap("read the ADD result"));
  CacheEntry entry{request.pod_id,        chain.ifname, chain.cni_args,
                   chain.capability_args, **network,    *result};
  if (auto cached = WriteCacheEntry(cache_dir_, entry); !cached.ok()) {
    return undo(std::move(cached).error());
  }
  spdlog::info("CNI network \"{}\": pod {} attached with IPs [{}]", (*network)->name,
               ShortId(request.pod_id), JoinIps(*ips));
  PodNetworkStatus status;
  status.interface_name = chain.ifname;
  status.ips = std::move(*ips);
  return status;
}

Result<void> CniNetwork::DeleteCached(const CachedPod& cached, const PodNetworkRequest& request,
                                      const std::string& netns) {
  if (!cached.entry) {
    // An unreadable entry: DEL as if there were none, then drop the file.
    spdlog::warn("CNI result cache unusable, deleting without it: {}", cached.problem);
    BERTH_TRY(DeleteUncached(request, netns));
    return RemoveCacheFile(cached.path);
  }
  const CacheEntry& entry = *cached.entry;
  ChainRequest chain = MakeChainRequest(entry.network, request.pod_id, netns);
  chain.ifname = entry.ifname;
  chain.cni_args = entry.cni_args;
  chain.capability_args = entry.capability_args;
  const json* result = entry.result.is_null() ? nullptr : &entry.result;
  BERTH_TRY(RunDel(chain, result));
  spdlog::info("CNI network \"{}\": pod {} detached", entry.network.name, ShortId(request.pod_id));
  return RemoveCacheFile(cached.path);
}

Result<void> CniNetwork::DeleteUncached(const PodNetworkRequest& request,
                                        const std::string& netns) {
  auto network = CurrentNetwork();
  if (!network.ok()) {
    // Nothing cached and no config: berth never attached this pod with a network it can name.
    spdlog::info(
        "CNI: pod {} has no cached result and there is no network config; nothing to "
        "delete",
        ShortId(request.pod_id));
    return Ok();
  }
  ChainRequest chain = MakeChainRequest(**network, request.pod_id, netns);
  BERTH_ASSIGN_OR_RETURN(chain.cni_args, BuildCniArgs(request));
  chain.capability_args = BuildCapabilityArgs(request.port_mappings, "");
  return RunDel(chain, nullptr);
}

Result<void> CniNetwork::Teardown(const PodNetworkRequest& request) {
  BERTH_TRY(ValidatePodId(request));
  std::string what = "tear down CNI network of pod " + ShortId(request.pod_id);
  std::string netns = IsLiveNetns(request.netns_path) ? request.netns_path : "";
  auto cached = FindCacheEntries(cache_dir_, request.pod_id);
  if (!cached.ok()) return std::move(cached).error().Wrap(what);
  if (cached->empty()) {
    auto deleted = DeleteUncached(request, netns);
    if (!deleted.ok()) return std::move(deleted).error().Wrap(what);
    return Ok();
  }
  // Normally one entry; more only if the network was renamed between two ADDs. Each is deleted
  // even when another fails, and a failed one keeps its cache for the retry.
  std::optional<Error> first_error;
  for (const auto& pod : *cached) {
    auto deleted = DeleteCached(pod, request, netns);
    if (!deleted.ok() && !first_error) first_error = std::move(deleted).error().Wrap(what);
  }
  if (first_error) return *first_error;
  return Ok();
}

Result<void> CniNetwork::Reconcile(const std::set<std::string>& known_pod_ids) {
  // What CNI plugins set up is known through the ADD results cached here: an ADD cut short
  // before its result was written cannot be found (as with libcni's cache).
  BERTH_ASSIGN_OR_RETURN(auto cached, CachedPodIds(cache_dir_));
  std::vector<std::string> failures;
  for (const auto& pod_id : cached) {
    if (known_pod_ids.count(pod_id)) continue;
    spdlog::warn("CNI: tearing down pod {}: no sandbox record knows it", ShortId(pod_id));
    auto deleted = Teardown({pod_id, "", "", "", "", {}});
    if (!deleted.ok()) failures.push_back(deleted.error().message());
  }
  if (failures.empty()) return Ok();
  std::string message = "reconcile the CNI network:";
  for (const auto& failure : failures) message += " " + failure + ";";
  return Internal(message);
}

Result<void> CniNetwork::Check(const PodNetworkRequest& request) {
  BERTH_TRY(ValidatePodId(request));
  std::string what = "check CNI network of pod " + ShortId(request.pod_id);
  auto cached = FindCacheEntries(cache_dir_, request.pod_id);
  if (!cached.ok()) return std::move(cached).error().Wrap(what);
  if (cached->empty()) return FailedPrecondition(what + ": the pod has no cached ADD result");
  for (const auto& pod : *cached) {
    if (!pod.entry) return FailedPrecondition(what + ": " + pod.problem);
    ChainRequest chain = MakeChainRequest(pod.entry->network, request.pod_id, request.netns_path);
    chain.ifname = pod.entry->ifname;
    chain.cni_args = pod.entry->cni_args;
    chain.capability_args = pod.entry->capability_args;
    auto checked = RunCheck(chain, pod.entry->result);
    if (!checked.ok()) return std::move(checked).error().Wrap(what);
  }
  return Ok();
}

Result<void> CniNetwork::SetPodCidr(const std::string& cidr) {
  std::lock_guard lock(mutex_);
  if (cidr != pod_cidr_) spdlog::info("CNI: pod CIDR set to \"{}\"", cidr);
  pod_cidr_ = cidr;
  return Ok();
}

std::string CniNetwork::Describe() const {
  std::lock_guard lock(mutex_);
  if (network_) return "CNI network \"" + network_->name + "\" (" + network_->source + ")";
  return "CNI (no network config in " + config_.cni_conf_dir + ")";
}

Result<std::unique_ptr<PodNetwork>> MakeCniNetwork(const NetworkConfig& config,
                                                   const std::string& cache_dir) {
  if (config.cni_conf_dir.empty() || config.cni_conf_dir.front() != '/') {
    return InvalidArgument("CNI config dir \"" + config.cni_conf_dir + "\" is not absolute");
  }
  if (config.cni_bin_dirs.empty()) return InvalidArgument("no CNI plugin directory configured");
  for (const auto& dir : config.cni_bin_dirs) {
    if (dir.empty() || dir.front() != '/' || dir.find(':') != std::string::npos) {
      // CNI_PATH is ':'-separated; a relative or ':'-holding dir cannot be passed on.
      return InvalidArgument("CNI plugin dir \"" + dir + "\" must be absolute and without ':'");
    }
  }
  if (cache_dir.empty()) return InvalidArgument("no CNI result cache directory");
  BERTH_TRY(MakeDirs(cache_dir, 0700));
  return std::unique_ptr<PodNetwork>(std::make_unique<CniNetwork>(config, cache_dir));
}

}  // namespace berth::cni
