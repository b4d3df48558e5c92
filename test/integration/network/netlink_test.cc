// The rtnetlink client on the real kernel, entirely inside a network namespace the test created.
#include "cni/builtin/netlink.h"

#include <net/if.h>
#include <sched.h>

#include "base/namespaces.h"
#include "gtest/gtest.h"
#include "runtime/pinned_namespaces.h"
#include "test/integration/berthd_fixture.h"

namespace berth::testing {
namespace {

using cni::Netlink;

class NetlinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BERTH_REQUIRE_ROOT();
    auto created = runtime::CreatePinnedNamespaces({dir_.path() + "/ns", true, false, false, ""});
    ASSERT_TRUE(created.ok()) << created.error().message();
    netns_ = dir_.path() + "/ns/net";
  }
  void TearDown() override {
    if (!netns_.empty()) {
      EXPECT_TRUE(runtime::UnpinNamespace(netns_).ok());
    }
  }

  // Runs `work` with a Netlink opened inside the test namespace.
  void InNamespace(const std::function<void(Netlink&)>& work) {
    auto ran = RunInNamespace(netns_, CLONE_NEWNET, [&]() -> Result<void> {
      BERTH_ASSIGN_OR_RETURN(Netlink netlink, Netlink::Open());
      work(netlink);
      return Ok();
    });
    ASSERT_TRUE(ran.ok()) << ran.error().message();
  }

  TempDir dir_{"berth-netlink"};
  std::string netns_;
};

TEST_F(NetlinkTest, LinksCanBeCreatedRenamedConfiguredAndDeleted) {
  InNamespace([](Netlink& netlink) {
    auto missing = netlink.GetLink("nope0");
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
    EXPECT_TRUE(netlink.DeleteLink("nope0").ok());  // absent is fine

    ASSERT_TRUE(netlink.CreateBridge("br-t", {0x02, 0, 0, 0, 0, 1}).ok());
    auto again = netlink.CreateBridge("br-t", {0x02, 0, 0, 0, 0, 1});
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().code(), ErrorCode::kAlreadyExists);
    ASSERT_TRUE(netlink.CreateVethPair("va", "vb", -1).ok());
    auto bridge = netlink.GetLink("br-t");
    ASSERT_TRUE(bridge.ok());
    EXPECT_EQ(bridge->kind, "bridge");
    int veth = *netlink.LinkIndex("va");
    ASSERT_TRUE(netlink.SetMaster(veth, bridge->index).ok());
    ASSERT_TRUE(netlink.SetMtu(veth, 1400).ok());
    ASSERT_TRUE(netlink.Rename(veth, "va-renamed").ok());
    ASSERT_TRUE(netlink.SetUp(veth, true).ok());
    auto renamed = netlink.GetLink("va-renamed");
    ASSERT_TRUE(renamed.ok());
    EXPECT_EQ(renamed->kind, "veth");
    EXPECT_EQ(renamed->mtu, 1400u);
    EXPECT_EQ(renamed->master_index, bridge->index);
    EXPECT_TRUE(renamed->flags & IFF_UP);
    EXPECT_FALSE(netlink.Rename(veth, "name-that-is-too-long").ok());

    ASSERT_TRUE(netlink.DeleteLink("vb").ok());  // deleting one end removes the pair
    EXPECT_FALSE(netlink.GetLink("va-renamed").ok());
    ASSERT_TRUE(netlink.DeleteLink("br-t").ok());
  });
}

TEST_F(NetlinkTest, AddressesAndRoutesOfBothFamilies) {
  InNamespace([](Netlink& netlink) {
    ASSERT_TRUE(netlink.CreateVethPair("v0", "v1", -1).ok());
    int v0 = *netlink.LinkIndex("v0");
    ASSERT_TRUE(netlink.SetUp(v0, true).ok());
    ASSERT_TRUE(netlink.SetUp(*netlink.LinkIndex("v1"), true).ok());
    auto v4 = *cni::IpAddress::Parse("10.234.7.2");
    ASSERT_TRUE(netlink.AddAddress(v0, v4, 24).ok());
    auto duplicate_address = netlink.AddAddress(v0, v4, 24);
    ASSERT_FALSE(duplicate_address.ok());
    EXPECT_EQ(duplicate_address.error().code(), ErrorCode::kAlreadyExists);
    auto gateway = *cni::IpAddress::Parse("10.234.7.1");
    auto any = *cni::Cidr::Parse("0.0.0.0/0");
    ASSERT_TRUE(netlink.AddRoute({any, gateway, v0}).ok());
    auto duplicate_route = netlink.AddRoute({any, gateway, v0});
    ASSERT_FALSE(duplicate_route.ok());
    EXPECT_EQ(duplicate_route.error().code(), ErrorCode::kAlreadyExists);
    auto v6 = *cni::IpAddress::Parse("fd00:234:7::2");
    bool have_v6 = netlink.AddAddress(v0, v6, 64).ok();  // IPv6 may be off in this kernel
    auto addresses = netlink.ListAddresses(v0);
    ASSERT_TRUE(addresses.ok()) << addresses.error().message();
    bool found_v4 = false;
    bool found_v6 = false;
    for (const auto& address : *addresses) {
      found_v4 |= address.address == v4 && address.prefix_length == 24;
      found_v6 |= address.address == v6 && address.prefix_length == 64;
    }
    EXPECT_TRUE(found_v4);
    EXPECT_EQ(found_v6, have_v6);
    if (have_v6) {
      auto route = netlink.AddRoute(
          {*cni::Cidr::Parse("::/0"), *cni::IpAddress::Parse("fd00:234:7::1"), v0});
      EXPECT_TRUE(route.ok()) << route.error().message();
    }
    ASSERT_TRUE(netlink.DeleteLink("v0").ok());
  });
}

}  // namespace
}  // namespace berth::testing
