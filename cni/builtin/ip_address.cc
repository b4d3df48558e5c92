#include "cni/builtin/ip_address.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace berth::cni {
namespace {

// Adds `offset` to the big-endian number in bytes[0..size); returns false on overflow.
bool AddBigEndian(uint8_t* bytes, size_t size, uint64_t offset) {
  unsigned carry = 0;
  for (size_t i = size; i-- > 0;) {
    unsigned sum = bytes[i] + static_cast<unsigned>(offset & 0xff) + carry;
    bytes[i] = static_cast<uint8_t>(sum);
    carry = sum >> 8;
    offset >>= 8;
    if (offset == 0 && carry == 0) return true;
  }
  return offset == 0 && carry == 0;
}

// True when the first `bits` bits of a and b agree.
bool SamePrefix(const uint8_t* a, const uint8_t* b, int bits) {
  int whole = bits / 8;
  if (std::memcmp(a, b, whole) != 0) return false;
  int rest = bits % 8;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

// True when every bit after the first `prefix_length` bits is zero.
bool HostBitsZero(const uint8_t* bytes, size_t size, int prefix_length) {
  for (size_t bit = static_cast<size_t>(prefix_length); bit < size * 8; ++bit) {
    if (bytes[bit / 8] & (0x80 >> (bit % 8))) return false;
  }
  return true;
}

// Built by appending: GCC 12 warns falsely (-Wrestrict) on "literal" + std::string(view).
Error BadCidr(std::string_view text, std::string_view why) {
  std::string message = "\"";
  message.append(text).append("\" ").append(why);
  return InvalidArgument(std::move(message));
}

uint64_t ReadBigEndian64(const uint8_t* bytes) {
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = (value << 8) | bytes[i];
  return value;
}

}  // namespace

Result<IpAddress> IpAddress::Parse(std::string_view text) {
  std::string copy(text);
  uint8_t bytes[16];
  if (::inet_pton(AF_INET, copy.c_str(), bytes) == 1) return FromBytes(bytes, 4);
  if (::inet_pton(AF_INET6, copy.c_str(), bytes) == 1) return FromBytes(bytes, 16);
  return InvalidArgument("\"" + copy + "\" is not an IP address");
}

IpAddress IpAddress::FromBytes(const uint8_t* bytes, size_t size) {
  IpAddress address;
  address.size_ = size == 4 ? 4 : 16;
  std::memcpy(address.bytes_.data(), bytes, address.size_);
  return address;
}

int IpAddress::family() const {
  return is_v4() ? AF_INET : AF_INET6;
}

std::string IpAddress::ToString() const {
  char text[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(family(), bytes_.data(), text, sizeof text);
  return text;
}

Result<Cidr> Cidr::Parse(std::string_view text) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos) {
    return BadCidr(text, "is not a CIDR block (no /prefix)");
  }
  BERTH_ASSIGN_OR_RETURN(IpAddress network, IpAddress::Parse(text.substr(0, slash)));
  std::string_view length_text = text.substr(slash + 1);
  int length = -1;
  auto [end, error] =
      std::from_chars(length_text.data(), length_text.data() + length_text.size(), length);
  int max_length = static_cast<int>(network.size()) * 8;
  if (error != std::errc() || end != length_text.data() + length_text.size() || length < 0 ||
      length > max_length || length_text.empty()) {
    return BadCidr(text, "has an invalid prefix length");
  }
  if (!HostBitsZero(network.bytes(), network.size(), length)) {
    return BadCidr(text, "has host bits set");
  }
  Cidr cidr;
  cidr.network_ = network;
  cidr.prefix_length_ = length;
  return cidr;
}

std::string Cidr::ToString() const {
  return network_.ToString() + "/" + std::to_string(prefix_length_);
}

bool Cidr::Contains(const IpAddress& address) const {
  return address.size() == network_.size() &&
         SamePrefix(address.bytes(), network_.bytes(), prefix_length_);
}

bool Cidr::Contains(const Cidr& other) const {
  return other.prefix_length_ >= prefix_length_ && Contains(other.network_);
}

uint64_t Cidr::LastOffset() const {
  int bits = host_bits();
  return bits >= 64 ? UINT64_MAX : (uint64_t{1} << bits) - 1;
}

std::optional<IpAddress> Cidr::AddressAt(uint64_t offset) const {
  if (offset > LastOffset()) return std::nullopt;
  uint8_t bytes[16];
  std::memcpy(bytes, network_.bytes(), network_.size());
  if (!AddBigEndian(bytes, network_.size(), offset)) return std::nullopt;
  return IpAddress::FromBytes(bytes, network_.size());
}

std::optional<uint64_t> Cidr::OffsetOf(const IpAddress& address) const {
  if (!Contains(address)) return std::nullopt;
  const uint8_t* bytes = address.bytes();
  const uint8_t* base = network_.bytes();
  if (address.size() == 16 && ReadBigEndian64(bytes) != ReadBigEndian64(base)) {
    return std::nullopt;  // the difference does not fit in 64 bits
  }
  size_t low = address.size() - (address.size() == 16 ? 8 : 4);
  // The network's host bits are zero, so the difference of the low parts is the offset.
  uint64_t value = 0;
  uint64_t network_value = 0;
  for (size_t i = low; i < address.size(); ++i) {
    value = (value << 8) | bytes[i];
    network_value = (network_value << 8) | base[i];
  }
  return value - network_value;
}

std::vector<Cidr> OutermostBlocks(const std::vector<Cidr>& blocks) {
  std::vector<Cidr> result;
  for (size_t i = 0; i < blocks.size(); ++i) {
    bool inside_other = false;
    for (size_t j = 0; j < blocks.size() && !inside_other; ++j) {
      if (i == j) continue;
      // Of two equal blocks keep the first.
      inside_other = blocks[j].Contains(blocks[i]) && (blocks[j] != blocks[i] || j < i);
    }
    if (!inside_other) result.push_back(blocks[i]);
  }
  return result;
}

}  // namespace berth::cni
