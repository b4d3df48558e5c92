// Host-local IPAM for the built-in network, kept in the metadata store so that addresses survive
// a daemon restart and are never handed out twice:
//   kind "ip_allocation",        id = address ("10.88.0.5"), data = {"pod_id", "subnet"}
//   kind "ip_allocation_cursor", id = subnet,                data = {"last"}  (round robin)
//   kind "network_pod_cidr",     id = "ipv4" / "ipv6",       data = {"cidr"}  (SetPodCidr)
// Each pod gets one IPv4 address and, when an IPv6 subnet is set, one IPv6 address. The store is
// the only source of truth; nothing is cached, so several Ipam objects over one store agree.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "cni/builtin/ip_address.h"
#include "store/metadata_store.h"

namespace berth::cni {

inline constexpr char kIpAllocationKind[] = "ip_allocation";
inline constexpr char kIpCursorKind[] = "ip_allocation_cursor";
inline constexpr char kPodCidrKind[] = "network_pod_cidr";

struct IpAllocation {
  IpAddress address;
  Cidr subnet;  // the subnet it was taken from (which may no longer be the current one)
  std::string pod_id;

  // The first host address of the subnet; the bridge holds it.
  IpAddress gateway() const { return *subnet.AddressAt(1); }
};

// Checks that `cidr` can serve as a pod subnet: IPv4 with a prefix of /8 to /30, IPv6 with /64 to
// /126 (the offset arithmetic covers 64 host bits, and SLAAC-sized /64 is what clusters use).
Result<void> ValidatePodSubnet(const Cidr& cidr);

// The offsets a pod may get: 2 (after network and gateway) up to one before the last (IPv4
// broadcast; the same rule for IPv6 keeps one rule for both families).
inline uint64_t FirstPodOffset(const Cidr&) {
  return 2;
}
inline uint64_t LastPodOffset(const Cidr& cidr) {
  return cidr.LastOffset() - 1;
}

// Round robin, as CNI's host-local does: the first free offset after `last` (or from the first
// pod offset when there is no last), wrapping around once. A just-released address is thus the
// last to be reused, which keeps stale ARP/conntrack entries of a deleted pod away from a new one.
// `taken` is asked at most once per candidate; nullopt when every pod offset is taken.
Result<std::optional<uint64_t>> NextFreeOffset(const Cidr& cidr, std::optional<uint64_t> last,
                                               const std::function<Result<bool>(uint64_t)>& taken);

class Ipam {
 public:
  // Uses the pod CIDRs saved by an earlier SetSubnet over `v4` / `v6` from the config.
  static Result<std::unique_ptr<Ipam>> Open(MetadataStore& store, const Cidr& v4,
                                            const std::optional<Cidr>& v6);

  // The pod's addresses, IPv4 first: the ones it already has (a retried setup), completed with
  // new ones from the current subnets. ResourceExhausted when a subnet is full.
  Result<std::vector<IpAllocation>> Allocate(const std::string& pod_id);
  // Frees every address of the pod; a pod without addresses is fine.
  Result<void> Release(const std::string& pod_id);
  // The pod's addresses, IPv4 first.
  Result<std::vector<IpAllocation>> Allocations(const std::string& pod_id);
  // Every allocation in the store.
  Result<std::vector<IpAllocation>> AllAllocations();

  // Makes `cidr` the subnet of its family for new pods and saves it. Pods keep the addresses
  // they have in an older subnet. FailedPrecondition when its gateway is a pod's address.
  Result<void> SetSubnet(const Cidr& cidr);
  Cidr subnet_v4() const;
  std::optional<Cidr> subnet_v6() const;
  // The current subnets plus those that pods still hold addresses in (the bridge needs a gateway
  // address and the masquerade rule an entry for each).
  Result<std::vector<Cidr>> SubnetsInUse();

 private:
  Ipam(MetadataStore& store, const Cidr& v4, const std::optional<Cidr>& v6)
      : store_(store), v4_(v4), v6_(v6) {}
  Result<IpAllocation> AllocateFrom(StoreTransaction& transaction, const Cidr& subnet,
                                    const std::string& pod_id,
                                    const std::vector<IpAddress>& reserved);
  std::vector<Cidr> CurrentSubnets() const;

  MetadataStore& store_;
  // Serializes Allocate/Release/SetSubnet of this object; the store's transaction re-checks each
  // address, so another object over the same store cannot get it either.
  mutable std::mutex mutex_;
  Cidr v4_;
  std::optional<Cidr> v6_;
};

}  // namespace berth::cni
