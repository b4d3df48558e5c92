// berth-monitor on the real kernel: CRI log lines, exit records, long-line splitting, log reopen,
// surviving the death of whoever started it, and its memory footprint.
#include "runtime/launcher/monitor.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "gtest/gtest.h"
#include "runtime/cgroups.h"
#include "test/integration/launcher/bundle_fixture.h"

namespace berth::testing {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::optional<runtime::ExitStatus> WaitForExit(const std::string& state_dir, int seconds = 20) {
  for (int i = 0; i < seconds * 20; ++i) {
    auto status = runtime::ReadExitStatus(state_dir);
    if (status.ok() && status->has_value()) return **status;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return std::nullopt;
}

bool ProcessGone(pid_t pid) {
  // Not our child: gone, or a zombie waiting for a (late) reaper.
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  std::getline(stat, text);
  return text.empty() || text.find(") Z ") != std::string::npos;
}

// Private (dirty) memory of a process, from smaps_rollup.
long PrivateKiB(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/smaps_rollup");
  std::string line;
  long total = 0;
  while (std::getline(in, line))
    if (line.rfind("Private_", 0) == 0) total += std::stol(line.substr(line.find(':') + 1));
  return total;
}

class MonitorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (run the integration tests as root)";
    cgroup_ = "/berth-monitor-test-" + std::to_string(::getpid());
    bundle_.spec()["linux"]["cgroupsPath"] = cgroup_;
  }
  void TearDown() override {
    if (::geteuid() != 0) return;
    EXPECT_EQ(HostMountsUnder(bundle_.dir()), "");
    EXPECT_FALSE(runtime::Cgroups::Probe().Exists(cgroup_)) << "cgroup left behind";
  }

  runtime::MonitorRequest Request() {
    return {BERTH_MONITOR_BINARY, bundle_.Write(), bundle_.dir() + "/state",
            bundle_.dir() + "/ctr.log"};
  }

  // Spawns, starts and waits; returns the exit status.
  std::optional<runtime::ExitStatus> RunToExit() {
    runtime::MonitorRequest request = Request();
    auto spawned = runtime::SpawnMonitor(request);
    EXPECT_TRUE(spawned.ok()) << spawned.error().message();
    if (!spawned.ok()) return std::nullopt;
    auto started = runtime::StartMonitoredContainer(request.state_dir);
    EXPECT_TRUE(started.ok()) << started.error().message();
    auto status = WaitForExit(request.state_dir);
    for (int i = 0; i < 100 && !ProcessGone(spawned->monitor_pid); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_TRUE(ProcessGone(spawned->monitor_pid));
    EXPECT_TRUE(ProcessGone(spawned->container_pid));
    return status;
  }

  std::string Log() { return Slurp(bundle_.dir() + "/ctr.log"); }

  BusyboxBundle bundle_;
  std::string cgroup_;
};

const std::regex kRecord(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z (stdout|stderr) (F|P) (.*))");

TEST_F(MonitorTest, WritesCriLogAndRecordsExitCodes) {
  bundle_.SetArgs({"sh", "-c", "echo hello; echo oops >&2"});
  auto status = RunToExit();
  ASSERT_TRUE(status);
  EXPECT_EQ(status->exit_code, 0);
  EXPECT_GT(status->finished_at_unix_nano, 0);
  std::istringstream lines(Log());
  std::string line;
  std::smatch match;
  std::vector<std::string> records;
  while (std::getline(lines, line)) {
    ASSERT_TRUE(std::regex_match(line, match, kRecord)) << line;
    records.push_back(match[1].str() + " " + match[2].str() + " " + match[3].str());
  }
  std::sort(records.begin(), records.end());
  EXPECT_EQ(records, (std::vector<std::string>{"stderr F oops", "stdout F hello"}));

  std::filesystem::remove_all(bundle_.dir() + "/state");
  bundle_.SetArgs({"sh", "-c", "exit 3"});
  status = RunToExit();
  ASSERT_TRUE(status);
  EXPECT_EQ(status->exit_code, 3);
}

TEST_F(MonitorTest, KilledContainerRecords128PlusSignal) {
  // From the host: the container's PID 1 ignores SIGKILL sent from inside its own namespace.
  bundle_.SetArgs({"sleep", "30"});
  runtime::MonitorRequest request = Request();
  auto spawned = runtime::SpawnMonitor(request);
  ASSERT_TRUE(spawned.ok()) << spawned.error().message();
  ASSERT_TRUE(runtime::StartMonitoredContainer(request.state_dir).ok());
  ASSERT_EQ(::kill(spawned->container_pid, SIGKILL), 0);
  auto status = WaitForExit(request.state_dir);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->exit_code, 137);
  EXPECT_EQ(status->signal, 9);
}

