// PodNetwork over standard CNI plugins: the network is the first config in cni_conf_dir (re-read
// when the directory changes), its plugins are exec'd from cni_bin_dirs per the CNI spec, and
// each pod's ADD result is cached under cache_dir so its DEL works after a berthd restart.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "base/result.h"
#include "cni/plugin/chain.h"
#include "cni/plugin/network_list.h"
#include "cni/plugin/plugin_exec.h"
#include "cni/plugin/result_cache.h"
#include "cni/pod_network.h"
#include "config/config.h"

namespace berth::cni {

class CniNetwork : public PodNetwork {
 public:
  CniNetwork(NetworkConfig config, std::string cache_dir, ExecLimits limits = {});

  // Ok when a valid network config exists, all its plugins are installed and (cniVersion 1.1.0)
  // every plugin answers STATUS with success.
  Result<void> Ready() override;
  Result<PodNetworkStatus> Setup(const PodNetworkRequest& request) override;
  Result<void> Teardown(const PodNetworkRequest& request) override;
  // Stored; handed to plugins that declare the "ipRanges" capability (host-local reads it).
  Result<void> SetPodCidr(const std::string& cidr) override;
  std::string Describe() const override;
  Result<void> Reconcile(const std::set<std::string>& known_pod_ids) override;

  // CNI CHECK of a set-up pod against its cached result. Not on PodNetwork (nothing in pod/ asks
  // for it yet); a no-op for 0.3.x networks and when the config sets disableCheck.
  Result<void> Check(const PodNetworkRequest& request);

 private:
  // The network to use now, re-read when the config directory changed since the last look.
  Result<std::shared_ptr<const NetworkList>> CurrentNetwork();
  ChainRequest MakeChainRequest(const NetworkList& network, const std::string& container_id,
                                const std::string& netns) const;
  Result<void> DeleteCached(const CachedPod& cached, const PodNetworkRequest& request,
                            const std::string& netns);
  Result<void> DeleteUncached(const PodNetworkRequest& request, const std::string& netns);

  const NetworkConfig config_;
  const std::string cache_dir_;
  const ExecLimits limits_;

  mutable std::mutex mutex_;  // guards everything below
  std::optional<DirFingerprint> fingerprint_;
  std::shared_ptr<const NetworkList> network_;
  std::optional<Error> load_error_;
  std::string pod_cidr_;
};

// Checks the configuration and creates the cache directory. A missing network config is not an
// error here: Ready() reports it until one appears.
Result<std::unique_ptr<PodNetwork>> MakeCniNetwork(const NetworkConfig& config,
                                                   const std::string& cache_dir);

}  // namespace berth::cni
