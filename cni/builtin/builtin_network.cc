#include "cni/builtin/builtin_network.h"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <vector>

#include "base/file_util.h"
#include "base/namespaces.h"
#include "base/rollback.h"
#include "base/sysctl.h"
#include "cni/builtin/netlink.h"

namespace berth::cni {
namespace {

// Pod ids go into interface and nftables chain names, so they must be plain hex.
Result<void> CheckPodId(const std::string& pod_id) {
  bool hex = std::all_of(pod_id.begin(), pod_id.end(),
                         [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
  if (!hex || pod_id.size() < 13 || pod_id.size() > 64) {
    return InvalidArgument("pod id \"" + pod_id + "\" is not 13 to 64 lowercase hex characters");
  }
  return Ok();
}

Result<void> CheckBridgeName(const std::string& name) {
  bool plain = std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_' || c == '-' || c == '.';
  });
  if (!plain || name.empty() || name.size() >= IFNAMSIZ) {
    return InvalidArgument("bridge name \"" + name + "\" is not a valid interface name");
  }
  return Ok();
}

// A locally administered unicast MAC derived from the bridge name (FNV-1a), stable across
// restarts so pods' ARP entries for the gateway stay valid.
MacAddress BridgeMac(const std::string& name) {
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : name) hash = (hash ^ c) * 1099511628211ull;
  MacAddress mac{};
  for (size_t i = 0; i < mac.size(); ++i) mac[i] = static_cast<uint8_t>(hash >> (8 * i));
  mac[0] = static_cast<uint8_t>((mac[0] & 0xfe) | 0x02);
  return mac;
}

Result<int> EnsureBridge(Netlink& netlink, const std::string& name) {
  auto link = netlink.GetLink(name);
  if (link.ok() && link->kind != "bridge") {
    return FailedPrecondition("network device " + name + " exists and is not a bridge");
  }
  if (link.ok()) return link->index;
  if (link.error().code() != ErrorCode::kNotFound) return std::move(link).error();
  auto created = netlink.CreateBridge(name, BridgeMac(name));
  // AlreadyExists: another daemon object created it in the meantime; that is fine.
  if (!created.ok() && created.error().code() != ErrorCode::kAlreadyExists) {
    return std::move(created).error();
  }
  return netlink.LinkIndex(name);
}

Result<void> IgnoreExisting(Result<void> result) {
  if (!result.ok() && result.error().code() == ErrorCode::kAlreadyExists) return Ok();
  return result;
}

// Inside the pod's namespace: lo up, eth0 up with the pod's addresses and default routes.
// eth0 goes up before the addresses: IPv6 installs the prefix route only on an up link, and a
// route via a gateway needs that prefix route.
Result<void> ConfigurePodSide(const std::vector<IpAllocation>& allocations) {
  BERTH_ASSIGN_OR_RETURN(Netlink netlink, Netlink::Open());
  BERTH_ASSIGN_OR_RETURN(int loopback, netlink.LinkIndex("lo"));
  BERTH_TRY(netlink.SetUp(loopback, true));
  BERTH_ASSIGN_OR_RETURN(int eth0, netlink.LinkIndex(kPodInterfaceName));
  BERTH_TRY(netlink.SetUp(eth0, true));
  for (const auto& allocation : allocations) {
    BERTH_TRY(IgnoreExisting(
        netlink.AddAddress(eth0, allocation.address, allocation.subnet.prefix_length())));
  }
  for (const auto& allocation : allocations) {
    auto any = *Cidr::Parse(allocation.address.is_v4() ? "0.0.0.0/0" : "::/0");
    BERTH_TRY(IgnoreExisting(netlink.AddRoute({any, allocation.gateway(), eth0})));
  }
  return Ok();
}

}  // namespace

std::string HostVethName(const std::string& pod_id) {
  return "vb" + pod_id.substr(0, 13);
}

