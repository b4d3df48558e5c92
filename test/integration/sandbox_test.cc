// Pod sandboxes through berthd's socket, on the built-in network (a test-only bridge, subnet and
// nftables table) and, in CNI mode, with Debian's containernetworking-plugins.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>

#include "base/namespaces.h"
#include "gtest/gtest.h"
#include "test/integration/berthd_fixture.h"

namespace berth::testing {
namespace {

using ::runtime::v1::PodSandboxConfig;

std::string RandomHex(int length) {
  static std::mt19937_64 engine{std::random_device{}()};
  std::string text;
  for (int i = 0; i < length; ++i) text += "0123456789abcdef"[engine() % 16];
  return text;
}

// Interfaces attached to `bridge` (the host ends of the pods' veth pairs).
int CountBridgePorts(const std::string& bridge) {
  std::error_code error;
  int count = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator("/sys/class/net/" + bridge + "/brif", error)) {
    (void)entry;
    ++count;
  }
  return count;
}

int CountOpenFds(pid_t pid) {
  int count = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
    (void)entry;
    ++count;
  }
  return count;
}

// A TCP server inside a namespace: accepts once per connection, answers "pong:<what it read>".
class NsServer {
 public:
  NsServer(const std::string& netns, uint16_t port) {
    thread_ = std::thread([this, netns, port] {
      (void)RunInNamespace(netns, CLONE_NEWNET, [&]() -> Result<void> {
        int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int one = 1;
        ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(port);
        if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
            ::listen(fd, 16) != 0) {
          ready_ = -1;
          return Internal("listen");
        }
        listen_fd_ = fd;
        ready_ = 1;
        while (true) {
          int client = ::accept(fd, nullptr, nullptr);
          if (client < 0) break;
          char buffer[64] = {};
          ssize_t n = ::read(client, buffer, sizeof buffer - 1);
          std::string reply = "pong:" + std::string(buffer, n > 0 ? n : 0);
          (void)!::write(client, reply.data(), reply.size());
          ::close(client);
        }
        return Ok();
      });
    });
    while (ready_ == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ~NsServer() {
    if (listen_fd_ >= 0) ::shutdown(listen_fd_, SHUT_RDWR);
    thread_.join();
    if (listen_fd_ >= 0) ::close(listen_fd_);
  }
  bool ok() const { return ready_ == 1; }

 private:
  std::thread thread_;
  std::atomic<int> ready_{0};
  int listen_fd_ = -1;
};

// Connects to ip:port (from `netns` when given, else from the host) and returns the reply.
std::string Ping(const std::string& ip, uint16_t port, const std::string& netns = "") {
  std::string reply;
  auto talk = [&]() -> Result<void> {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval timeout{3, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    ::inet_pton(AF_INET, ip.c_str(), &address.sin_addr);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
      (void)!::write(fd, "ping", 4);
      char buffer[64] = {};
      ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n > 0) reply.assign(buffer, n);
    }
    ::close(fd);
    return Ok();
  };
  if (netns.empty()) {
    (void)talk();
  } else {
    (void)RunInNamespace(netns, CLONE_NEWNET, talk);
  }
  return reply;
}

