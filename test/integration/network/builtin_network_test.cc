// The built-in pod network on the real kernel: bridge, veths, addresses, routes, nftables NAT.
#include "cni/builtin/builtin_network.h"

#include <algorithm>
#include <set>
#include <thread>

#include "base/namespaces.h"
#include "gtest/gtest.h"
#include "runtime/pinned_namespaces.h"
#include "test/integration/network/network_test_util.h"

namespace berth::testing {
namespace {

using cni::HostVethName;
using cni::PodChainName;
using cni::PortMapping;

constexpr uint16_t kServerPort = 8080;

class BuiltinNetworkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BERTH_REQUIRE_ROOT();
    env_ = std::make_unique<NetworkTestEnv>();
    std::string error;
    ASSERT_TRUE(env_->Start(&error)) << error;
  }
  void TearDown() override {
    if (!env_) return;
    std::string bridge = env_->bridge();
    env_.reset();  // tears down pods, deletes the bridge and tables
    EXPECT_FALSE(HostLinkExists(bridge));
  }

  // Sets the pod up and checks the answer's shape.
  std::string SetupPod(const TestPod& pod, std::vector<PortMapping> mappings = {}) {
    auto status = env_->network().Setup(env_->Request(pod, std::move(mappings)));
    EXPECT_TRUE(status.ok()) << status.error().message();
    if (!status.ok()) return "";
    EXPECT_EQ(status->interface_name, "eth0");
    EXPECT_EQ(status->ips.size(), 1u);
    return status->ips.front();
  }

  // Nothing of the pod is left: no veth, no address, no nftables chain.
  void ExpectPodGone(const TestPod& pod) {
    EXPECT_FALSE(HostLinkExists(HostVethName(pod.id)));
    EXPECT_TRUE(env_->network().ipam().Allocations(pod.id)->empty());
    EXPECT_EQ(env_->NftTable().find(PodChainName(pod.id)), std::string::npos);
  }

  std::unique_ptr<NetworkTestEnv> env_;
};

TEST_F(BuiltinNetworkTest, PodsReachEachOtherAndTheHostReachesPodsAndHostPorts) {
  TestPod a = env_->NewPod();
  TestPod b = env_->NewPod();
  uint16_t any_port = FreeLoopbackPort();
  uint16_t gateway_port = FreeLoopbackPort();
  ASSERT_NE(any_port, 0);
  std::string a_ip = SetupPod(a, {{"tcp", kServerPort, any_port, ""},
                                  {"udp", kServerPort, any_port, ""},
                                  {"TCP", kServerPort, gateway_port, env_->gateway()}});
  std::string b_ip = SetupPod(b);
  ASSERT_FALSE(a_ip.empty());
  ASSERT_FALSE(b_ip.empty());
  EXPECT_NE(a_ip, b_ip);
  auto subnet = *cni::Cidr::Parse(env_->config().subnet);
  EXPECT_TRUE(subnet.Contains(*cni::IpAddress::Parse(a_ip)));
  EXPECT_TRUE(subnet.Contains(*cni::IpAddress::Parse(b_ip)));
  auto ports = env_->BridgePorts();
  EXPECT_EQ(std::set<std::string>(ports.begin(), ports.end()),
            (std::set<std::string>{HostVethName(a.id), HostVethName(b.id)}));

  TcpServer server(a.netns_path, "0.0.0.0", kServerPort, "hello from a");
  ASSERT_TRUE(server.WaitReady().ok()) << server.WaitReady().error().message();
  // Pod to pod over the bridge.
  auto from_b = FetchFrom(b.netns_path, a_ip, kServerPort);
  ASSERT_TRUE(from_b.ok()) << from_b.error().message();
  EXPECT_EQ(*from_b, "hello from a");
  // Host to pod through the bridge's connected route.
  auto from_host = Fetch(a_ip, kServerPort);
  ASSERT_TRUE(from_host.ok()) << from_host.error().message();
  EXPECT_EQ(*from_host, "hello from a");
  // hostPort on every address, reached on 127.0.0.1 (output DNAT + route_localnet + masquerade).
  auto via_localhost = Fetch("127.0.0.1", any_port);
  ASSERT_TRUE(via_localhost.ok()) << via_localhost.error().message() << "\n" << env_->NftTable();
  EXPECT_EQ(*via_localhost, "hello from a");
  // hostPort on one host address, from the host and from pod B (prerouting DNAT + hairpin).
  auto via_gateway = Fetch(env_->gateway(), gateway_port);
  ASSERT_TRUE(via_gateway.ok()) << via_gateway.error().message();
  EXPECT_EQ(*via_gateway, "hello from a");
  auto hairpin = FetchFrom(b.netns_path, env_->gateway(), gateway_port);
  ASSERT_TRUE(hairpin.ok()) << hairpin.error().message();
  EXPECT_EQ(*hairpin, "hello from a");
  // The gateway port is bound to the gateway only: 127.0.0.1 is not mapped for it.
  EXPECT_FALSE(Fetch("127.0.0.1", gateway_port).ok());
  std::string rules = env_->NftTable();
  EXPECT_NE(rules.find("udp dport " + std::to_string(any_port)), std::string::npos) << rules;

  for (int round = 0; round < 2; ++round) {  // the second teardown finds nothing to do
    auto torn = env_->network().Teardown(env_->Request(a));
    ASSERT_TRUE(torn.ok()) << torn.error().message();
    ExpectPodGone(a);
  }
  EXPECT_FALSE(Fetch("127.0.0.1", any_port).ok());
  ASSERT_TRUE(env_->network().Teardown(env_->Request(b)).ok());
  ExpectPodGone(b);
  EXPECT_TRUE(env_->BridgePorts().empty());
  EXPECT_EQ(env_->AllocationCount(), 0u);
}

