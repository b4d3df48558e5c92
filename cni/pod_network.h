// A pod's network, behind one interface with two implementations: the built-in bridge path
// (cni/builtin/: bridge + veth + our own IPAM + nftables masquerade and hostPort DNAT, all through
// netlink and libnftables) and standard CNI plugins (cni/plugin/: exec per the CNI spec).
// pod/ creates and pins the pod's network namespace and hands its path here.
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "base/result.h"

namespace berth::cni {

struct PortMapping {
  std::string protocol = "tcp";  // "tcp" or "udp" (SCTP is refused by the CRI layer)
  uint16_t container_port = 0;
  uint16_t host_port = 0;
  std::string host_ip;  // empty: every host address, including 127.0.0.1
};

struct PodNetworkRequest {
  std::string pod_id;  // 64 lowercase hex
  std::string pod_name;
  std::string pod_namespace;
  std::string pod_uid;
  std::string netns_path;  // the pinned network namespace; may be gone at Teardown
  std::vector<PortMapping> port_mappings;
};

struct PodNetworkStatus {
  std::string interface_name = "eth0";
  // The pod's addresses without prefix length, IPv4 first ("10.88.0.5", "fd00::5").
  std::vector<std::string> ips;
};

class PodNetwork {
 public:
  virtual ~PodNetwork() = default;

  // Ok when pods can get a network now; otherwise the error's message becomes NetworkReady's
  // message (reason NetworkPluginNotReady).
  virtual Result<void> Ready() = 0;
  // Attaches the pod. On failure everything it did is undone.
  virtual Result<PodNetworkStatus> Setup(const PodNetworkRequest& request) = 0;
  // Detaches the pod and releases its addresses and port mappings. Idempotent; works after a
  // daemon restart and when the namespace is already gone.
  virtual Result<void> Teardown(const PodNetworkRequest& request) = 0;
  // UpdateRuntimeConfig's pod CIDR (built-in: the subnet for new pods; CNI: passed as the
  // podCIDR runtime config where a plugin wants it, otherwise ignored).
  virtual Result<void> SetPodCidr(const std::string& cidr) = 0;
  // "built-in bridge berth0 10.88.0.0/16", "CNI network \"mynet\" (/etc/cni/net.d/10-x.conflist)".
  virtual std::string Describe() const = 0;
  // At start: tears down what this network set up for pods that are not in `known_pod_ids`
  // (a crash between Setup and the pod's record, a store moved aside). Failures are returned
  // after every pod was tried.
  virtual Result<void> Reconcile(const std::set<std::string>& known_pod_ids) = 0;
};

}  // namespace berth::cni