// Runs every test on the built-in network and with CNI plugins.
class SandboxTest : public ::testing::TestWithParam<std::string> {
 protected:
  bool cni() const { return GetParam() == "cni"; }
  void SetUp() override {
    BERTH_REQUIRE_ROOT();
    if (cni() && !std::filesystem::exists("/usr/lib/cni/bridge")) {
      GTEST_SKIP() << "Debian's containernetworking-plugins are not installed";
    }
    suffix_ = RandomHex(6);
    bridge_ = "bt" + suffix_;
    table_ = "berth_t" + suffix_;
    // 10.2xx.y.0/24, different per run so runs never collide.
    static std::mt19937 engine{std::random_device{}()};
    subnet_prefix_ =
        "10." + std::to_string(200 + engine() % 50) + "." + std::to_string(engine() % 250) + ".";
    std::ofstream config(config_dir_.path() + "/berth.yaml");
    config << "network:\n  bridge: " << bridge_ << "\n  subnet: " << subnet_prefix_
           << "0/24\n  nft_table: " << table_ << "\n";
    if (cni()) {
      std::string conf_dir = config_dir_.path() + "/net.d";
      std::filesystem::create_directories(conf_dir);
      std::ofstream(conf_dir + "/10-berth-test.conflist") << CniConfig();
      config << "  mode: cni\n  cni_conf_dir: " << conf_dir << "\n";
    }
    config.close();
    had_nat_table_ = RunCommand({"/usr/sbin/nft", "list", "table", "ip", "nat"}).exit_code == 0;
    had_nat6_table_ = RunCommand({"/usr/sbin/nft", "list", "table", "ip6", "nat"}).exit_code == 0;
    ASSERT_TRUE(berthd_.Start({"--config", config_dir_.path() + "/berth.yaml"}));
  }
  // The portmap plugin leaves its iptables chains (and iptables-nft its "nat" table) behind
  // after DEL: remove what this test made.
  void CleanUpPortmap() {
    for (const char* tool : {"/usr/sbin/iptables", "/usr/sbin/ip6tables"}) {
      std::istringstream rules(RunCommand({tool, "-t", "nat", "-S"}).output);
      std::vector<std::string> chains;
      for (std::string line; std::getline(rules, line);) {
        if (line.find("CNI-") == std::string::npos) continue;
        std::istringstream words(line);
        std::vector<std::string> argv = {tool, "-t", "nat"};
        std::string word;
        words >> word;
        if (word == "-N") {
          words >> word;
          chains.push_back(word);
          continue;
        }
        argv.push_back("-D");
        while (words >> word) argv.push_back(word);
        RunCommand(argv);
      }
      for (const auto& chain : chains) RunCommand({tool, "-t", "nat", "-F", chain});
      for (const auto& chain : chains) RunCommand({tool, "-t", "nat", "-X", chain});
    }
    if (!had_nat_table_) RunCommand({"/usr/sbin/nft", "delete", "table", "ip", "nat"});
    if (!had_nat6_table_) RunCommand({"/usr/sbin/nft", "delete", "table", "ip6", "nat"});
  }
  std::string CniConfig() const {
    nlohmann::json conflist = {{"cniVersion", "1.0.0"},
                               {"name", "berth-test-" + suffix_},
                               {"plugins",
                                {{{"type", "bridge"},
                                  {"bridge", bridge_},
                                  {"isGateway", true},
                                  {"ipMasq", false},
                                  {"ipam",
                                   {{"type", "host-local"},
                                    {"dataDir", config_dir_.path() + "/ipam"},
                                    {"ranges", {{{{"subnet", subnet_prefix_ + "0/24"}}}}},
                                    {"routes", {{{"dst", "0.0.0.0/0"}}}}}}},
                                 {{"type", "portmap"}, {"capabilities", {{"portMappings", true}}}},
                                 {{"type", "loopback"}}}}};
    return conflist.dump(2);
  }
  void TearDown() override {
    if (!berthd_.running()) return;
    // Remove every pod the test left, then the bridge and table berth made for this test.
    ::runtime::v1::ListPodSandboxResponse pods;
    (void)berthd_.runtime().ListPodSandbox(CallContext().get(), {}, &pods);
    for (const auto& pod : pods.items()) Remove(pod.id());
    berthd_.Stop();
    RunCommand({"/usr/sbin/ip", "link", "delete", bridge_});
    if (cni()) {
      CleanUpPortmap();
    } else {
      RunCommand({"/usr/sbin/nft", "delete", "table", "ip", table_});
    }
  }

