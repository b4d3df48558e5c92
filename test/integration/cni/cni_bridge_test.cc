// CniNetwork with Debian's real plugins (/usr/lib/cni): bridge + host-local + portmap + loopback
// on pinned network namespaces. Traffic goes only to 127.0.0.1 and to addresses inside the
// namespaces the test created; the bridge, subnet (10.235.x.0/24), config, cache and host-local
// data dirs are the test's own and removed at the end, as are the iptables chains portmap made.
// Needs root; skips otherwise.
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <random>
#include <thread>

#include "base/namespaces.h"
#include "base/unique_fd.h"
#include "cni/plugin/cni_network.h"
#include "gtest/gtest.h"
#include "runtime/pinned_namespaces.h"
#include "test/integration/cni/cni_test_util.h"

namespace berth::testing {
namespace {

using json = nlohmann::json;

constexpr char kPluginDir[] = "/usr/lib/cni";
constexpr uint16_t kServerPort = 8080;

unsigned RandomNumber() {
  static std::mt19937 engine{std::random_device{}()};
  return engine();
}

std::string RandomHex(size_t length) {
  std::string text;
  while (text.size() < length) text += "0123456789abcdef"[RandomNumber() % 16];
  return text;
}

std::string PodId() {
  return RandomHex(64);
}

std::string IptablesSave() {
  return RunCommand({"/usr/sbin/iptables-save"}).output;
}

// Splits an iptables-save rule into arguments, keeping quoted comments whole.
std::vector<std::string> RuleArguments(const std::string& rule) {
  std::vector<std::string> args;
  std::string current;
  bool quoted = false, pending = false;
  for (size_t i = 0; i < rule.size(); ++i) {
    char c = rule[i];
    if (quoted && c == '\\' && i + 1 < rule.size()) {
      current += rule[++i];
    } else if (c == '"') {
      quoted = !quoted;
      pending = true;
    } else if (c == ' ' && !quoted) {
      if (pending) args.push_back(current);
      current.clear();
      pending = false;
    } else {
      current += c;
      pending = true;
    }
  }
  if (pending) args.push_back(current);
  return args;
}

void SetTimeouts(int fd) {
  timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);  // also bounds connect
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
}

// A TCP socket in `netns` (a socket stays in the namespace it was made in).
Result<UniqueFd> TcpSocketIn(const std::string& netns) {
  UniqueFd fd;
  BERTH_TRY(RunInNamespace(netns, CLONE_NEWNET, [&]() -> Result<void> {
    fd.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) return Error::FromErrno(errno, "socket");
    return Ok();
  }));
  return fd;
}

// Sends `message` to ip:port over `fd` and returns what comes back.
Result<std::string> Exchange(UniqueFd fd, const std::string& ip, uint16_t port,
                             const std::string& message) {
  SetTimeouts(fd.get());
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  ::inet_pton(AF_INET, ip.c_str(), &address.sin_addr);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    return Error::FromErrno(errno, "connect to " + ip + ":" + std::to_string(port));
  }
  if (::send(fd.get(), message.data(), message.size(), MSG_NOSIGNAL) < 0) {
    return Error::FromErrno(errno, "send");
  }
  char buffer[256];
  ssize_t n = ::recv(fd.get(), buffer, sizeof buffer, 0);
  if (n < 0) return Error::FromErrno(errno, "receive from " + ip);
  return std::string(buffer, static_cast<size_t>(n));
}