Result<std::unique_ptr<BuiltinNetwork>> BuiltinNetwork::Create(const NetworkConfig& config,
                                                               MetadataStore& store) {
  BERTH_TRY(CheckBridgeName(config.bridge));
  auto v4 = Cidr::Parse(config.subnet);
  if (!v4.ok()) return std::move(v4).error().Wrap("network.subnet");
  std::optional<Cidr> v6;
  if (!config.subnet_v6.empty()) {
    auto parsed = Cidr::Parse(config.subnet_v6);
    if (!parsed.ok()) return std::move(parsed).error().Wrap("network.subnet_v6");
    v6 = *parsed;
  }
  BERTH_ASSIGN_OR_RETURN(auto ipam, Ipam::Open(store, *v4, v6));
  auto nat = std::make_unique<Nat>(config.nft_table, config.bridge);
  std::unique_ptr<BuiltinNetwork> network(
      new BuiltinNetwork(config.bridge, std::move(ipam), std::move(nat)));
  auto ready = network->EnsureHostNetwork();
  if (!ready.ok()) spdlog::warn("built-in network not ready yet: {}", ready.error().message());
  return network;
}

Result<void> BuiltinNetwork::EnsureHostNetwork() {
  std::lock_guard lock(host_mutex_);
  BERTH_ASSIGN_OR_RETURN(auto subnets, ipam_->SubnetsInUse());
  BERTH_ASSIGN_OR_RETURN(Netlink netlink, Netlink::Open());
  BERTH_ASSIGN_OR_RETURN(int bridge, EnsureBridge(netlink, bridge_));
  bool dual_stack = false;
  for (const auto& subnet : subnets) {
    dual_stack |= !subnet.is_v4();
    auto gateway = *subnet.AddressAt(1);
    BERTH_TRY(IgnoreExisting(netlink.AddAddress(bridge, gateway, subnet.prefix_length())));
  }
  BERTH_TRY(netlink.SetUp(bridge, true));
  // Pods reach beyond the node only if the host routes for them.
  BERTH_TRY(EnsureSysctl("net.ipv4.ip_forward", "1"));
  if (dual_stack) BERTH_TRY(EnsureSysctl("net.ipv6.conf.all.forwarding", "1"));
  // hostPort on 127.0.0.1: the DNAT'd packet keeps source 127.0.0.1 until postrouting's
  // masquerade, and the kernel drops 127/8 on a non-loopback device unless route_localnet is on.
  BERTH_TRY(EnsureSysctl("net/ipv4/conf/" + bridge_ + "/route_localnet", "1"));
  return nat_->Ensure(subnets);
}

Result<void> BuiltinNetwork::Ready() {
  auto check = [&]() -> Result<void> {
    BERTH_ASSIGN_OR_RETURN(Netlink netlink, Netlink::Open());
    auto bridge = netlink.GetLink(bridge_);
    if (!bridge.ok()) return NotFound("bridge " + bridge_ + " is missing");
    if (!(bridge->flags & IFF_UP)) return FailedPrecondition("bridge " + bridge_ + " is down");
    BERTH_ASSIGN_OR_RETURN(bool tables, nat_->Exists(ipam_->subnet_v6().has_value()));
    if (!tables) return NotFound("nftables table " + nat_->table() + " is missing");
    return Ok();
  };
  if (check().ok()) return Ok();
  // Someone removed the bridge or flushed nftables (or the first attempt failed): rebuild.
  auto repaired = EnsureHostNetwork();
  if (!repaired.ok()) return std::move(repaired).error().Wrap("built-in network " + bridge_);
  return check();
}

Result<PodNetworkStatus> BuiltinNetwork::Setup(const PodNetworkRequest& request) {
  BERTH_TRY(CheckPodId(request.pod_id));
  auto status = SetupSteps(request);
  if (!status.ok())
    return std::move(status).error().Wrap("set up network of pod " + request.pod_id);
  return status;
}