  PodSandboxConfig Config(const std::string& name) {
    PodSandboxConfig config;
    config.mutable_metadata()->set_name(name);
    config.mutable_metadata()->set_namespace_("default");
    config.mutable_metadata()->set_uid("uid-" + name);
    config.set_hostname(name + "-host");
    config.set_log_directory("/var/log/pods/" + name);
    (*config.mutable_labels())["app"] = name;
    return config;
  }
  grpc::Status Run(const PodSandboxConfig& config, std::string* id,
                   const std::string& handler = "") {
    ::runtime::v1::RunPodSandboxRequest request;
    *request.mutable_config() = config;
    request.set_runtime_handler(handler);
    ::runtime::v1::RunPodSandboxResponse response;
    auto status = berthd_.runtime().RunPodSandbox(CallContext(60).get(), request, &response);
    *id = response.pod_sandbox_id();
    return status;
  }
  ::runtime::v1::PodSandboxStatusResponse Status(const std::string& id, bool verbose = false) {
    ::runtime::v1::PodSandboxStatusRequest request;
    request.set_pod_sandbox_id(id);
    request.set_verbose(verbose);
    ::runtime::v1::PodSandboxStatusResponse response;
    EXPECT_TRUE(berthd_.runtime().PodSandboxStatus(CallContext().get(), request, &response).ok());
    return response;
  }
  grpc::Status Stop(const std::string& id) {
    ::runtime::v1::StopPodSandboxRequest request;
    request.set_pod_sandbox_id(id);
    ::runtime::v1::StopPodSandboxResponse response;
    return berthd_.runtime().StopPodSandbox(CallContext(60).get(), request, &response);
  }
  grpc::Status Remove(const std::string& id) {
    ::runtime::v1::RemovePodSandboxRequest request;
    request.set_pod_sandbox_id(id);
    ::runtime::v1::RemovePodSandboxResponse response;
    return berthd_.runtime().RemovePodSandbox(CallContext(60).get(), request, &response);
  }
  std::string PodDir(const std::string& id) { return berthd_.state() + "/pods/" + id; }
  std::string Netns(const std::string& id) { return PodDir(id) + "/ns/net"; }

  TempDir config_dir_{"berth-sandbox-config"};
  BerthdProcess berthd_;
  std::string suffix_, bridge_, table_, subnet_prefix_;
  bool had_nat_table_ = false;
  bool had_nat6_table_ = false;
};

TEST_P(SandboxTest, TwoPodsGetAddressesAndTalk) {
  std::string a, b;
  ASSERT_TRUE(Run(Config("pod-a"), &a).ok());
  ASSERT_TRUE(Run(Config("pod-b"), &b).ok());
  EXPECT_EQ(a.size(), 64u);
  auto status_a = Status(a).status();
  auto status_b = Status(b).status();
  std::string ip_a = status_a.network().ip(), ip_b = status_b.network().ip();
  EXPECT_EQ(ip_a.rfind(subnet_prefix_, 0), 0u) << ip_a;
  EXPECT_EQ(ip_b.rfind(subnet_prefix_, 0), 0u) << ip_b;
  EXPECT_NE(ip_a, ip_b);
  EXPECT_EQ(status_a.state(), ::runtime::v1::SANDBOX_READY);
  EXPECT_EQ(status_a.metadata().name(), "pod-a");
  EXPECT_NE(status_a.created_at(), 0);
  EXPECT_EQ(status_a.labels().at("app"), "pod-a");

  NsServer server(Netns(a), 8080);
  ASSERT_TRUE(server.ok());
  EXPECT_EQ(Ping(ip_a, 8080, Netns(b)), "pong:ping");  // pod B -> pod A
  EXPECT_EQ(Ping(ip_a, 8080), "pong:ping");            // host -> pod A
}

