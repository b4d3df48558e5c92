// IPv4/IPv6 addresses and CIDR blocks as values: parsing, printing and the offset arithmetic that
// IPAM needs ("the n-th address of 10.88.0.0/16"). Pure code, no kernel, no store.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace berth::cni {

class IpAddress {
 public:
  // "10.88.0.5" or "fd00::5"; anything else (including a prefix length) is InvalidArgument.
  static Result<IpAddress> Parse(std::string_view text);
  // From network-order bytes: 4 for IPv4, 16 for IPv6.
  static IpAddress FromBytes(const uint8_t* bytes, size_t size);

  IpAddress() = default;

  bool is_v4() const { return size_ == 4; }
  int family() const;  // AF_INET or AF_INET6
  size_t size() const { return size_; }
  const uint8_t* bytes() const { return bytes_.data(); }
  std::string ToString() const;

  // IPv4 sorts before IPv6, then by value.
  auto operator<=>(const IpAddress&) const = default;

 private:
  uint8_t size_ = 4;
  std::array<uint8_t, 16> bytes_{};
};

class Cidr {
 public:
  // "10.88.0.0/16", "fd00:1::/64". Host bits must be zero: "10.88.0.5/16" is refused rather than
  // silently rounded, because a typo in a pod subnet should be seen, not guessed at.
  static Result<Cidr> Parse(std::string_view text);

  const IpAddress& network() const { return network_; }
  int prefix_length() const { return prefix_length_; }
  bool is_v4() const { return network_.is_v4(); }
  int host_bits() const { return static_cast<int>(network_.size()) * 8 - prefix_length_; }
  std::string ToString() const;

  bool Contains(const IpAddress& address) const;
  // True when `other` lies wholly inside this block (CIDR blocks either nest or are disjoint).
  bool Contains(const Cidr& other) const;
  bool Overlaps(const Cidr& other) const { return Contains(other) || other.Contains(*this); }

  // The highest offset inside the block: 2^host_bits - 1, saturated at UINT64_MAX (blocks with
  // more than 64 host bits are never iterated to their end).
  uint64_t LastOffset() const;
  // network + offset, or nullopt when that leaves the block.
  std::optional<IpAddress> AddressAt(uint64_t offset) const;
  // address - network, or nullopt when the address is outside (or beyond 2^64 inside).
  std::optional<uint64_t> OffsetOf(const IpAddress& address) const;

  auto operator<=>(const Cidr&) const = default;

 private:
  IpAddress network_;
  int prefix_length_ = 0;
};

// Drops every block that lies inside another one of the list, so the rest never overlap (an
// nftables interval set refuses overlapping elements). Order of the survivors is kept.
std::vector<Cidr> OutermostBlocks(const std::vector<Cidr>& blocks);

}  // namespace berth::cni