// A TCP echo server ("echo:" + what it read) on a thread that entered the pod's namespace.
class EchoServer {
 public:
  EchoServer(const std::string& netns, uint16_t port) {
    std::promise<bool> listening;
    auto ready = listening.get_future();
    thread_ = std::thread([this, netns, port, &listening] {
      auto served = RunInNamespace(netns, CLONE_NEWNET, [&]() -> Result<void> {
        UniqueFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        int one = 1;
        ::setsockopt(listener.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(port);
        bool ok =
            ::bind(listener.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
            ::listen(listener.get(), 8) == 0;
        listening.set_value(ok);
        if (ok) Serve(listener.get());
        return Ok();
      });
      (void)served;
    });
    started_ = ready.get();
  }
  ~EchoServer() {
    stop_ = true;
    thread_.join();
  }
  bool started() const { return started_; }

 private:
  void Serve(int listener) {
    while (!stop_) {
      pollfd entry{listener, POLLIN, 0};
      if (::poll(&entry, 1, 100) <= 0) continue;
      UniqueFd client(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
      if (!client) continue;
      SetTimeouts(client.get());
      char buffer[128];
      ssize_t n = ::recv(client.get(), buffer, sizeof buffer, 0);
      if (n <= 0) continue;
      std::string reply = "echo:" + std::string(buffer, static_cast<size_t>(n));
      ::send(client.get(), reply.data(), reply.size(), MSG_NOSIGNAL);
    }
  }

  std::thread thread_;
  std::atomic<bool> stop_{false};
  bool started_ = false;
};

class BridgeCniTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BERTH_REQUIRE_ROOT();
    for (const char* plugin : {"bridge", "host-local", "portmap", "loopback"}) {
      if (!std::filesystem::exists(std::string(kPluginDir) + "/" + plugin)) {
        GTEST_SKIP() << "needs Debian's containernetworking-plugins in " << kPluginDir;
      }
    }
    std::string suffix = RandomHex(6);
    bridge_ = "cnitest" + suffix;
    network_name_ = "berth-cnitest-" + suffix;
    subnet_prefix_ = "10.235." + std::to_string(RandomNumber() % 256) + ".";
    ip_forward_ = ReadText("/proc/sys/net/ipv4/ip_forward");
    // iptables-nft makes its "nat" tables on first use (even a listing): note which exist now.
    nat_tables_existed_[0] =
        RunCommand({"/usr/sbin/nft", "list", "table", "ip", "nat"}).exit_code == 0;
    nat_tables_existed_[1] =
        RunCommand({"/usr/sbin/nft", "list", "table", "ip6", "nat"}).exit_code == 0;
    portmap_chains_existed_ = IptablesSave().find(":CNI-HOSTPORT-DNAT") != std::string::npos;
    dir_ = std::make_unique<TempDir>("berth-cnibridge");
    for (const char* sub : {"/net.d", "/cache", "/ipam", "/pins", "/bin"}) {
      std::filesystem::create_directories(dir_->path() + sub);
    }
    config_.mode = "cni";
    config_.cni_conf_dir = dir_->path() + "/net.d";
    config_.cni_bin_dirs = {kPluginDir};
  }

  void TearDown() override {
    if (!dir_) return;
    if (network_) {
      for (const auto& pod : pods_) (void)network_->Teardown(pod);
    }
    for (const auto& pin : pins_) (void)runtime::UnpinNamespace(pin);
    RunCommand({"/usr/sbin/ip", "link", "del", bridge_});
    if (!portmap_chains_existed_) RemovePortmapChains();
    if (!nat_tables_existed_[0]) RunCommand({"/usr/sbin/nft", "delete", "table", "ip", "nat"});
    if (!nat_tables_existed_[1]) RunCommand({"/usr/sbin/nft", "delete", "table", "ip6", "nat"});
    WriteText("/proc/sys/net/ipv4/ip_forward", ip_forward_);  // bridge's isGateway turned it on
  }

  // portmap creates shared CNI-HOSTPORT-* chains on first use and never removes them; when this
  // test created them, it removes them (jumps first, then the chains).
  static void RemovePortmapChains() {
    std::istringstream lines(RunCommand({"/usr/sbin/iptables-save", "-t", "nat"}).output);
    for (std::string line; std::getline(lines, line);) {
      auto args = RuleArguments(line);
      if (args.size() < 2 || args[0] != "-A" || args[1].starts_with("CNI-HOSTPORT-") ||
          line.find("-j CNI-HOSTPORT-") == std::string::npos) {
        continue;
      }
      args[0] = "-D";
      args.insert(args.begin(), {"/usr/sbin/iptables", "-w", "-t", "nat"});
      RunCommand(args);
    }
    for (const char* chain : {"CNI-HOSTPORT-DNAT", "CNI-HOSTPORT-SETMARK", "CNI-HOSTPORT-MASQ"}) {
      RunCommand({"/usr/sbin/iptables", "-w", "-t", "nat", "-F", chain});
      RunCommand({"/usr/sbin/iptables", "-w", "-t", "nat", "-X", chain});
    }
  }

  json BridgePlugin(bool ip_masq) const {
    return {{"type", "bridge"},
            {"bridge", bridge_},
            {"isGateway", true},
            {"ipMasq", ip_masq},
            {"ipam",
             {{"type", "host-local"},
              {"dataDir", dir_->path() + "/ipam"},
              {"ranges", {{{{"subnet", subnet_prefix_ + "0/24"}}}}},
              {"routes", {{{"dst", "0.0.0.0/0"}}}}}}};
  }

  void WriteConflist(const json& plugins) const {
    json list = {{"cniVersion", "1.0.0"}, {"name", network_name_}, {"plugins", plugins}};
    WriteText(config_.cni_conf_dir + "/10-test.conflist", list.dump(2));
  }
  json FullPluginList() const {
    return {BridgePlugin(true),
            {{"type", "portmap"}, {"capabilities", {{"portMappings", true}}}, {"snat", true}},
            {{"type", "loopback"}}};
  }

  std::string NewNetns(const std::string& name) {
    std::string dir = dir_->path() + "/pins/" + name;
    auto created = runtime::CreatePinnedNamespaces({dir, true, false, false, ""});
    EXPECT_TRUE(created.ok()) << created.error().message();
    pins_.push_back(dir + "/net");
    return dir + "/net";
  }

  cni::PodNetworkRequest Pod(const std::string& name, const std::string& netns) {
    cni::PodNetworkRequest request;
    request.pod_id = PodId();
    request.pod_name = name;
    request.pod_namespace = "cnitest";
    request.pod_uid = RandomHex(8) + "-0000-4000-8000-" + RandomHex(12);
    request.netns_path = netns;
    pods_.push_back(request);
    return request;
  }

  // host-local's allocations: one file per address under <dataDir>/<network name>/.
  std::vector<std::string> Allocations() const {
    std::vector<std::string> ips;
    std::string dir = dir_->path() + "/ipam/" + network_name_;
    if (!std::filesystem::exists(dir)) return ips;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      std::string name = entry.path().filename();
      if (name.starts_with(subnet_prefix_)) ips.push_back(name);
    }
    return ips;
  }

