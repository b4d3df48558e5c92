#include "test/integration/network/network_test_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <chrono>
#include <filesystem>
#include <random>

#include "base/namespaces.h"
#include "base/unique_fd.h"
#include "cni/builtin/netlink.h"
#include "gtest/gtest.h"
#include "runtime/pinned_namespaces.h"

namespace berth::testing {
namespace {

constexpr int kIoTimeoutSeconds = 5;

// The sockaddr for ip:port; 0 when `ip` is not an address.
socklen_t MakeSockaddr(const std::string& ip, uint16_t port, sockaddr_storage* out) {
  *out = {};
  auto* v4 = reinterpret_cast<sockaddr_in*>(out);
  if (::inet_pton(AF_INET, ip.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    return sizeof(sockaddr_in);
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(out);
  if (::inet_pton(AF_INET6, ip.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    return sizeof(sockaddr_in6);
  }
  return 0;
}

// A /24 of 10.234.0.0/16 that no host address is in, so a test never shadows a real route.
std::string FreeTestSubnet() {
  auto netlink = cni::Netlink::Open();
  std::vector<cni::AddressInfo> addresses;
  if (netlink.ok()) {
    if (auto listed = netlink->ListAddresses(); listed.ok()) addresses = std::move(*listed);
  }
  std::mt19937 random(std::random_device{}());
  for (int attempt = 0; attempt < 64; ++attempt) {
    std::string subnet = "10.234." + std::to_string(random() % 256) + ".0/24";
    auto block = *cni::Cidr::Parse(subnet);
    bool used = false;
    for (const auto& address : addresses) used |= block.Contains(address.address);
    if (!used) return subnet;
  }
  return "10.234.255.0/24";
}

}  // namespace

std::string RandomHex(size_t length) {
  static thread_local std::mt19937_64 random(std::random_device{}());
  static const char kDigits[] = "0123456789abcdef";
  std::string text;
  for (size_t i = 0; i < length; ++i) text += kDigits[random() % 16];
  return text;
}

NetworkTestEnv::NetworkTestEnv(bool with_v6) : with_v6_(with_v6), dir_("berth-net") {}

bool NetworkTestEnv::Start(std::string* error) {
  config_.bridge = "bt" + RandomHex(6);
  config_.nft_table = "berth_t" + RandomHex(6);
  config_.subnet = FreeTestSubnet();
  if (with_v6_) config_.subnet_v6 = "fd00:234:" + RandomHex(4) + "::/64";
  auto store = MetadataStore::Open(dir_.path() + "/metadata.db");
  if (!store.ok()) {
    *error = store.error().message();
    return false;
  }
  store_ = std::move(*store);
  auto network = cni::BuiltinNetwork::Create(config_, *store_);
  if (!network.ok()) {
    *error = network.error().message();
    return false;
  }
  network_ = std::move(*network);
  auto ready = network_->Ready();
  if (!ready.ok()) *error = ready.error().message();
  return ready.ok();
}

Result<std::unique_ptr<cni::BuiltinNetwork>> NetworkTestEnv::Restart() {
  return cni::BuiltinNetwork::Create(config_, *store_);
}

NetworkTestEnv::~NetworkTestEnv() {
  for (const auto& pod : pods_) {
    if (network_) {
      auto torn = network_->Teardown(Request(pod));
      if (!torn.ok()) ADD_FAILURE() << torn.error().message();
    }
    (void)runtime::UnpinNamespace(pod.netns_path);
  }
  if (network_) {
    auto removed = network_->RemoveHostNetwork();
    if (!removed.ok()) ADD_FAILURE() << removed.error().message();
  }
}

TestPod NetworkTestEnv::NewPod() {
  TestPod pod;
  pod.id = RandomHex(64);
  std::string dir = dir_.path() + "/pods/" + pod.id.substr(0, 12);
  pod.netns_path = dir + "/net";
  auto created = runtime::CreatePinnedNamespaces({dir, /*net=*/true, false, false, ""});
  if (!created.ok()) ADD_FAILURE() << "pin namespace: " << created.error().message();
  pods_.push_back(pod);
  return pod;
}

cni::PodNetworkRequest NetworkTestEnv::Request(const TestPod& pod,
                                               std::vector<cni::PortMapping> mappings) const {
  cni::PodNetworkRequest request;
  request.pod_id = pod.id;
  request.pod_name = "pod-" + pod.id.substr(0, 6);
  request.pod_namespace = "default";
  request.pod_uid = pod.id.substr(0, 32);
  request.netns_path = pod.netns_path;
  request.port_mappings = std::move(mappings);
  return request;
}

std::string NetworkTestEnv::gateway() const {
  return cni::Cidr::Parse(config_.subnet)->AddressAt(1)->ToString();
}

std::vector<std::string> NetworkTestEnv::BridgePorts() const {
  std::vector<std::string> ports;
  std::error_code ignored;
  for (const auto& entry :
       std::filesystem::directory_iterator("/sys/class/net/" + config_.bridge + "/brif", ignored)) {
    ports.push_back(entry.path().filename());
  }
  return ports;
}

std::string NetworkTestEnv::NftTable(const std::string& family) const {
  auto listed = RunCommand({"/usr/sbin/nft", "list", "table", family, config_.nft_table});
  return listed.exit_code == 0 ? listed.output : "";
}

size_t NetworkTestEnv::AllocationCount() {
  auto all = store_->List(cni::kIpAllocationKind);
  return all.ok() ? all->size() : SIZE_MAX;
}

TcpServer::TcpServer(std::string netns_path, std::string bind_ip, uint16_t port,
                     std::string greeting)
    : netns_path_(std::move(netns_path)),
      bind_ip_(std::move(bind_ip)),
      port_(port),
      greeting_(std::move(greeting)) {
  thread_ = std::thread([this] {
    auto served = RunInNamespace(netns_path_, CLONE_NEWNET, [this] { return Serve(); });
    if (!served.ok()) {
      failure_ = served.error().message();
      state_ = 2;
    }
  });
}

TcpServer::~TcpServer() {
  stop_ = true;
  thread_.join();
}

Result<void> TcpServer::WaitReady() {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(kIoTimeoutSeconds);
  while (state_ == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (state_ == 1) return Ok();
  return Internal("tcp server: " + (state_ == 2 ? failure_ : std::string("did not start")));
}

Result<void> TcpServer::Serve() {
  sockaddr_storage address;
  socklen_t length = MakeSockaddr(bind_ip_, port_, &address);
  if (length == 0) return InvalidArgument("bad bind address " + bind_ip_);
  UniqueFd listener(::socket(address.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!listener) return Error::FromErrno(errno, "socket");
  int on = 1;
  int off = 0;
  ::setsockopt(listener.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  // Bound to "::", serve IPv4 too (dual-stack test).
  if (address.ss_family == AF_INET6) {
    ::setsockopt(listener.get(), IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
  }
  if (::bind(listener.get(), reinterpret_cast<sockaddr*>(&address), length) != 0) {
    return Error::FromErrno(errno, "bind " + bind_ip_);
  }
  if (::listen(listener.get(), 64) != 0) return Error::FromErrno(errno, "listen");
  state_ = 1;
  while (!stop_) {
    pollfd ready{listener.get(), POLLIN, 0};
    if (::poll(&ready, 1, 50) <= 0) continue;
    UniqueFd connection(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (connection) (void)!::write(connection.get(), greeting_.data(), greeting_.size());
  }
  return Ok();
}

Result<std::string> Fetch(const std::string& ip, uint16_t port) {
  std::string where = ip + ":" + std::to_string(port);
  sockaddr_storage address;
  socklen_t length = MakeSockaddr(ip, port, &address);
  if (length == 0) return InvalidArgument("bad address " + ip);
  UniqueFd fd(::socket(address.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return Error::FromErrno(errno, "socket");
  timeval timeout{kIoTimeoutSeconds, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);  // bounds connect
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), length) != 0) {
    return Error::FromErrno(errno, "connect to " + where);
  }
  std::string reply;
  char buffer[256];
  ssize_t got;
  while ((got = ::read(fd.get(), buffer, sizeof buffer)) > 0) reply.append(buffer, got);
  if (got < 0) return Error::FromErrno(errno, "read from " + where);
  return reply;
}

Result<std::string> FetchFrom(const std::string& netns_path, const std::string& ip, uint16_t port) {
  std::string reply;
  BERTH_TRY(RunInNamespace(netns_path, CLONE_NEWNET, [&]() -> Result<void> {
    BERTH_ASSIGN_OR_RETURN(reply, Fetch(ip, port));
    return Ok();
  }));
  return reply;
}

uint16_t FreeLoopbackPort() {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), length) != 0 ||
      ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    return 0;
  }
  return ntohs(address.sin_port);
}

size_t OpenFdCount() {
  size_t count = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    ++count;
  }
  return count;
}

bool HostLinkExists(const std::string& name) {
  return std::filesystem::exists("/sys/class/net/" + name);
}

}  // namespace berth::testing
