// The built-in network with an IPv6 subnet beside the IPv4 one: each pod gets one of each.
#include <sched.h>

#include "base/file_util.h"
#include "base/namespaces.h"
#include "cni/builtin/builtin_network.h"
#include "gtest/gtest.h"
#include "test/integration/network/network_test_util.h"

namespace berth::testing {
namespace {

constexpr uint16_t kServerPort = 8080;

// IPv6 works in a fresh network namespace unless the kernel has it off (ipv6.disable=1 removes
// /proc/sys/net/ipv6; disable_ipv6=1 switches it off per namespace).
bool Ipv6InNamespaces(const std::string& netns_path) {
  bool enabled = false;
  (void)RunInNamespace(netns_path, CLONE_NEWNET, [&]() -> Result<void> {
    auto value = ReadFile("/proc/sys/net/ipv6/conf/default/disable_ipv6", 16);
    enabled = value.ok() && value->substr(0, 1) == "0";
    return Ok();
  });
  return enabled && PathExists("/proc/sys/net/ipv6");
}

TEST(DualStackTest, PodsGetBothFamiliesAndTalkOverIpv6) {
  BERTH_REQUIRE_ROOT();
  std::string bridge;
  {
    NetworkTestEnv env(/*with_v6=*/true);
    TestPod a = env.NewPod();
    if (!Ipv6InNamespaces(a.netns_path)) GTEST_SKIP() << "IPv6 is disabled in network namespaces";
    std::string error;
    ASSERT_TRUE(env.Start(&error)) << error;
    bridge = env.bridge();
    TestPod b = env.NewPod();
    uint16_t host_port = FreeLoopbackPort();
    auto status_a = env.network().Setup(env.Request(a, {{"tcp", kServerPort, host_port, ""}}));
    ASSERT_TRUE(status_a.ok()) << status_a.error().message();
    auto status_b = env.network().Setup(env.Request(b));
    ASSERT_TRUE(status_b.ok()) << status_b.error().message();
    ASSERT_EQ(status_a->ips.size(), 2u);
    ASSERT_EQ(status_b->ips.size(), 2u);
    auto v6 = *cni::Cidr::Parse(env.config().subnet_v6);
    EXPECT_TRUE(cni::IpAddress::Parse(status_a->ips[0])->is_v4());  // IPv4 first
    EXPECT_TRUE(v6.Contains(*cni::IpAddress::Parse(status_a->ips[1])));
    EXPECT_NE(status_a->ips[1], status_b->ips[1]);

    TcpServer server(a.netns_path, "::", kServerPort, "hello v6");
    ASSERT_TRUE(server.WaitReady().ok()) << server.WaitReady().error().message();
    auto from_b = FetchFrom(b.netns_path, status_a->ips[1], kServerPort);
    ASSERT_TRUE(from_b.ok()) << from_b.error().message();
    EXPECT_EQ(*from_b, "hello v6");
    auto from_host = Fetch(status_a->ips[1], kServerPort);
    ASSERT_TRUE(from_host.ok()) << from_host.error().message();
    EXPECT_EQ(*from_host, "hello v6");
    auto from_b_v4 = FetchFrom(b.netns_path, status_a->ips[0], kServerPort);
    ASSERT_TRUE(from_b_v4.ok()) << from_b_v4.error().message();
    auto localhost = Fetch("127.0.0.1", host_port);
    ASSERT_TRUE(localhost.ok()) << localhost.error().message();
    std::string rules6 = env.NftTable("ip6");
    EXPECT_NE(rules6.find(cni::PodChainName(a.id)), std::string::npos) << rules6;
    EXPECT_NE(rules6.find("dnat to [" + status_a->ips[1] + "]:8080"), std::string::npos) << rules6;

    ASSERT_TRUE(env.network().Teardown(env.Request(a)).ok());
    EXPECT_EQ(env.NftTable("ip6").find(cni::PodChainName(a.id)), std::string::npos);
    EXPECT_TRUE(env.network().ipam().Allocations(a.id)->empty());
  }
  EXPECT_FALSE(HostLinkExists(bridge));
}

}  // namespace
}  // namespace berth::testing
