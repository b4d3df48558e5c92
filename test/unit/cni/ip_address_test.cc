// Address and CIDR arithmetic of the built-in network's IPAM.
#include "cni/builtin/ip_address.h"

#include <sys/socket.h>

#include "gtest/gtest.h"

namespace berth::cni {
namespace {

IpAddress Ip(const char* text) {
  auto address = IpAddress::Parse(text);
  EXPECT_TRUE(address.ok()) << text;
  return address.ok() ? *address : IpAddress();
}

Cidr Block(const char* text) {
  auto cidr = Cidr::Parse(text);
  EXPECT_TRUE(cidr.ok()) << text << ": " << (cidr.ok() ? "" : cidr.error().message());
  return cidr.ok() ? *cidr : Cidr();
}

TEST(IpAddressTest, ParsesAndPrintsBothFamilies) {
  EXPECT_EQ(Ip("10.88.0.5").ToString(), "10.88.0.5");
  EXPECT_EQ(Ip("10.88.0.5").family(), AF_INET);
  EXPECT_EQ(Ip("fd00:0:0::5").ToString(), "fd00::5");
  EXPECT_EQ(Ip("fd00::5").family(), AF_INET6);
  for (const char* bad : {"", "10.88.0", "10.88.0.256", "10.88.0.5/16", "fd00::5::1", "host"}) {
    EXPECT_FALSE(IpAddress::Parse(bad).ok()) << bad;
  }
}

TEST(IpAddressTest, OrdersIpv4BeforeIpv6ThenByValue) {
  EXPECT_LT(Ip("10.0.0.2"), Ip("10.0.0.10"));
  EXPECT_LT(Ip("255.255.255.255"), Ip("::1"));
  EXPECT_EQ(Ip("fd00::1"), Ip("fd00:0::1"));
}

TEST(CidrTest, ParsesCanonicalBlocksOnly) {
  Cidr block = Block("10.88.0.0/16");
  EXPECT_EQ(block.ToString(), "10.88.0.0/16");
  EXPECT_EQ(block.prefix_length(), 16);
  EXPECT_EQ(block.host_bits(), 16);
  EXPECT_EQ(Block("fd00:1::/64").host_bits(), 64);
  EXPECT_EQ(Block("0.0.0.0/0").ToString(), "0.0.0.0/0");
  for (const char* bad : {"10.88.0.0", "10.88.0.5/16", "10.88.0.0/33", "10.88.0.0/-1", "10.88.0.0/",
                          "10.88.0.0/16x", "fd00::1/64", "fd00::/129", "x/8"}) {
    EXPECT_FALSE(Cidr::Parse(bad).ok()) << bad;
  }
}

TEST(CidrTest, ContainsAddressesAndBlocks) {
  Cidr block = Block("10.88.0.0/16");
  EXPECT_TRUE(block.Contains(Ip("10.88.255.255")));
  EXPECT_FALSE(block.Contains(Ip("10.89.0.0")));
  EXPECT_FALSE(block.Contains(Ip("::ffff:10.88.0.1")));  // another family
  EXPECT_TRUE(block.Contains(Block("10.88.1.0/24")));
  EXPECT_FALSE(Block("10.88.1.0/24").Contains(block));
  EXPECT_TRUE(Block("10.88.1.0/24").Overlaps(block));
  EXPECT_FALSE(Block("10.88.0.0/24").Overlaps(Block("10.88.1.0/24")));
  EXPECT_TRUE(Block("fd00:1::/64").Contains(Ip("fd00:1::ffff:1")));
  EXPECT_FALSE(Block("fd00:1::/64").Contains(Ip("fd00:2::1")));
}

TEST(CidrTest, AddressAtAndOffsetOfAreInverse) {
  Cidr block = Block("10.88.0.0/16");
  EXPECT_EQ(block.AddressAt(0)->ToString(), "10.88.0.0");
  EXPECT_EQ(block.AddressAt(1)->ToString(), "10.88.0.1");
  EXPECT_EQ(block.AddressAt(256)->ToString(), "10.88.1.0");  // carry into the next byte
  EXPECT_EQ(block.AddressAt(65535)->ToString(), "10.88.255.255");
  EXPECT_FALSE(block.AddressAt(65536).has_value());
  EXPECT_EQ(block.LastOffset(), 65535u);
  EXPECT_EQ(block.OffsetOf(Ip("10.88.1.7")), 263u);
  EXPECT_FALSE(block.OffsetOf(Ip("10.89.0.0")).has_value());
  for (uint64_t offset : {0ull, 1ull, 255ull, 256ull, 4095ull, 65535ull}) {
    EXPECT_EQ(block.OffsetOf(*block.AddressAt(offset)), offset);
  }
}

TEST(CidrTest, Ipv6OffsetsCoverSixtyFourHostBits) {
  Cidr block = Block("fd00:1::/64");
  EXPECT_EQ(block.LastOffset(), UINT64_MAX);
  EXPECT_EQ(block.AddressAt(0x10000)->ToString(), "fd00:1::1:0");
  EXPECT_EQ(block.AddressAt(UINT64_MAX)->ToString(), "fd00:1::ffff:ffff:ffff:ffff");
  EXPECT_EQ(block.OffsetOf(Ip("fd00:1::ffff:ffff:ffff:ffff")), UINT64_MAX);
  Cidr small = Block("fd00:1::100/120");
  EXPECT_EQ(small.LastOffset(), 255u);
  EXPECT_EQ(small.AddressAt(255)->ToString(), "fd00:1::1ff");
  EXPECT_FALSE(small.AddressAt(256).has_value());
  // A /48 has more than 64 host bits: offsets reach only the first 2^64 addresses.
  Cidr large = Block("fd00:1::/48");
  EXPECT_EQ(large.OffsetOf(Ip("fd00:1::9")), 9u);
  EXPECT_FALSE(large.OffsetOf(Ip("fd00:1:0:1::9")).has_value());
}

TEST(CidrTest, OutermostBlocksDropsNestedAndDuplicateBlocks) {
  auto blocks = OutermostBlocks(
      {Block("10.88.1.0/24"), Block("10.88.0.0/16"), Block("10.90.0.0/24"), Block("10.90.0.0/24")});
  ASSERT_EQ(blocks.size(), 2u);
  EXPECT_EQ(blocks[0].ToString(), "10.88.0.0/16");
  EXPECT_EQ(blocks[1].ToString(), "10.90.0.0/24");
}

}  // namespace
}  // namespace berth::cni
