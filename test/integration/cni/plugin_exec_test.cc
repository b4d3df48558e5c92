// ExecPlugin on real processes: stdin/stdout/stderr, the deadline (the whole process group dies),
// the stdout bound, and a clean start (no inherited fds, signal mask or ignored signals).
#include "cni/plugin/plugin_exec.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "gtest/gtest.h"
#include "test/integration/berthd_fixture.h"

namespace berth::testing {
namespace {

using cni::ExecLimits;
using cni::ExecPlugin;

std::string WriteScript(const TempDir& dir, const std::string& name, const std::string& body) {
  std::string path = dir.path() + "/" + name;
  std::ofstream(path) << "#!/bin/sh\n" << body;
  ::chmod(path.c_str(), 0755);
  return path;
}

std::vector<std::string> Env() {
  return {"PATH=/usr/sbin:/usr/bin:/sbin:/bin"};
}

TEST(PluginExecTest, FeedsStdinAndCollectsBothOutputsAndTheExitCode) {
  TempDir dir("berth-cniexec");
  std::string plugin =
      WriteScript(dir, "echo", "cat; echo \"to stderr $CNI_COMMAND\" >&2; exit 3\n");
  std::string big_input(300000, 'x');  // more than a pipe buffer holds
  auto output = ExecPlugin(plugin, {"CNI_COMMAND=ADD"}, big_input);
  ASSERT_TRUE(output.ok()) << output.error().message();
  EXPECT_EQ(output->exit_code, 3);
  EXPECT_EQ(output->term_signal, 0);
  EXPECT_EQ(output->out, big_input);
  EXPECT_EQ(output->err, "to stderr ADD\n");
}

TEST(PluginExecTest, KillsThePluginAndItsHelpersAtTheDeadline) {
  TempDir dir("berth-cniexec");
  std::string pid_file = dir.path() + "/helper.pid";
  std::string plugin = WriteScript(dir, "slow", "sleep 30 &\necho $! > " + pid_file + "\nwait\n");
  ExecLimits limits;
  limits.timeout = std::chrono::milliseconds(500);
  auto start = std::chrono::steady_clock::now();
  auto output = ExecPlugin(plugin, Env(), "", limits);
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(output.ok());
  EXPECT_EQ(output.error().code(), ErrorCode::kDeadlineExceeded);
  EXPECT_NE(output.error().message().find("did not finish within 500 ms"), std::string::npos);
  EXPECT_LT(elapsed, std::chrono::seconds(5));
  // The helper (the plugin's own child) was in its process group and got the SIGKILL too; it may
  // linger as a zombie until its new parent reaps it, but it no longer runs.
  std::ifstream pid_in(pid_file);
  pid_t helper = 0;
  pid_in >> helper;
  ASSERT_GT(helper, 0);
  char state = 'Z';
  for (int i = 0; i < 50; ++i) {
    std::ifstream stat("/proc/" + std::to_string(helper) + "/stat");
    std::string pid_text, comm;
    if (!(stat >> pid_text >> comm >> state)) {
      state = 'X';
      break;
    }
    if (state == 'Z') break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(state == 'Z' || state == 'X') << "helper state " << state;
}

TEST(PluginExecTest, BoundsStdout) {
  TempDir dir("berth-cniexec");
  std::string plugin = WriteScript(dir, "chatty", "head -c 3000000 /dev/zero\n");
  auto output = ExecPlugin(plugin, Env(), "");
  ASSERT_FALSE(output.ok());
  EXPECT_EQ(output.error().code(), ErrorCode::kResourceExhausted);
  EXPECT_NE(output.error().message().find("more than 1048576 bytes"), std::string::npos);

  // Stderr past its bound is dropped, not an error.
  std::string noisy = WriteScript(dir, "noisy", "head -c 3000000 /dev/zero >&2; echo '{}'\n");
  auto quiet = ExecPlugin(noisy, Env(), "");
  ASSERT_TRUE(quiet.ok()) << quiet.error().message();
  EXPECT_EQ(quiet->out, "{}\n");
  EXPECT_EQ(quiet->err.size(), ExecLimits{}.max_stderr);
}

TEST(PluginExecTest, StartsCleanWhateverTheCallerHolds) {
  TempDir dir("berth-cniexec");
  // A descriptor some other thread opened without O_CLOEXEC, a blocked signal and an ignored
  // SIGPIPE: none of them may reach the plugin.
  int leaked = ::fcntl(::open("/dev/null", O_RDONLY), F_DUPFD, 77);
  ASSERT_GE(leaked, 77);
  sigset_t block, old_mask;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR2);
  ::pthread_sigmask(SIG_BLOCK, &block, &old_mask);
  struct sigaction ignore {
  }, old_pipe{};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ignore, &old_pipe);

  // The masks are read with shell builtins before the script forks anything: a shell blocks
  // signals around its own forks, which a concurrent read could catch.
  std::string plugin = WriteScript(
      dir, "inspect",
      "while read -r line; do case \"$line\" in SigBlk*|SigIgn*) echo \"$line\";; esac; done "
      "< /proc/$$/status\nls /proc/$$/fd | tr '\\n' ' '; echo\n");
  auto output = ExecPlugin(plugin, Env(), "");

  ::sigaction(SIGPIPE, &old_pipe, nullptr);
  ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  ::close(leaked);
  ASSERT_TRUE(output.ok()) << output.error().message();
  std::istringstream lines(output->out);
  std::string fds, blocked, ignored;
  std::getline(lines, blocked);
  std::getline(lines, ignored);
  std::getline(lines, fds);
  EXPECT_EQ(fds.find(std::to_string(leaked)), std::string::npos) << fds;
  EXPECT_NE(fds.find("0 1 "), std::string::npos) << fds;
  EXPECT_EQ(blocked, "SigBlk:\t0000000000000000");
  // glibc's posix_spawn leaves its two internal signals (32 and 33, bits 31 and 32) ignored in
  // the child; every runtime built on it does, and both glibc and Go programs re-install their
  // handlers for them. Nothing else may be ignored.
  ASSERT_TRUE(ignored.starts_with("SigIgn:\t")) << ignored;
  uint64_t ignored_mask = std::stoull(ignored.substr(8), nullptr, 16);
  EXPECT_EQ(ignored_mask & ~uint64_t{0x180000000}, 0u) << ignored;
}

TEST(PluginExecTest, AMissingExecutableIsNotFound) {
  auto output = ExecPlugin("/nonexistent/cni/bridge", Env(), "");
  ASSERT_FALSE(output.ok());
  EXPECT_EQ(output.error().code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace berth::testing
