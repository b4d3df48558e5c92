// The child reaper takes the orphans that come to a subreaper and leaves alone the children whose
// exit status their starter waits for.
#include "base/child_reaper.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "base/spawn.h"
#include "gtest/gtest.h"

namespace berth {
namespace {

class ChildReaperTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    BlockChildSignal();  // gtest has started no thread yet
    ASSERT_TRUE(StartChildReaper().ok());
  }
};

TEST_F(ChildReaperTest, ClaimedChildrenKeepTheirExitStatus) {
  // Each child ends at once, racing the reaper's sweep on its SIGCHLD.
  for (int i = 0; i < 100; ++i) {
    auto spawned = Spawn({{"/bin/sh", "-c", "exit 7"}, {}});
    ASSERT_TRUE(spawned.ok()) << spawned.error().message();
    auto status = WaitClaimedChild(*spawned);
    ASSERT_TRUE(status.ok()) << status.error().message();
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 7) << "status " << *status;

    pid_t forked = ForkClaimedChild();
    ASSERT_GE(forked, 0);
    if (forked == 0) ::_exit(3);
    auto forked_status = WaitClaimedChild(forked);
    ASSERT_TRUE(forked_status.ok()) << forked_status.error().message();
    EXPECT_TRUE(WIFEXITED(*forked_status) && WEXITSTATUS(*forked_status) == 3);
  }
}

TEST_F(ChildReaperTest, OrphansComeToThisProcessAndAreReapedWhenTheyEnd) {
  int report[2], hold[2];
  ASSERT_EQ(::pipe(report), 0);
  ASSERT_EQ(::pipe(hold), 0);
  uint64_t reaped_before = ReapedOrphans();
  pid_t middle = ForkClaimedChild();
  ASSERT_GE(middle, 0);
  if (middle == 0) {
    // Double fork, as a monitor is started: the grandchild waits for EOF on `hold`.
    pid_t orphan = ::fork();
    if (orphan == 0) {
      ::close(hold[1]);
      char byte;
      (void)!::read(hold[0], &byte, 1);
      ::_exit(0);
    }
    (void)!::write(report[1], &orphan, sizeof orphan);
    ::_exit(0);
  }
  ::close(report[1]);
  ::close(hold[0]);
  pid_t orphan = 0;
  ASSERT_EQ(::read(report[0], &orphan, sizeof orphan), static_cast<ssize_t>(sizeof orphan));
  ::close(report[0]);
  ASSERT_TRUE(WaitClaimedChild(middle).ok());
  std::string proc = "/proc/" + std::to_string(orphan);
  // The middle is gone, so the orphan is ours now.
  std::string status;
  {
    std::ifstream in(proc + "/status");
    status.assign(std::istreambuf_iterator<char>(in), {});
  }
  EXPECT_NE(status.find("PPid:\t" + std::to_string(::getpid()) + "\n"), std::string::npos)
      << status;
  auto children = ChildrenOfThisProcess();
  EXPECT_NE(std::find(children.begin(), children.end(), orphan), children.end());

  ::close(hold[1]);  // the orphan ends; the reaper, not this test, reaps it
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::filesystem::exists(proc) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_FALSE(std::filesystem::exists(proc)) << "orphan " << orphan << " was left a zombie";
  EXPECT_GT(ReapedOrphans(), reaped_before);
}

}  // namespace
}  // namespace berth