  static bool HasLinkIn(const std::string& netns, const char* name) {
    bool present = true;
    EXPECT_TRUE(RunInNamespace(netns, CLONE_NEWNET, [&]() -> Result<void> {
                  present = ::if_nametoindex(name) != 0;
                  return Ok();
                }).ok());
    return present;
  }

  size_t BridgePorts() const {
    std::string dir = "/sys/class/net/" + bridge_ + "/brif";
    if (!std::filesystem::exists(dir)) return 0;
    return std::distance(std::filesystem::directory_iterator(dir), {});
  }

  // Nothing in any iptables table names the pods, the network or the subnet any more.
  void ExpectNoIptablesTrace(const std::vector<std::string>& pod_ids) const {
    std::string rules = IptablesSave();
    for (const auto& id : pod_ids) EXPECT_EQ(rules.find(id), std::string::npos) << rules;
    EXPECT_EQ(rules.find(network_name_), std::string::npos) << rules;
    EXPECT_EQ(rules.find(subnet_prefix_), std::string::npos) << rules;
  }

  bool CacheEmpty() const { return std::filesystem::is_empty(dir_->path() + "/cache"); }
  std::string cache_dir() const { return dir_->path() + "/cache"; }

  std::unique_ptr<TempDir> dir_;
  NetworkConfig config_;
  std::string bridge_, network_name_, subnet_prefix_, ip_forward_;
  bool nat_tables_existed_[2] = {false, false};
  bool portmap_chains_existed_ = false;
  std::vector<std::string> pins_;
  std::vector<cni::PodNetworkRequest> pods_;
  std::unique_ptr<cni::CniNetwork> network_;  // torn down pods through it at the end
};