TEST_F(BuiltinNetworkTest, PodSideHasEth0WithAddressAndDefaultRoute) {
  TestPod pod = env_->NewPod();
  std::string ip = SetupPod(pod);
  ASSERT_FALSE(ip.empty());
  auto addresses = RunCommand({"/usr/bin/nsenter", "--net=" + pod.netns_path, "/bin/ip", "-4",
                               "addr", "show", "dev", "eth0"});
  EXPECT_NE(addresses.output.find("inet " + ip + "/24"), std::string::npos) << addresses.output;
  EXPECT_NE(addresses.output.find("UP"), std::string::npos) << addresses.output;
  auto routes =
      RunCommand({"/usr/bin/nsenter", "--net=" + pod.netns_path, "/bin/ip", "-4", "route"});
  EXPECT_NE(routes.output.find("default via " + env_->gateway() + " dev eth0"), std::string::npos)
      << routes.output;
  auto loopback =
      RunCommand({"/usr/bin/nsenter", "--net=" + pod.netns_path, "/bin/ip", "link", "show", "lo"});
  EXPECT_NE(loopback.output.find("UP"), std::string::npos) << loopback.output;
}

TEST_F(BuiltinNetworkTest, TeardownWorksWhenTheNamespaceIsGone) {
  TestPod pod = env_->NewPod();
  ASSERT_FALSE(SetupPod(pod, {{"tcp", kServerPort, FreeLoopbackPort(), ""}}).empty());
  ASSERT_TRUE(
      runtime::UnpinNamespace(pod.netns_path).ok());  // the namespace dies, and its veth with it
  auto torn = env_->network().Teardown(env_->Request(pod));
  ASSERT_TRUE(torn.ok()) << torn.error().message();
  ExpectPodGone(pod);
  EXPECT_TRUE(env_->network().Teardown(env_->Request(pod)).ok());
}

TEST_F(BuiltinNetworkTest, FailedSetupUndoesEverything) {
  TestPod pod = env_->NewPod();
  auto request = env_->Request(pod, {{"sctp", kServerPort, FreeLoopbackPort(), ""}});
  auto refused = env_->network().Setup(request);  // fails after the veth exists
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message().find("sctp"), std::string::npos);
  ExpectPodGone(pod);
  request = env_->Request(pod);
  request.netns_path = "/nonexistent/net";
  refused = env_->network().Setup(request);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), ErrorCode::kNotFound);
  ExpectPodGone(pod);
  EXPECT_EQ(env_->AllocationCount(), 0u);
  // The same pod still sets up fine afterwards.
  EXPECT_FALSE(SetupPod(pod).empty());
}

TEST_F(BuiltinNetworkTest, FiftySetupTeardownCyclesLeaveNothingBehind) {
  TestPod netns = env_->NewPod();
  uint16_t host_port = FreeLoopbackPort();
  auto cycle = [&] {
    TestPod pod{RandomHex(64), netns.netns_path};
    auto status = env_->network().Setup(env_->Request(pod, {{"tcp", kServerPort, host_port, ""}}));
    ASSERT_TRUE(status.ok()) << status.error().message();
    auto torn = env_->network().Teardown(env_->Request(pod));
    ASSERT_TRUE(torn.ok()) << torn.error().message();
  };
  cycle();  // warm-up: lazily created library state is not a leak
  size_t fds_before = OpenFdCount();
  for (int i = 0; i < 50; ++i) {
    cycle();
    if (HasFatalFailure()) return;
  }
  EXPECT_EQ(OpenFdCount(), fds_before);
  EXPECT_TRUE(env_->BridgePorts().empty());
  EXPECT_EQ(env_->AllocationCount(), 0u);
  EXPECT_EQ(env_->NftTable().find("pod-"), std::string::npos) << env_->NftTable();
}

