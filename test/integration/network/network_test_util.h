// Helpers for the built-in network's integration tests: a BuiltinNetwork under test-only names
// (bridge bt<hex>, table berth_t<hex>, a free /24 of 10.234.0.0/16) over a temporary store, pods
// as pinned network namespaces, and a tiny TCP server/client. Traffic goes only to loopback and
// to addresses inside namespaces the test created.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/result.h"
#include "cni/builtin/builtin_network.h"
#include "store/metadata_store.h"
#include "test/integration/berthd_fixture.h"

namespace berth::testing {

// Random lowercase hex of `length` characters.
std::string RandomHex(size_t length);

struct TestPod {
  std::string id;          // 64 hex
  std::string netns_path;  // <dir>/net, a pinned network namespace
};

class NetworkTestEnv {
 public:
  // `with_v6`: also an IPv6 /64 from fd00:234::/32 (never the host's own fd00::/64).
  explicit NetworkTestEnv(bool with_v6 = false);
  // Tears down every pod, removes the bridge and tables, unpins the namespaces.
  ~NetworkTestEnv();

  // Creates the store and the network; false (with the reason in `error`) on failure.
  bool Start(std::string* error);
  // A second BuiltinNetwork over the same store and config, as after a daemon restart.
  Result<std::unique_ptr<cni::BuiltinNetwork>> Restart();

  TestPod NewPod();
  cni::PodNetworkRequest Request(const TestPod& pod,
                                 std::vector<cni::PortMapping> mappings = {}) const;

  cni::BuiltinNetwork& network() { return *network_; }
  MetadataStore& store() { return *store_; }
  const NetworkConfig& config() const { return config_; }
  const std::string& bridge() const { return config_.bridge; }
  const std::string& table() const { return config_.nft_table; }
  // The bridge's IPv4 gateway ("10.234.X.1").
  std::string gateway() const;

  // Host interfaces enslaved to the test bridge (/sys/class/net/<bridge>/brif).
  std::vector<std::string> BridgePorts() const;
  // `nft list table <family> <table>` as text ("" when the table is absent).
  std::string NftTable(const std::string& family = "ip") const;
  size_t AllocationCount();

 private:
  bool with_v6_;
  TempDir dir_;
  NetworkConfig config_;
  std::unique_ptr<MetadataStore> store_;
  std::unique_ptr<cni::BuiltinNetwork> network_;
  std::vector<TestPod> pods_;
};

// Serves `greeting` to every TCP connection on `port` inside the network namespace at
// `netns_path`, from a thread that entered it. Stops on destruction.
class TcpServer {
 public:
  TcpServer(std::string netns_path, std::string bind_ip, uint16_t port, std::string greeting);
  ~TcpServer();
  // Waits until the server listens; the error says why it could not.
  Result<void> WaitReady();

 private:
  Result<void> Serve();

  std::string netns_path_;
  std::string bind_ip_;
  uint16_t port_;
  std::string greeting_;
  std::atomic<bool> stop_{false};
  std::atomic<int> state_{0};  // 0 starting, 1 listening, 2 failed
  std::string failure_;
  std::thread thread_;
};

// Connects to ip:port from the calling thread's namespace and reads until EOF (5 s timeout).
Result<std::string> Fetch(const std::string& ip, uint16_t port);
// The same from inside the namespace at `netns_path`.
Result<std::string> FetchFrom(const std::string& netns_path, const std::string& ip, uint16_t port);

// A TCP port free on 127.0.0.1 right now.
uint16_t FreeLoopbackPort();
// Open file descriptors of this process.
size_t OpenFdCount();
bool HostLinkExists(const std::string& name);

}  // namespace berth::testing