TEST_F(BridgeCniTest, TwoPodsGetAddressesTalkAndLeaveNothingBehind) {
  network_ = std::make_unique<cni::CniNetwork>(config_, cache_dir());
  auto ready = network_->Ready();
  ASSERT_FALSE(ready.ok());
  EXPECT_NE(ready.error().message().find("no CNI network config found in " + config_.cni_conf_dir),
            std::string::npos);
  WriteConflist(FullPluginList());
  ready = network_->Ready();
  ASSERT_TRUE(ready.ok()) << ready.error().message();

  std::string net_a = NewNetns("a"), net_b = NewNetns("b");
  auto pod_a = Pod("a", net_a), pod_b = Pod("b", net_b);
  uint16_t host_port = static_cast<uint16_t>(30000 + RandomNumber() % 10000);
  pod_a.port_mappings = {{"tcp", kServerPort, host_port, ""}};
  auto status_a = network_->Setup(pod_a);
  ASSERT_TRUE(status_a.ok()) << status_a.error().message();
  auto status_b = network_->Setup(pod_b);
  ASSERT_TRUE(status_b.ok()) << status_b.error().message();
  ASSERT_EQ(status_a->ips.size(), 1u);
  ASSERT_EQ(status_b->ips.size(), 1u);
  std::string ip_a = status_a->ips[0], ip_b = status_b->ips[0];
  EXPECT_NE(ip_a, ip_b);
  EXPECT_TRUE(ip_a.starts_with(subnet_prefix_)) << ip_a;
  EXPECT_TRUE(ip_b.starts_with(subnet_prefix_)) << ip_b;
  auto allocated = Allocations();
  std::sort(allocated.begin(), allocated.end());
  std::vector<std::string> expected = {ip_a, ip_b};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(allocated, expected);
  EXPECT_NE(IptablesSave().find(pod_a.pod_id), std::string::npos);  // portmap's and ipMasq's rules
  // CHECK: bridge, host-local and loopback verify pod B. Pod A has a hostPort, and Debian's
  // portmap 1.1.1 then also checks an IPv6 DNAT chain it never made for an IPv4-only pod (fixed
  // upstream later): that failure must come back as the plugin's own message.
  auto checked_b = network_->Check(pod_b);
  EXPECT_TRUE(checked_b.ok()) << checked_b.error().message();
  auto checked_a = network_->Check(pod_a);
  if (!checked_a.ok()) {
    EXPECT_NE(
        checked_a.error().message().find("CNI plugin \"portmap\" of network \"" + network_name_ +
                                         "\": CHECK: could not check ipv6 dnat"),
        std::string::npos)
        << checked_a.error().message();
  }

  {
    EchoServer server(net_a, kServerPort);
    ASSERT_TRUE(server.started());
    auto socket_b = TcpSocketIn(net_b);
    ASSERT_TRUE(socket_b.ok()) << socket_b.error().message();
    auto from_b = Exchange(std::move(*socket_b), ip_a, kServerPort, "from-b");
    ASSERT_TRUE(from_b.ok()) << from_b.error().message();
    EXPECT_EQ(*from_b, "echo:from-b");
    auto from_host = Exchange(UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)), ip_a,
                              kServerPort, "from-host");
    ASSERT_TRUE(from_host.ok()) << from_host.error().message();
    EXPECT_EQ(*from_host, "echo:from-host");
    // portmap DNATs locally generated traffic too and masquerades 127.0.0.1 (its "snat" option),
    // so the hostPort answers on the loopback address.
    auto via_host_port = Exchange(UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)),
                                  "127.0.0.1", host_port, "via-hostport");
    ASSERT_TRUE(via_host_port.ok()) << via_host_port.error().message();
    EXPECT_EQ(*via_host_port, "echo:via-hostport");
  }

  ASSERT_TRUE(network_->Teardown(pod_a).ok());
  ASSERT_TRUE(network_->Teardown(pod_b).ok());
  auto again = network_->Teardown(pod_a);
  EXPECT_TRUE(again.ok()) << again.error().message();
  EXPECT_FALSE(HasLinkIn(net_a, "eth0"));
  EXPECT_FALSE(HasLinkIn(net_b, "eth0"));
  EXPECT_EQ(BridgePorts(), 0u);
  EXPECT_TRUE(Allocations().empty());
  EXPECT_TRUE(CacheEmpty());
  ExpectNoIptablesTrace({pod_a.pod_id, pod_b.pod_id});
}

