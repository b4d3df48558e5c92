// nftables rules of the built-in network, through libnftables (the library, never the nft tool).
// berth owns one table per family, `ip <table>` and (dual stack) `ip6 <table>`:
//
//   set pod_subnets                 the pod subnets (IPv4 or IPv6 addresses, intervals)
//   chain postrouting (nat)         masquerade pods -> outside the pod subnets; masquerade
//                                   hostPort traffic that arrives from localhost or from a pod
//                                   (hairpin), so replies come back through the host's conntrack
//   chain prerouting, output (nat)  packets to a local address jump to `hostports`
//   chain hostports                 one `jump pod-<12 hex>` rule per pod with hostPorts
//   chain pod-<12 hex>              that pod's DNAT rules
//
// Every change is one nftables batch, so it applies whole or not at all. Per-pod state lives only
// in the kernel (the pod chain and the jump to it), so removal works after a daemon restart.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "cni/builtin/ip_address.h"
#include "cni/pod_network.h"

namespace berth::cni {

// Runs an nftables command batch with libnftables; the error carries nft's own message. With
// `json_output`, returns the JSON listing the batch printed (with rule handles).
Result<std::string> RunNftables(const std::string& commands, bool json_output = false);

// "pod-" + the first 12 hex characters of the pod id.
std::string PodChainName(const std::string& pod_id);

class Nat {
 public:
  Nat(std::string table, std::string bridge)
      : table_(std::move(table)), bridge_(std::move(bridge)) {}

  // Creates the tables, sets and base chains, or refreshes them to `subnets` (both families
  // mixed; a family without subnets gets no table). Pod chains are kept. Idempotent.
  Result<void> Ensure(const std::vector<Cidr>& subnets);
  // True when the IPv4 table (and, when `want_v6`, the IPv6 table) exists.
  Result<bool> Exists(bool want_v6);

  // Replaces the pod's DNAT rules with `mappings` (host_port 0 entries are skipped: those are
  // declarations without a host port). An empty host_ip (or 0.0.0.0 / ::) means every local
  // address, including 127.0.0.1; IPv6 rules are added only when the pod has an IPv6 address.
  Result<void> AddPortMappings(const std::string& pod_id, const std::vector<PortMapping>& mappings,
                               const IpAddress& pod_v4, const std::optional<IpAddress>& pod_v6);
  // Removes the pod's chain and the jump to it in both families; a pod without rules is fine.
  Result<void> RemovePortMappings(const std::string& pod_id);
  // True when either family has a chain for the pod.
  Result<bool> HasPortMappings(const std::string& pod_id);
  // The per-pod chains ("pod-<first 12 hex of the pod id>") in either table.
  Result<std::vector<std::string>> PodChains();
  // Removes one per-pod chain and the jump to it (the form of RemovePortMappings for a chain
  // whose pod is not known).
  Result<void> RemovePodChain(const std::string& chain);

  // Deletes both tables (absent is fine). For tests and for uninstall; pods lose NAT.
  Result<void> DeleteTables();

  const std::string& table() const { return table_; }

 private:
  std::string TableFor(bool v4) const { return std::string(v4 ? "ip " : "ip6 ") + table_; }
  Result<bool> TableExists(bool v4);
  // The commands that remove the pod's chain and jump from one family's table, if any.
  Result<std::string> RemovalCommands(bool v4, const std::string& chain);

  std::string table_;
  std::string bridge_;
  // Serializes this object's read-modify-write of rule handles.
  std::mutex mutex_;
};

}  // namespace berth::cni