TEST_F(MonitorTest, LongLinesAreSplitIntoPartials) {
  bundle_.SetArgs(
      {"sh", "-c",
       "dd if=/dev/zero bs=1000 count=40 2>/dev/null | tr '\\000' a; echo; printf tail"});
  auto status = RunToExit();
  ASSERT_TRUE(status);
  std::istringstream lines(Log());
  std::string line;
  std::smatch match;
  std::vector<std::pair<std::string, size_t>> records;
  while (std::getline(lines, line)) {
    ASSERT_TRUE(std::regex_match(line, match, kRecord)) << line.substr(0, 80);
    records.emplace_back(match[2].str(), match[3].length());
  }
  EXPECT_EQ(records, (std::vector<std::pair<std::string, size_t>>{
                         {"P", 16384}, {"P", 16384}, {"F", 7232}, {"P", 4}}));
}

TEST_F(MonitorTest, CreateErrorsComeBackFromTheMonitor) {
  bundle_.SetArgs({"/bin/nope"});
  auto spawned = runtime::SpawnMonitor(Request());
  ASSERT_FALSE(spawned.ok());
  EXPECT_EQ(spawned.error().message(), "exec /bin/nope: No such file or directory");
}

TEST_F(MonitorTest, SurvivesTheDeathOfItsStarterAndReopensItsLog) {
  bundle_.SetArgs({"sh", "-c", "echo one; sleep 2; echo two"});
  runtime::MonitorRequest request = Request();
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t starter = ::fork();
  if (starter == 0) {
    // Stands in for berthd: spawns and starts, then is killed.
    auto spawned = runtime::SpawnMonitor(request);
    bool ok = spawned.ok() && runtime::StartMonitoredContainer(request.state_dir).ok();
    pid_t pid = ok ? spawned->monitor_pid : -1;
    (void)!::write(fds[1], &pid, sizeof pid);
    ::pause();
    ::_exit(0);
  }
  ::close(fds[1]);
  pid_t monitor = -1;
  ASSERT_EQ(::read(fds[0], &monitor, sizeof monitor), static_cast<ssize_t>(sizeof monitor));
  ::close(fds[0]);
  ASSERT_GT(monitor, 0);
  long private_kib = PrivateKiB(monitor);
  std::cout << "berth-monitor private memory: " << private_kib << " KiB\n";
  RecordProperty("monitor_private_kib", std::to_string(private_kib));
  ::kill(starter, SIGKILL);
  ::waitpid(starter, nullptr, 0);

  // kubelet rotates: rename, then ReopenContainerLog.
  for (int i = 0; i < 100 && Log().find("one") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::filesystem::rename(request.log_path, request.log_path + ".1");
  ASSERT_TRUE(runtime::ReopenMonitoredLog(request.state_dir).ok());

  auto status = WaitForExit(request.state_dir);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->exit_code, 0);
  EXPECT_NE(Slurp(request.log_path + ".1").find("stdout F one"), std::string::npos);
  EXPECT_NE(Log().find("stdout F two"), std::string::npos) << Log();
  EXPECT_EQ(Log().find("one"), std::string::npos);
}

}  // namespace
}  // namespace berth::testing