TEST_F(BridgeCniTest, AFreshInstanceTearsDownWhatTheLastOneSetUp) {
  WriteConflist(FullPluginList());
  std::string netns = NewNetns("c");
  auto pod = Pod("c", netns);
  pod.port_mappings = {
      {"tcp", kServerPort, static_cast<uint16_t>(40000 + RandomNumber() % 10000), ""}};
  {
    auto before = cni::MakeCniNetwork(config_, cache_dir());
    ASSERT_TRUE(before.ok()) << before.error().message();
    auto status = (*before)->Setup(pod);
    ASSERT_TRUE(status.ok()) << status.error().message();
    EXPECT_EQ(Allocations(), status->ips);
  }
  network_ = std::make_unique<cni::CniNetwork>(config_, cache_dir());
  auto request = pod;
  request.port_mappings.clear();  // the cache remembers them
  auto torn = network_->Teardown(request);
  ASSERT_TRUE(torn.ok()) << torn.error().message();
  EXPECT_FALSE(HasLinkIn(netns, "eth0"));
  EXPECT_TRUE(Allocations().empty());
  EXPECT_TRUE(CacheEmpty());
  ExpectNoIptablesTrace({pod.pod_id});
}

TEST_F(BridgeCniTest, AFailingPluginsMessageIsReturnedAndEarlierPluginsAreDeleted) {
  std::string fake_bin = dir_->path() + "/bin";
  std::string calls = fake_bin + "/failer.calls";
  WriteText(fake_bin + "/failer",
            "#!/bin/sh\necho \"$CNI_COMMAND\" >> " + calls +
                "\nif [ \"$CNI_COMMAND\" = ADD ]; then\n"
                "  echo '{\"cniVersion\": \"1.0.0\", \"code\": 7, \"msg\": \"boom from the fake "
                "plugin\"}'\n  exit 1\nfi\n");
  ::chmod((fake_bin + "/failer").c_str(), 0755);
  config_.cni_bin_dirs = {fake_bin, kPluginDir};
  WriteConflist(json::array({BridgePlugin(true), {{"type", "failer"}}}));
  network_ = std::make_unique<cni::CniNetwork>(config_, cache_dir());
  std::string netns = NewNetns("d");
  auto pod = Pod("d", netns);
  auto status = network_->Setup(pod);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message().find("CNI plugin \"failer\""), std::string::npos);
  EXPECT_NE(status.error().message().find("boom from the fake plugin"), std::string::npos)
      << status.error().message();
  EXPECT_EQ(ReadText(calls), "ADD\nDEL\n");
  // bridge's DEL ran: the pod's interface, address and masquerade rule are gone.
  EXPECT_FALSE(HasLinkIn(netns, "eth0"));
  EXPECT_EQ(BridgePorts(), 0u);
  EXPECT_TRUE(Allocations().empty());
  EXPECT_TRUE(CacheEmpty());
  ExpectNoIptablesTrace({pod.pod_id});
}

TEST_F(BridgeCniTest, TeardownWorksAfterTheNamespaceIsGone) {
  // Without ipMasq: bridge 1.1 finds the masquerade rule to delete through the pod's interface,
  // which is gone with the namespace (a plugin limitation, not berth's).
  WriteConflist(json::array({BridgePlugin(false), {{"type", "loopback"}}}));
  network_ = std::make_unique<cni::CniNetwork>(config_, cache_dir());
  std::string netns = NewNetns("e");
  auto pod = Pod("e", netns);
  auto status = network_->Setup(pod);
  ASSERT_TRUE(status.ok()) << status.error().message();
  EXPECT_EQ(Allocations().size(), 1u);
  ASSERT_TRUE(runtime::UnpinNamespace(netns).ok());
  auto torn = network_->Teardown(pod);
  ASSERT_TRUE(torn.ok()) << torn.error().message();
  EXPECT_TRUE(Allocations().empty());
  EXPECT_TRUE(CacheEmpty());
  EXPECT_TRUE(network_->Teardown(pod).ok());
}

}  // namespace
}  // namespace berth::testing
