#include "cni/builtin/ipam.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>

namespace berth::cni {
namespace {

using Json = nlohmann::json;

std::string FamilyKey(const Cidr& cidr) {
  return cidr.is_v4() ? "ipv4" : "ipv6";
}

// A stored allocation; nullopt (with a warning) when the record is damaged. A damaged record
// still blocks its address, because allocation checks the store by address.
std::optional<IpAllocation> ParseAllocation(const StoredObject& object) {
  Json data = Json::parse(object.data, nullptr, /*allow_exceptions=*/false);
  auto address = IpAddress::Parse(object.id);
  if (!data.is_object() || !data.value("pod_id", Json()).is_string() ||
      !data.value("subnet", Json()).is_string() || !address.ok()) {
    spdlog::warn("ipam: ignoring damaged allocation record {}", object.id);
    return std::nullopt;
  }
  auto subnet = Cidr::Parse(data["subnet"].get<std::string>());
  if (!subnet.ok() || !subnet->Contains(*address)) {
    spdlog::warn("ipam: ignoring allocation record {} with a bad subnet", object.id);
    return std::nullopt;
  }
  return IpAllocation{*address, *subnet, data["pod_id"].get<std::string>()};
}

// The addresses of a subnet that no pod may have: network, gateway and last.
void AddReserved(const Cidr& subnet, std::vector<IpAddress>& reserved) {
  reserved.push_back(subnet.network());
  reserved.push_back(*subnet.AddressAt(1));
  reserved.push_back(*subnet.AddressAt(subnet.LastOffset()));
}

void SortAllocations(std::vector<IpAllocation>& allocations) {
  std::sort(allocations.begin(), allocations.end(),
            [](const auto& a, const auto& b) { return a.address < b.address; });
}

}  // namespace

Result<void> ValidatePodSubnet(const Cidr& cidr) {
  int length = cidr.prefix_length();
  if (cidr.is_v4() && (length < 8 || length > 30)) {
    return InvalidArgument("IPv4 pod subnet " + cidr.ToString() +
                           ": prefix length must be between 8 and 30");
  }
  if (!cidr.is_v4() && (length < 64 || length > 126)) {
    return InvalidArgument("IPv6 pod subnet " + cidr.ToString() +
                           ": prefix length must be between 64 and 126");
  }
  return Ok();
}

Result<std::optional<uint64_t>> NextFreeOffset(const Cidr& cidr, std::optional<uint64_t> last,
                                               const std::function<Result<bool>(uint64_t)>& taken) {
  uint64_t first = FirstPodOffset(cidr);
  uint64_t final_offset = LastPodOffset(cidr);
  uint64_t start = (last && *last >= first && *last < final_offset) ? *last + 1 : first;
  uint64_t candidate = start;
  do {
    BERTH_ASSIGN_OR_RETURN(bool is_taken, taken(candidate));
    if (!is_taken) return std::optional<uint64_t>(candidate);
    candidate = candidate == final_offset ? first : candidate + 1;
  } while (candidate != start);
  return std::optional<uint64_t>();
}

Result<std::unique_ptr<Ipam>> Ipam::Open(MetadataStore& store, const Cidr& v4,
                                         const std::optional<Cidr>& v6) {
  if (!v4.is_v4()) return InvalidArgument("pod subnet " + v4.ToString() + " is not IPv4");
  if (v6 && v6->is_v4()) return InvalidArgument("pod subnet " + v6->ToString() + " is not IPv6");
  BERTH_TRY(ValidatePodSubnet(v4));
  if (v6) BERTH_TRY(ValidatePodSubnet(*v6));
  std::unique_ptr<Ipam> ipam(new Ipam(store, v4, v6));
  // A pod CIDR from UpdateRuntimeConfig outlives a restart: kubelet sends it only when it changes.
  for (const char* family : {"ipv4", "ipv6"}) {
    BERTH_ASSIGN_OR_RETURN(auto saved, store.Get(kPodCidrKind, family));
    if (!saved) continue;
    Json data = Json::parse(*saved, nullptr, false);
    auto cidr = Cidr::Parse(data.is_object() ? data.value("cidr", "") : "");
    if (!cidr.ok() || FamilyKey(*cidr) != family || !ValidatePodSubnet(*cidr).ok()) {
      spdlog::warn("ipam: ignoring damaged saved {} pod CIDR", family);
      continue;
    }
    if (cidr->is_v4()) {
      ipam->v4_ = *cidr;
    } else {
      ipam->v6_ = *cidr;
    }
  }
  return ipam;
}

std::vector<Cidr> Ipam::CurrentSubnets() const {
  std::vector<Cidr> subnets{v4_};
  if (v6_) subnets.push_back(*v6_);
  return subnets;
}

Cidr Ipam::subnet_v4() const {
  std::lock_guard lock(mutex_);
  return v4_;
}

std::optional<Cidr> Ipam::subnet_v6() const {
  std::lock_guard lock(mutex_);
  return v6_;
}

Result<std::vector<IpAllocation>> Ipam::AllAllocations() {
  BERTH_ASSIGN_OR_RETURN(auto objects, store_.List(kIpAllocationKind));
  std::vector<IpAllocation> allocations;
  for (const auto& object : objects) {
    if (auto allocation = ParseAllocation(object)) allocations.push_back(*allocation);
  }
  SortAllocations(allocations);
  return allocations;
}

Result<std::vector<IpAllocation>> Ipam::Allocations(const std::string& pod_id) {
  BERTH_ASSIGN_OR_RETURN(auto all, AllAllocations());
  std::erase_if(all, [&](const IpAllocation& a) { return a.pod_id != pod_id; });
  return all;
}

Result<std::vector<Cidr>> Ipam::SubnetsInUse() {
  BERTH_ASSIGN_OR_RETURN(auto all, AllAllocations());
  std::vector<Cidr> subnets;
  {
    std::lock_guard lock(mutex_);
    subnets = CurrentSubnets();
  }
  for (const auto& allocation : all) {
    if (std::find(subnets.begin(), subnets.end(), allocation.subnet) == subnets.end()) {
      subnets.push_back(allocation.subnet);
    }
  }
  return subnets;
}

Result<std::vector<IpAllocation>> Ipam::Allocate(const std::string& pod_id) {
  if (pod_id.empty()) return InvalidArgument("allocate pod address: empty pod id");
  std::lock_guard lock(mutex_);
  BERTH_ASSIGN_OR_RETURN(auto all, AllAllocations());
  std::vector<IpAllocation> result;
  std::vector<IpAddress> reserved;
  std::vector<Cidr> wanted = CurrentSubnets();
  for (const auto& subnet : wanted) AddReserved(subnet, reserved);
  for (const auto& allocation : all) {
    AddReserved(allocation.subnet, reserved);
    if (allocation.pod_id != pod_id) continue;
    result.push_back(allocation);
    std::erase_if(wanted, [&](const Cidr& c) { return c.is_v4() == allocation.address.is_v4(); });
  }
  if (wanted.empty()) return result;
  std::vector<IpAllocation> fresh;
  auto stored = store_.Update([&](StoreTransaction& transaction) -> Result<void> {
    fresh.clear();
    for (const auto& subnet : wanted) {
      BERTH_ASSIGN_OR_RETURN(auto allocation, AllocateFrom(transaction, subnet, pod_id, reserved));
      fresh.push_back(std::move(allocation));
    }
    return Ok();
  });
  if (!stored.ok()) return std::move(stored).error().Wrap("allocate address for pod " + pod_id);
  result.insert(result.end(), fresh.begin(), fresh.end());
  SortAllocations(result);
  return result;
}

Result<IpAllocation> Ipam::AllocateFrom(StoreTransaction& transaction, const Cidr& subnet,
                                        const std::string& pod_id,
                                        const std::vector<IpAddress>& reserved) {
  std::optional<uint64_t> last;
  BERTH_ASSIGN_OR_RETURN(auto cursor, transaction.Get(kIpCursorKind, subnet.ToString()));
  if (cursor) {
    Json data = Json::parse(*cursor, nullptr, false);
    auto address = IpAddress::Parse(data.is_object() ? data.value("last", "") : "");
    if (address.ok()) last = subnet.OffsetOf(*address);
  }
  auto taken = [&](uint64_t offset) -> Result<bool> {
    IpAddress address = *subnet.AddressAt(offset);
    if (std::find(reserved.begin(), reserved.end(), address) != reserved.end()) return true;
    BERTH_ASSIGN_OR_RETURN(auto record, transaction.Get(kIpAllocationKind, address.ToString()));
    return record.has_value();
  };
  BERTH_ASSIGN_OR_RETURN(auto offset, NextFreeOffset(subnet, last, taken));
  if (!offset) {
    return Error(ErrorCode::kResourceExhausted,
                 "pod subnet " + subnet.ToString() + " has no free address");
  }
  IpAddress address = *subnet.AddressAt(*offset);
  Json record = {{"pod_id", pod_id}, {"subnet", subnet.ToString()}};
  BERTH_TRY(transaction.Put(kIpAllocationKind, address.ToString(), record.dump()));
  BERTH_TRY(
      transaction.Put(kIpCursorKind, subnet.ToString(), Json{{"last", address.ToString()}}.dump()));
  return IpAllocation{address, subnet, pod_id};
}

Result<void> Ipam::Release(const std::string& pod_id) {
  std::lock_guard lock(mutex_);
  BERTH_ASSIGN_OR_RETURN(auto objects, store_.List(kIpAllocationKind));
  std::vector<std::string> addresses;
  for (const auto& object : objects) {
    auto allocation = ParseAllocation(object);
    if (allocation && allocation->pod_id == pod_id) addresses.push_back(object.id);
  }
  if (addresses.empty()) return Ok();
  auto released = store_.Update([&](StoreTransaction& transaction) -> Result<void> {
    for (const auto& address : addresses) BERTH_TRY(transaction.Delete(kIpAllocationKind, address));
    return Ok();
  });
  if (!released.ok()) return std::move(released).error().Wrap("release addresses of pod " + pod_id);
  return Ok();
}

Result<void> Ipam::SetSubnet(const Cidr& cidr) {
  BERTH_TRY(ValidatePodSubnet(cidr));
  std::lock_guard lock(mutex_);
  if ((cidr.is_v4() && cidr == v4_) || (!cidr.is_v4() && v6_ == cidr)) return Ok();
  IpAddress gateway = *cidr.AddressAt(1);
  BERTH_ASSIGN_OR_RETURN(auto holder, store_.Get(kIpAllocationKind, gateway.ToString()));
  if (holder) {
    return FailedPrecondition("pod CIDR " + cidr.ToString() + ": its gateway " +
                              gateway.ToString() + " is already a pod's address");
  }
  Json record = {{"cidr", cidr.ToString()}};
  BERTH_TRY(store_.Update([&](StoreTransaction& transaction) {
    return transaction.Put(kPodCidrKind, FamilyKey(cidr), record.dump());
  }));
  if (cidr.is_v4()) {
    v4_ = cidr;
  } else {
    v6_ = cidr;
  }
  return Ok();
}

}  // namespace berth::cni