TEST_F(BuiltinNetworkTest, ConcurrentSetupsGetDistinctAddresses) {
  constexpr int kPods = 10;
  std::vector<TestPod> pods;
  for (int i = 0; i < kPods; ++i) pods.push_back(env_->NewPod());
  std::vector<std::string> ips(kPods);
  std::vector<std::thread> threads;
  for (int i = 0; i < kPods; ++i) {
    threads.emplace_back([&, i] {
      auto status = env_->network().Setup(env_->Request(pods[i]));
      if (status.ok()) ips[i] = status->ips.front();
      EXPECT_TRUE(status.ok()) << status.error().message();
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(std::set<std::string>(ips.begin(), ips.end()).size(), size_t{kPods});
  EXPECT_EQ(env_->BridgePorts().size(), size_t{kPods});
  threads.clear();
  for (int i = 0; i < kPods; ++i) {
    threads.emplace_back(
        [&, i] { EXPECT_TRUE(env_->network().Teardown(env_->Request(pods[i])).ok()); });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_TRUE(env_->BridgePorts().empty());
  EXPECT_EQ(env_->AllocationCount(), 0u);
}

TEST_F(BuiltinNetworkTest, ARestartedNetworkKeepsAddressesAndTearsDownEarlierPods) {
  TestPod old_pod = env_->NewPod();
  std::string old_ip = SetupPod(old_pod, {{"tcp", kServerPort, FreeLoopbackPort(), ""}});
  ASSERT_FALSE(old_ip.empty());
  auto restarted = env_->Restart();
  ASSERT_TRUE(restarted.ok()) << restarted.error().message();
  cni::BuiltinNetwork& network = **restarted;
  ASSERT_TRUE(network.Ready().ok());
  TestPod new_pod = env_->NewPod();
  auto status = network.Setup(env_->Request(new_pod));
  ASSERT_TRUE(status.ok()) << status.error().message();
  EXPECT_NE(status->ips.front(), old_ip);
  // Re-running the host set-up kept the old pod's DNAT (only base chains are refreshed).
  EXPECT_NE(env_->NftTable().find(PodChainName(old_pod.id)), std::string::npos);
  auto torn = network.Teardown(env_->Request(old_pod));
  ASSERT_TRUE(torn.ok()) << torn.error().message();
  ExpectPodGone(old_pod);
  ASSERT_TRUE(network.Teardown(env_->Request(new_pod)).ok());
  ExpectPodGone(new_pod);
}

TEST_F(BuiltinNetworkTest, ReadyRebuildsARemovedBridgeAndTable) {
  ASSERT_TRUE(env_->network().RemoveHostNetwork().ok());
  EXPECT_FALSE(HostLinkExists(env_->bridge()));
  EXPECT_EQ(env_->NftTable(), "");
  auto ready = env_->network().Ready();
  ASSERT_TRUE(ready.ok()) << ready.error().message();
  EXPECT_TRUE(HostLinkExists(env_->bridge()));
  EXPECT_NE(env_->NftTable().find("masquerade"), std::string::npos);
}

TEST_F(BuiltinNetworkTest, NewPodCidrServesNewPodsWhileOldPodsKeepTheirs) {
  TestPod old_pod = env_->NewPod();
  std::string old_ip = SetupPod(old_pod);
  ASSERT_FALSE(old_ip.empty());
  // Another free /24 of the test range: the old one's neighbour, checked free by the env.
  auto old_subnet = *cni::Cidr::Parse(env_->config().subnet);
  auto new_subnet =
      *cni::Cidr::Parse("10.235." + std::to_string(old_subnet.network().bytes()[2]) + ".0/24");
  ASSERT_FALSE(env_->network().SetPodCidr("bogus").ok());
  ASSERT_TRUE(env_->network().SetPodCidr(new_subnet.ToString()).ok());
  EXPECT_NE(env_->network().Describe().find(new_subnet.ToString()), std::string::npos);
  TestPod new_pod = env_->NewPod();
  std::string new_ip = SetupPod(new_pod);
  EXPECT_TRUE(new_subnet.Contains(*cni::IpAddress::Parse(new_ip))) << new_ip;
  EXPECT_EQ(env_->network().ipam().Allocations(old_pod.id)->front().address.ToString(), old_ip);
  TcpServer server(old_pod.netns_path, "0.0.0.0", kServerPort, "old");
  ASSERT_TRUE(server.WaitReady().ok());
  auto across = FetchFrom(new_pod.netns_path, old_ip, kServerPort);  // routed via both gateways
  ASSERT_TRUE(across.ok()) << across.error().message();
  EXPECT_EQ(*across, "old");
}

}  // namespace
}  // namespace berth::testing
