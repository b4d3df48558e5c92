// The built-in pod network: one Linux bridge holding the gateway address of each pod subnet, a
// veth pair per pod (host side on the bridge, pod side `eth0` in the pod's network namespace),
// host-local IPAM in the metadata store and nftables NAT (masquerade + hostPort DNAT). All kernel
// work goes through netlink (libmnl) and libnftables; nothing is exec'd.
//
// State lives in the kernel (bridge, veths, nft rules) and in the store (addresses), and every
// per-pod name is derived from the pod id, so a restarted daemon can tear down what an earlier
// one set up without any other record.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "cni/builtin/ipam.h"
#include "cni/builtin/nat.h"
#include "cni/pod_network.h"
#include "config/config.h"
#include "store/metadata_store.h"

namespace berth::cni {

inline constexpr char kPodInterfaceName[] = "eth0";

// The host side of a pod's veth pair: "vb" + the first 13 hex characters of the pod id (15
// characters, the most a Linux interface name takes).
std::string HostVethName(const std::string& pod_id);

class BuiltinNetwork : public PodNetwork {
 public:
  // Checks the config and opens the IPAM; then tries to set up the bridge and nftables table.
  // A failure of that last step is only logged: Ready() reports it and tries again.
  static Result<std::unique_ptr<BuiltinNetwork>> Create(const NetworkConfig& config,
                                                        MetadataStore& store);

  Result<void> Ready() override;
  Result<PodNetworkStatus> Setup(const PodNetworkRequest& request) override;
  Result<void> Teardown(const PodNetworkRequest& request) override;
  // Accepts "10.1.2.0/24", "fd00:1::/64" or both comma-separated (kubelet joins a dual-stack
  // node's podCIDRs with a comma). Empty is ignored.
  Result<void> SetPodCidr(const std::string& cidr) override;
  std::string Describe() const override;
  Result<void> Reconcile(const std::set<std::string>& known_pod_ids) override;

  // Deletes the bridge and both nftables tables: for tests and uninstall; pods lose their network.
  Result<void> RemoveHostNetwork();

  Ipam& ipam() { return *ipam_; }
  Nat& nat() { return *nat_; }
  const std::string& bridge() const { return bridge_; }

 private:
  BuiltinNetwork(std::string bridge, std::unique_ptr<Ipam> ipam, std::unique_ptr<Nat> nat)
      : bridge_(std::move(bridge)), ipam_(std::move(ipam)), nat_(std::move(nat)) {}
  // The bridge with a gateway address per subnet in use, the sysctls, the nftables tables.
  Result<void> EnsureHostNetwork();
  Result<PodNetworkStatus> SetupSteps(const PodNetworkRequest& request);
  Result<void> AttachHostSide(const std::string& host_veth);

  std::string bridge_;
  std::unique_ptr<Ipam> ipam_;
  std::unique_ptr<Nat> nat_;
  std::mutex host_mutex_;  // one EnsureHostNetwork at a time
};

Result<std::unique_ptr<PodNetwork>> MakeBuiltinNetwork(const NetworkConfig& config,
                                                       MetadataStore& store);

}  // namespace berth::cni