Result<PodNetworkStatus> BuiltinNetwork::SetupSteps(const PodNetworkRequest& request) {
  BERTH_TRY(Ready());
  std::string pod_id = request.pod_id;
  std::string host_veth = HostVethName(pod_id);
  BERTH_ASSIGN_OR_RETURN(UniqueFd netns, OpenFile(request.netns_path, O_RDONLY));
  // Undo steps capture by value: they run after this function's locals are gone.
  Rollback rollback("PodNetworkSetup", "pod " + pod_id);
  BERTH_ASSIGN_OR_RETURN(auto allocations, ipam_->Allocate(pod_id));
  BERTH_TRY(rollback.Done("addresses", [this, pod_id] { return ipam_->Release(pod_id); }));
  {
    BERTH_ASSIGN_OR_RETURN(Netlink netlink, Netlink::Open());
    // A leftover of a setup cut short by a crash; deleting it also removes its eth0 peer.
    BERTH_TRY(netlink.DeleteLink(host_veth));
    BERTH_TRY(netlink.CreateVethPair(host_veth, kPodInterfaceName, netns.get()));
  }
  BERTH_TRY(rollback.Done("veth", [host_veth]() -> Result<void> {
    BERTH_ASSIGN_OR_RETURN(Netlink netlink, Netlink::Open());
    return netlink.DeleteLink(host_veth);
  }));
  BERTH_TRY(AttachHostSide(host_veth));
  BERTH_TRY(RunInNamespace(request.netns_path, CLONE_NEWNET,
                           [&] { return ConfigurePodSide(allocations); }));
  PodNetworkStatus status;
  std::optional<IpAddress> v6;
  for (const auto& allocation : allocations) {
    status.ips.push_back(allocation.address.ToString());
    if (!allocation.address.is_v4()) v6 = allocation.address;
  }
  BERTH_TRY(rollback.Done("pod-side", [this, pod_id] { return nat_->RemovePortMappings(pod_id); }));
  BERTH_TRY(nat_->AddPortMappings(pod_id, request.port_mappings, allocations.front().address, v6));
  BERTH_TRY(rollback.Done("port-mappings"));
  rollback.Commit();
  spdlog::debug("network: pod {} has {} on {}", pod_id, status.ips.front(), host_veth);
  return status;
}

Result<void> BuiltinNetwork::AttachHostSide(const std::string& host_veth) {
  BERTH_ASSIGN_OR_RETURN(Netlink netlink, Netlink::Open());
  BERTH_ASSIGN_OR_RETURN(int bridge, netlink.LinkIndex(bridge_));
  BERTH_ASSIGN_OR_RETURN(int veth, netlink.LinkIndex(host_veth));
  BERTH_TRY(netlink.SetMaster(veth, bridge));
  return netlink.SetUp(veth, true);
}

Result<void> BuiltinNetwork::Teardown(const PodNetworkRequest& request) {
  BERTH_TRY(CheckPodId(request.pod_id));
  const std::string& pod_id = request.pod_id;
  std::string context = "tear down network of pod " + pod_id;
  // In this order, stopping at the first failure: an address is released only once no veth can
  // still be using it, so a retry never hands out an address a live interface holds.
  if (auto removed = nat_->RemovePortMappings(pod_id); !removed.ok()) {
    return std::move(removed).error().Wrap(context);
  }
  auto netlink = Netlink::Open();
  if (!netlink.ok()) return std::move(netlink).error().Wrap(context);
  if (auto deleted = netlink->DeleteLink(HostVethName(pod_id)); !deleted.ok()) {
    return std::move(deleted).error().Wrap(context);
  }
  if (auto released = ipam_->Release(pod_id); !released.ok()) {
    return std::move(released).error().Wrap(context);
  }
  return Ok();
}

