// Disk usage through a real berthd (ImageFsInfo, ContainerStats' writable layer) against what
// du(1) reports for the same directories: allocated blocks, each hard-linked file once.
#include <filesystem>
#include <sstream>
#include <thread>

#include "test/integration/container_fixture.h"

namespace berth::testing {
namespace {

struct DuTotal {
  uint64_t bytes = 0;
  uint64_t inodes = 0;
};

// du -s over `paths` together (a file linked from two of them counts once), on one filesystem.
DuTotal Du(const std::vector<std::string>& paths) {
  auto total = [&](const std::vector<std::string>& flags) -> uint64_t {
    std::vector<std::string> argv = {"/usr/bin/du", "-s", "-c", "-x"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.insert(argv.end(), paths.begin(), paths.end());
    auto run = RunCommand(argv);
    EXPECT_EQ(run.exit_code, 0) << run.output;
    // The last line: "<number>\ttotal".
    std::string output = run.output;
    while (!output.empty() && output.back() == '\n') output.pop_back();
    std::istringstream last(output.substr(output.find_last_of('\n') + 1));
    uint64_t value = 0;
    last >> value;
    return value;
  };
  return {total({"-B1"}), total({"--inodes"})};
}

// |actual - expected| within 5% of expected (+ a few blocks for directories created meanwhile).
void ExpectClose(uint64_t actual, uint64_t expected, uint64_t slack, const std::string& what) {
  uint64_t tolerance = expected / 20 + slack;
  EXPECT_LE(actual, expected + tolerance) << what << ": reported " << actual << ", du " << expected;
  EXPECT_GE(actual + tolerance, expected) << what << ": reported " << actual << ", du " << expected;
}

class DiskUsageTest : public ContainerFixture {};

TEST_F(DiskUsageTest, ImageFsInfoCountsEachHardLinkedFileOnce) {
  Import("hardlinks");
  ::runtime::v1::ImageFsInfoResponse response;
  ASSERT_TRUE(berthd_.images().ImageFsInfo(CallContext().get(), {}, &response).ok());
  ASSERT_EQ(response.image_filesystems_size(), 1);
  const auto& usage = response.image_filesystems(0);
  DuTotal du = Du({berthd_.root() + "/content", berthd_.root() + "/snapshots"});
  ExpectClose(usage.used_bytes().value(), du.bytes, 64 * 1024, "bytes");
  ExpectClose(usage.inodes_used().value(), du.inodes, 16, "inodes");
}

TEST_F(DiskUsageTest, WritableLayerCountsEachHardLinkedFileOnce) {
  std::string id = Run(Config(
      "links", "test/busybox:1",
      {"/bin/sh", "-c",
       "dd if=/dev/zero of=/big bs=1M count=4 && for i in 1 2 3 4 5 6 7 8; do ln /big /big$i; "
       "done && touch /done && exec sleep 1000"}));
  std::string upper = berthd_.root() + "/snapshots/active/" + id + "/upper";
  for (int i = 0; i < 600 && !std::filesystem::exists(upper + "/done"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(std::filesystem::exists(upper + "/done")) << "the container did not finish writing";
  ::runtime::v1::ContainerStatsRequest request;
  request.set_container_id(id);
  ::runtime::v1::ContainerStatsResponse stats;
  ASSERT_TRUE(berthd_.runtime().ContainerStats(CallContext().get(), request, &stats).ok());
  const auto& layer = stats.stats().writable_layer();
  DuTotal du = Du({upper});
  EXPECT_GE(du.bytes, 4u << 20);
  ExpectClose(layer.used_bytes().value(), du.bytes, 16 * 1024, "bytes");
  ExpectClose(layer.inodes_used().value(), du.inodes, 2, "inodes");
}

}  // namespace
}  // namespace berth::testing
