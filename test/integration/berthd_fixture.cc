#include "test/integration/berthd_fixture.h"

#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "base/process_util.h"
#include "gtest/gtest.h"

namespace berth::testing {
namespace {

// Waits for `pid` up to `timeout`; returns its wait status or -1 when it is still running.
int WaitFor(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) return status;
    if (done < 0) return 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -1;
}

int ExitStatus(int wait_status) {
  return WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 128 + WTERMSIG(wait_status);
}

bool SocketAccepts(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
  bool accepted = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return accepted;
}

}  // namespace

TempDir::TempDir(const std::string& prefix) {
  std::string pattern = "/tmp/" + prefix + "-XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  char* made = ::mkdtemp(buffer.data());
  if (made == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = made;
  // Traversable like /var/lib: a user-namespaced container's root (a host id other than 0) must
  // reach its rootfs under berthd's root (see pod/README.md).
  ::chmod(made, 0711);
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

CommandResult RunCommand(const std::vector<std::string>& argv) {
  int pipe_fds[2];
  CommandResult result;
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return result;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(pipe_fds[1], 1);
    ::dup2(pipe_fds[1], 2);
    auto pointers = CStringArray(argv);
    ::execv(pointers[0], pointers.data());
    ::_exit(127);
  }
  ::close(pipe_fds[1]);
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0) result.output.append(buffer, n);
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

std::string ReadText(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

size_t EntriesIn(const std::string& dir) {
  size_t count = 0;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    (void)entry;
    ++count;
  }
  return count;
}

std::string BerthdBinary() {
  return BERTHD_BINARY;
}
std::string BerthctlBinary() {
  return BERTHCTL_BINARY;
}

BerthdProcess::BerthdProcess() : dir_("berthd-it") {}

BerthdProcess::~BerthdProcess() {
  if (running()) Stop();
  if (!test_bridge_.empty()) {
    RunCommand({"/usr/sbin/ip", "link", "delete", test_bridge_});
    RunCommand({"/usr/sbin/nft", "delete", "table", "ip", test_table_});
  }
  if (::testing::Test::HasFailure()) {
    std::fprintf(stderr, "---- berthd log (%s) ----\n%s---- end of berthd log ----\n",
                 log_path().c_str(), ReadLog().c_str());
  }
}

std::vector<std::string> BerthdProcess::Command(const std::vector<std::string>& extra_args) const {
  std::vector<std::string> argv = {BerthdBinary(), "--root",      root(),        "--state", state(),
                                   "--listen",     socket_path(), "--log-level", "debug"};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  return argv;
}

std::string BerthdProcess::NetworkYaml() {
  if (network_yaml_.empty()) {
    static std::mt19937_64 engine{std::random_device{}()};
    std::string hex;
    for (int i = 0; i < 6; ++i) hex += "0123456789abcdef"[engine() % 16];
    test_bridge_ = "bt" + hex;
    test_table_ = "berth_t" + hex;
    network_yaml_ = "network:\n  bridge: " + test_bridge_ + "\n  nft_table: " + test_table_ +
                    "\n  subnet: 10." + std::to_string(200 + engine() % 50) + "." +
                    std::to_string(engine() % 250) + ".0/24\n";
  }
  return network_yaml_;
}

void BerthdProcess::SetEnv(const std::string& name, const std::string& value) {
  env_[name] = value;
}

int BerthdProcess::WaitExit(int seconds) {
  if (pid_ <= 0) return -1;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      last_exit_status_ = ExitStatus(status);
      return status;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -1;
}

bool BerthdProcess::Start(const std::vector<std::string>& extra_args) {
  std::vector<std::string> args = extra_args;
  if (std::find(args.begin(), args.end(), "--config") == args.end()) {
    std::string path = dir_.path() + "/berth.yaml";
    std::ofstream(path) << extra_config_ << NetworkYaml();
    args.push_back("--config");
    args.push_back(path);
  }
  auto argv = Command(args);
  // The environment is built before fork: the child of a threaded process may only exec.
  std::vector<std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string text = *entry;
    if (!env_.count(text.substr(0, text.find('=')))) env.push_back(text);
  }
  for (const auto& [name, value] : env_) {
    if (!value.empty()) env.push_back(name + "=" + value);
  }
  auto pointers = CStringArray(argv);
  auto env_pointers = CStringArray(env);
  last_exit_status_ = -1;
  pid_ = ::fork();
  if (pid_ == 0) {
    int log = ::open(log_path().c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(log, 1);
    ::dup2(log, 2);
    ::execve(pointers[0], pointers.data(), env_pointers.data());
    ::_exit(127);
  }
  // Wait for the socket to accept connections before making the channel: a channel that failed
  // to connect backs off for a second or more before it tries again.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      last_exit_status_ = ExitStatus(status);
      return false;  // exited during start-up; the log says why
    }
    if (SocketAccepts(socket_path())) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  grpc::ChannelArguments arguments;
  arguments.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  arguments.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
  channel_ = grpc::CreateCustomChannel(endpoint(), grpc::InsecureChannelCredentials(), arguments);
  runtime_ = ::runtime::v1::RuntimeService::NewStub(channel_);
  images_ = ::runtime::v1::ImageService::NewStub(channel_);
  while (std::chrono::steady_clock::now() < deadline) {
    ::runtime::v1::VersionResponse response;
    if (runtime_->Version(CallContext(1).get(), {}, &response).ok()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  Kill();
  return false;
}

int BerthdProcess::Stop() {
  if (!running()) return -1;
  ::kill(pid_, SIGTERM);
  int status = WaitFor(pid_, std::chrono::seconds(20));
  if (status == -1) {
    Kill();
    return -1;
  }
  pid_ = -1;
  last_exit_status_ = ExitStatus(status);
  return last_exit_status_;
}

void BerthdProcess::Kill() {
  if (!running()) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

std::string BerthdProcess::ReadLog() const {
  std::ifstream file(log_path());
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

::runtime::v1::RuntimeService::Stub& BerthdProcess::runtime() {
  return *runtime_;
}
::runtime::v1::ImageService::Stub& BerthdProcess::images() {
  return *images_;
}

std::unique_ptr<grpc::ClientContext> CallContext(int seconds) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
  return context;
}

}  // namespace berth::testing
