// Integration fixture: a real berthd under a temporary root/state/socket, talked to over the real
// gRPC socket. Its log is printed when the test that used it failed.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cri_api.h"

namespace berth::testing {

// Skips the current test, saying why, when not running as root.
#define BERTH_REQUIRE_ROOT()                                                                \
  do {                                                                                      \
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (run the integration tests as root)"; \
  } while (0)

// A temporary directory removed (recursively) on destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "berth-it");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs argv to completion (no shell), capturing its output.
CommandResult RunCommand(const std::vector<std::string>& argv);

// A whole file's text ("" when it cannot be read).
std::string ReadText(const std::string& path);
// How many entries a directory holds (0 when it does not exist).
size_t EntriesIn(const std::string& dir);

class BerthdProcess {
 public:
  BerthdProcess();
  ~BerthdProcess();
  BerthdProcess(const BerthdProcess&) = delete;
  BerthdProcess& operator=(const BerthdProcess&) = delete;

  // Starts berthd with --root/--state/--listen under the temp dir plus `extra_args`, and waits
  // until the socket answers. Returns false (with the reason in the log) when it did not come up.
  // Without a --config in `extra_args`, berthd gets a config of the fixture's own whose built-in
  // network uses a test-only bridge, subnet and nftables table, removed again by the destructor.
  bool Start(const std::vector<std::string>& extra_args = {});
  // The "network:" section of that config, for tests that write a config of their own.
  std::string NetworkYaml();
  // That network's test-only bridge and nftables table (after NetworkYaml or Start).
  const std::string& test_bridge() const { return test_bridge_; }
  const std::string& test_table() const { return test_table_; }
  // More of the fixture's own config (YAML lines, "cgroup_driver: systemd\n"), for the berthd
  // processes started from now on without a --config of the test's.
  void SetExtraConfig(const std::string& yaml) { extra_config_ = yaml; }
  // An environment variable for the berthd processes started from now on (BERTH_FAILPOINTS...);
  // an empty value removes it again.
  void SetEnv(const std::string& name, const std::string& value);
  // Waits (up to `seconds`) for berthd to exit on its own; returns its wait status, or -1.
  int WaitExit(int seconds);
  // SIGTERM, then waits; returns berthd's exit status (or -1 if it had to be killed).
  int Stop();
  // SIGKILL without any shutdown, as a crash would.
  void Kill();
  bool running() const { return pid_ > 0; }
  // How the last berthd this fixture started ended: its exit code, 128 + signal, or -1 while it
  // runs (or when it had to be killed).
  int last_exit_status() const { return last_exit_status_; }
  pid_t pid() const { return pid_; }

  std::string root() const { return dir_.path() + "/root"; }
  std::string state() const { return dir_.path() + "/state"; }
  std::string socket_path() const { return dir_.path() + "/berth.sock"; }
  std::string endpoint() const { return "unix://" + socket_path(); }
  std::string log_path() const { return dir_.path() + "/berthd.log"; }
  std::string ReadLog() const;
  // The berthd command line this fixture uses (for tests that start a second one by hand).
  std::vector<std::string> Command(const std::vector<std::string>& extra_args = {}) const;

  ::runtime::v1::RuntimeService::Stub& runtime();
  ::runtime::v1::ImageService::Stub& images();

 private:
  TempDir dir_;
  pid_t pid_ = -1;
  std::map<std::string, std::string> env_;
  int last_exit_status_ = -1;
  std::string network_yaml_;
  std::string extra_config_;
  std::string test_bridge_;
  std::string test_table_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<::runtime::v1::RuntimeService::Stub> runtime_;
  std::unique_ptr<::runtime::v1::ImageService::Stub> images_;
};

// A client context with a deadline, for one call.
std::unique_ptr<grpc::ClientContext> CallContext(int seconds = 10);

std::string BerthdBinary();
std::string BerthctlBinary();

}  // namespace berth::testing