TEST_P(SandboxTest, HostnameFilesAndSysctls) {
  auto config = Config("files");
  config.mutable_dns_config()->add_servers("10.96.0.10");
  config.mutable_dns_config()->add_searches("default.svc.cluster.local");
  config.mutable_dns_config()->add_options("ndots:5");
  (*config.mutable_linux()->mutable_sysctls())["net.ipv4.ip_unprivileged_port_start"] = "80";
  (*config.mutable_linux()->mutable_sysctls())["kernel.shm_rmid_forced"] = "1";
  std::string id;
  auto ran = Run(config, &id);
  ASSERT_TRUE(ran.ok()) << ran.error_message();
  std::string ip = Status(id).status().network().ip();
  EXPECT_EQ(ReadText(PodDir(id) + "/etc/hostname"), "files-host\n");
  EXPECT_NE(ReadText(PodDir(id) + "/etc/hosts").find(ip + "\tfiles-host"), std::string::npos);
  EXPECT_NE(ReadText(PodDir(id) + "/etc/hosts").find("127.0.0.1\tlocalhost"), std::string::npos);
  EXPECT_EQ(ReadText(PodDir(id) + "/etc/resolv.conf"),
            "search default.svc.cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n");
  std::string hostname, port_start, rmid;
  ASSERT_TRUE(RunInNamespace(PodDir(id) + "/ns/uts", CLONE_NEWUTS, [&]() -> Result<void> {
                char name[256] = {};
                ::gethostname(name, sizeof name);
                hostname = name;
                return Ok();
              }).ok());
  EXPECT_EQ(hostname, "files-host");
  ASSERT_TRUE(RunInNamespace(Netns(id), CLONE_NEWNET, [&]() -> Result<void> {
                port_start = ReadText("/proc/sys/net/ipv4/ip_unprivileged_port_start");
                return Ok();
              }).ok());
  EXPECT_EQ(port_start, "80\n");
  ASSERT_TRUE(RunInNamespace(PodDir(id) + "/ns/ipc", CLONE_NEWIPC, [&]() -> Result<void> {
                rmid = ReadText("/proc/sys/kernel/shm_rmid_forced");
                return Ok();
              }).ok());
  EXPECT_EQ(rmid, "1\n");
  // The pod's /dev/shm is a tmpfs of its own.
  EXPECT_NE(ReadText("/proc/self/mountinfo").find(PodDir(id) + "/shm"), std::string::npos);
}

TEST_P(SandboxTest, NoHostnameMeansTheNodesAndALongOneIsRefused) {
  // critest's pod names are longer than a hostname may be: without a hostname the node's is used.
  std::string long_name(70, 'p');
  auto config = Config(long_name);
  config.clear_hostname();
  std::string id;
  auto ran = Run(config, &id);
  ASSERT_TRUE(ran.ok()) << ran.error_message();
  char node[256] = {};
  ::gethostname(node, sizeof node);
  EXPECT_EQ(ReadText(PodDir(id) + "/etc/hostname"), std::string(node) + "\n");
  EXPECT_TRUE(Remove(id).ok());
  auto too_long = Config("long-host");
  too_long.set_hostname(long_name);
  auto refused = Run(too_long, &id);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << refused.error_message();
}

TEST_P(SandboxTest, HostPortOnLoopbackReachesThePod) {
  auto config = Config("ports");
  auto* mapping = config.add_port_mappings();
  mapping->set_container_port(8080);
  mapping->set_host_port(0);  // documentation-only: ignored
  // A free host port above the usual ranges.
  static std::mt19937 engine{std::random_device{}()};
  int host_port = 40000 + engine() % 20000;
  auto* real = config.add_port_mappings();
  real->set_container_port(8080);
  real->set_host_port(host_port);
  std::string id;
  auto ran = Run(config, &id);
  ASSERT_TRUE(ran.ok()) << ran.error_message();
  NsServer server(Netns(id), 8080);
  ASSERT_TRUE(server.ok());
  EXPECT_EQ(Ping("127.0.0.1", host_port), "pong:ping");
  ASSERT_TRUE(Stop(id).ok());
  EXPECT_EQ(Ping("127.0.0.1", host_port), "");
}