Result<void> BuiltinNetwork::Reconcile(const std::set<std::string>& known_pod_ids) {
  // Per-pod names keep only a prefix of the pod id: compare by prefix.
  auto known_prefix = [&](const std::string& prefix) {
    return std::any_of(known_pod_ids.begin(), known_pod_ids.end(),
                       [&](const std::string& id) { return id.rfind(prefix, 0) == 0; });
  };
  std::vector<std::string> failures;
  auto note = [&](const Result<void>& result) {
    if (!result.ok()) failures.push_back(result.error().message());
  };
  // Addresses first, with the pod's whole teardown (mappings, veth, then the address).
  BERTH_ASSIGN_OR_RETURN(auto allocations, ipam_->AllAllocations());
  std::set<std::string> torn_down;
  for (const auto& allocation : allocations) {
    if (known_pod_ids.count(allocation.pod_id) || !torn_down.insert(allocation.pod_id).second)
      continue;
    spdlog::warn("network: tearing down pod {}: no sandbox record knows it", allocation.pod_id);
    note(Teardown({allocation.pod_id, "", "", "", "", {}}));
  }
  // Then what has no address left (a store moved aside): veths on our bridge, pod chains.
  BERTH_ASSIGN_OR_RETURN(Netlink netlink, Netlink::Open());
  auto bridge = netlink.LinkIndex(bridge_);
  if (bridge.ok()) {
    BERTH_ASSIGN_OR_RETURN(auto links, netlink.ListLinks());
    for (const auto& link : links) {
      if (link.master_index != *bridge || link.name.rfind("vb", 0) != 0) continue;
      if (known_prefix(link.name.substr(2))) continue;
      spdlog::warn("network: deleting {}: no sandbox record knows its pod", link.name);
      note(netlink.DeleteLink(link.name));
    }
  }
  BERTH_ASSIGN_OR_RETURN(auto chains, nat_->PodChains());
  for (const auto& chain : chains) {
    if (known_prefix(chain.substr(4))) continue;
    spdlog::warn("network: removing nftables chain {}: no sandbox record knows its pod", chain);
    note(nat_->RemovePodChain(chain));
  }
  if (failures.empty()) return Ok();
  std::string message = "reconcile the built-in network:";
  for (const auto& failure : failures) message += " " + failure + ";";
  return Internal(message);
}

Result<void> BuiltinNetwork::SetPodCidr(const std::string& cidr) {
  std::vector<Cidr> blocks;
  size_t start = 0;
  while (start <= cidr.size()) {
    size_t comma = std::min(cidr.find(',', start), cidr.size());
    std::string piece = cidr.substr(start, comma - start);
    std::erase_if(piece, [](unsigned char c) { return std::isspace(c); });
    start = comma + 1;
    if (piece.empty()) continue;
    auto block = Cidr::Parse(piece);
    if (!block.ok()) return std::move(block).error().Wrap("pod CIDR");
    BERTH_TRY(ValidatePodSubnet(*block));
    for (const auto& other : blocks) {
      if (other.is_v4() == block->is_v4())
        return InvalidArgument("pod CIDR \"" + cidr + "\" has two subnets of one family");
    }
    blocks.push_back(*block);
  }
  for (const auto& block : blocks) BERTH_TRY(ipam_->SetSubnet(block));
  if (blocks.empty()) return Ok();
  spdlog::info("network: pod CIDR is now {}", cidr);
  return EnsureHostNetwork();
}

std::string BuiltinNetwork::Describe() const {
  std::string text = "built-in bridge " + bridge_ + " " + ipam_->subnet_v4().ToString();
  if (auto v6 = ipam_->subnet_v6()) text += ", " + v6->ToString();
  return text;
}

Result<void> BuiltinNetwork::RemoveHostNetwork() {
  std::lock_guard lock(host_mutex_);
  BERTH_TRY(nat_->DeleteTables());
  BERTH_ASSIGN_OR_RETURN(Netlink netlink, Netlink::Open());
  return netlink.DeleteLink(bridge_);
}

Result<std::unique_ptr<PodNetwork>> MakeBuiltinNetwork(const NetworkConfig& config,
                                                       MetadataStore& store) {
  BERTH_ASSIGN_OR_RETURN(auto network, BuiltinNetwork::Create(config, store));
  return std::unique_ptr<PodNetwork>(std::move(network));
}

}  // namespace berth::cni