TEST_P(SandboxTest, BadRequestsFailCleanly) {
  std::string id;
  auto config = Config("dup");
  ASSERT_TRUE(Run(config, &id).ok());
  std::string second;
  auto duplicate = Run(config, &second);
  EXPECT_EQ(duplicate.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_NE(duplicate.error_message().find(id), std::string::npos) << duplicate.error_message();

  auto handler = Run(Config("handler"), &second, "kata");
  EXPECT_EQ(handler.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(handler.error_message().find("kata"), std::string::npos);

  auto bad_sysctl = Config("sysctl");
  (*bad_sysctl.mutable_linux()->mutable_sysctls())["kernel.panic"] = "1";
  auto refused = Run(bad_sysctl, &second);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(refused.error_message().find("kernel.panic"), std::string::npos);

  auto no_name = Config("");
  EXPECT_EQ(Run(no_name, &second).error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  // Nothing of the refused ones is left: one pod, one pod directory, one veth.
  ::runtime::v1::ListPodSandboxResponse pods;
  ASSERT_TRUE(berthd_.runtime().ListPodSandbox(CallContext().get(), {}, &pods).ok());
  EXPECT_EQ(pods.items_size(), 1);
  size_t dirs = 0;
  for (const auto& entry : std::filesystem::directory_iterator(berthd_.state() + "/pods")) {
    (void)entry;
    ++dirs;
  }
  EXPECT_EQ(dirs, 1u);
}

TEST_P(SandboxTest, StopAndRemoveAreIdempotentAndLeaveNothing) {
  std::string id;
  ASSERT_TRUE(Run(Config("cycle"), &id).ok());
  int veths = CountBridgePorts(bridge_);
  ASSERT_TRUE(Stop(id).ok());
  ASSERT_TRUE(Stop(id).ok());
  EXPECT_EQ(Status(id).status().state(), ::runtime::v1::SANDBOX_NOTREADY);
  EXPECT_FALSE(Status(id).status().has_network() && !Status(id).status().network().ip().empty());
  EXPECT_EQ(CountBridgePorts(bridge_), veths - 1);
  EXPECT_FALSE(std::filesystem::exists(Netns(id)));
  ASSERT_TRUE(Remove(id).ok());
  ASSERT_TRUE(Remove(id).ok());
  EXPECT_FALSE(std::filesystem::exists(PodDir(id)));
  EXPECT_TRUE(Stop(std::string(64, 'f')).ok());
  EXPECT_TRUE(Remove(std::string(64, 'f')).ok());
  ::runtime::v1::PodSandboxStatusRequest request;
  request.set_pod_sandbox_id(id);
  ::runtime::v1::PodSandboxStatusResponse response;
  EXPECT_EQ(
      berthd_.runtime().PodSandboxStatus(CallContext().get(), request, &response).error_code(),
      grpc::StatusCode::NOT_FOUND);
}

TEST_P(SandboxTest, ListFilters) {
  std::string a, b;
  ASSERT_TRUE(Run(Config("list-a"), &a).ok());
  ASSERT_TRUE(Run(Config("list-b"), &b).ok());
  ASSERT_TRUE(Stop(b).ok());
  auto list = [&](const ::runtime::v1::PodSandboxFilter& filter) {
    ::runtime::v1::ListPodSandboxRequest request;
    *request.mutable_filter() = filter;
    ::runtime::v1::ListPodSandboxResponse response;
    EXPECT_TRUE(berthd_.runtime().ListPodSandbox(CallContext().get(), request, &response).ok());
    std::vector<std::string> ids;
    for (const auto& item : response.items()) ids.push_back(item.id());
    return ids;
  };
  ::runtime::v1::PodSandboxFilter by_id;
  by_id.set_id(a.substr(0, 12));
  EXPECT_EQ(list(by_id), std::vector<std::string>{a});
  ::runtime::v1::PodSandboxFilter by_state;
  by_state.mutable_state()->set_state(::runtime::v1::SANDBOX_NOTREADY);
  EXPECT_EQ(list(by_state), std::vector<std::string>{b});
  ::runtime::v1::PodSandboxFilter by_label;
  (*by_label.mutable_label_selector())["app"] = "list-a";
  EXPECT_EQ(list(by_label), std::vector<std::string>{a});
  // A unique prefix works for status too.
  EXPECT_EQ(Status(a.substr(0, 8)).status().id(), a);
}

TEST_P(SandboxTest, SandboxesSurviveARestart) {
  std::string id;
  ASSERT_TRUE(Run(Config("restart"), &id).ok());
  std::string ip = Status(id).status().network().ip();
  NsServer server(Netns(id), 8081);
  ASSERT_TRUE(server.ok());
  ASSERT_EQ(berthd_.Stop(), 0);
  ASSERT_TRUE(berthd_.Start({"--config", config_dir_.path() + "/berth.yaml"}));
  auto status = Status(id).status();
  EXPECT_EQ(status.state(), ::runtime::v1::SANDBOX_READY);
  EXPECT_EQ(status.network().ip(), ip);
  EXPECT_EQ(Ping(ip, 8081), "pong:ping");
  // A new pod does not get the address the old one holds.
  std::string other;
  ASSERT_TRUE(Run(Config("restart-2"), &other).ok());
  EXPECT_NE(Status(other).status().network().ip(), ip);
}

TEST_P(SandboxTest, HostNetworkAndSharedPidNamespace) {
  auto host = Config("hostnet");
  host.clear_hostname();  // a host-network pod has the node's (cri_completeness_test)
  host.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_network(
      ::runtime::v1::NODE);
  std::string host_id;
  auto ran = Run(host, &host_id);
  ASSERT_TRUE(ran.ok()) << ran.error_message();
  EXPECT_FALSE(std::filesystem::exists(Netns(host_id)));
  EXPECT_EQ(ReadText(PodDir(host_id) + "/etc/resolv.conf"), ReadText("/etc/resolv.conf"));
  EXPECT_EQ(Status(host_id).status().linux().namespaces().options().network(), ::runtime::v1::NODE);

  auto shared = Config("sharedpid");
  shared.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(
      ::runtime::v1::POD);
  std::string shared_id;
  ran = Run(shared, &shared_id);
  ASSERT_TRUE(ran.ok()) << ran.error_message();
  auto info = nlohmann::json::parse(Status(shared_id, true).info().at("info"));
  int init = info.value("initPid", 0);
  ASSERT_GT(init, 0);
  EXPECT_EQ(ReadText("/proc/" + std::to_string(init) + "/comm"), "berth-pod-init\n");
  // It is PID 1 of its own PID namespace.
  std::string status = ReadText("/proc/" + std::to_string(init) + "/status");
  EXPECT_NE(status.find("NSpid:\t" + std::to_string(init) + "\t1\n"), std::string::npos) << status;
  ASSERT_TRUE(Stop(shared_id).ok());
  std::string after = ReadText("/proc/" + std::to_string(init) + "/status");
  EXPECT_TRUE(after.empty() || after.find("State:\tZ") != std::string::npos);
}

TEST_P(SandboxTest, CgroupParentWithResourcesIsCreatedAndRemoved) {
  if (cni()) GTEST_SKIP() << "independent of the network mode; runs once";
  // A systemd-style slice name on the cgroupfs driver, as kubelet and critest send it.
  std::string slice = "berthtest" + suffix_ + "-pod1.slice";
  std::string path = "/berthtest" + suffix_ + ".slice/" + slice;
  auto config = Config("cgroup");
  config.mutable_linux()->set_cgroup_parent(slice);
  config.mutable_linux()->mutable_resources()->set_cpu_shares(512);
  config.mutable_linux()->mutable_resources()->set_memory_limit_in_bytes(64 << 20);
  std::string id;
  auto ran = Run(config, &id);
  ASSERT_TRUE(ran.ok()) << ran.error_message();
  std::string memory = "/sys/fs/cgroup/memory" + path;
  std::string cpu = "/sys/fs/cgroup/cpu" + path;
  bool v1 = std::filesystem::exists("/sys/fs/cgroup/memory");
  if (v1) {
    EXPECT_EQ(ReadText(memory + "/memory.limit_in_bytes"), std::to_string(64 << 20) + "\n");
    EXPECT_EQ(ReadText(cpu + "/cpu.shares"), "512\n");
  }
  ASSERT_TRUE(Remove(id).ok());
  // Both the pod's cgroup and the parent slice berth had to create are gone.
  if (v1) {
    EXPECT_FALSE(std::filesystem::exists(memory));
    EXPECT_FALSE(std::filesystem::exists("/sys/fs/cgroup/memory/berthtest" + suffix_ + ".slice"));
  }
}

TEST_P(SandboxTest, StreamPodSandboxesListsWhatListDoes) {
  std::string a, b;
  ASSERT_TRUE(Run(Config("stream-a"), &a).ok());
  ASSERT_TRUE(Run(Config("stream-b"), &b).ok());
  ::runtime::v1::StreamPodSandboxesRequest request;
  (*request.mutable_filter()->mutable_label_selector())["app"] = "stream-b";
  auto context = CallContext();
  auto reader = berthd_.runtime().StreamPodSandboxes(context.get(), request);
  ::runtime::v1::StreamPodSandboxesResponse batch;
  std::vector<std::string> ids;
  while (reader->Read(&batch)) {
    for (const auto& pod : batch.pod_sandboxes()) ids.push_back(pod.id());
  }
  EXPECT_TRUE(reader->Finish().ok());
  EXPECT_EQ(ids, std::vector<std::string>{b});
}

TEST_P(SandboxTest, ManyCyclesLeakNothing) {
  std::string warmup;
  ASSERT_TRUE(Run(Config("warmup"), &warmup).ok());
  ASSERT_TRUE(Remove(warmup).ok());
  int veths = CountBridgePorts(bridge_);
  int fds = CountOpenFds(berthd_.pid());
  // Mounts under berthd's state directory (other tests may mount elsewhere meanwhile).
  auto state_mounts = [&] {
    std::istringstream mountinfo(ReadText("/proc/self/mountinfo"));
    int count = 0;
    for (std::string line; std::getline(mountinfo, line);) {
      if (line.find(berthd_.state()) != std::string::npos) ++count;
    }
    return count;
  };
  int mounts = state_mounts();
  for (int i = 0; i < 200; ++i) {
    std::string id;
    auto config = Config("cycle-" + std::to_string(i));
    auto ran = Run(config, &id);
    ASSERT_TRUE(ran.ok()) << i << ": " << ran.error_message();
    ASSERT_TRUE(Stop(id).ok());
    ASSERT_TRUE(Remove(id).ok());
  }
  EXPECT_EQ(CountBridgePorts(bridge_), veths);
  EXPECT_LE(CountOpenFds(berthd_.pid()), fds + 2);
  EXPECT_EQ(state_mounts(), mounts);
  EXPECT_EQ(mounts, 0);
  EXPECT_TRUE(std::filesystem::is_empty(berthd_.state() + "/pods"));
  std::string nft = RunCommand({"/usr/sbin/nft", "list", "table", "ip", table_}).output;
  EXPECT_EQ(nft.find("pod-"), std::string::npos) << nft;
}

INSTANTIATE_TEST_SUITE_P(Network, SandboxTest, ::testing::Values("builtin", "cni"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace berth::testing
