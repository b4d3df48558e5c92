#include "runtime/host_features.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "gtest/gtest.h"

namespace berth {
namespace {

// Builds a fake /proc and /sys tree so each layout can be checked without that kernel.
class FakeHost {
 public:
  FakeHost() {
    char pattern[] = "/tmp/berth-host-XXXXXX";
    root_ = ::mkdtemp(pattern);
    std::filesystem::create_directories(root_ + "/proc/self");
    std::filesystem::create_directories(root_ + "/proc/sys/user");
    std::filesystem::create_directories(root_ + "/sys");
  }
  ~FakeHost() { std::filesystem::remove_all(root_); }
  void Write(const std::string& relative, const std::string& content) {
    std::filesystem::create_directories(std::filesystem::path(root_ + relative).parent_path());
    std::ofstream(root_ + relative) << content;
  }
  runtime::HostFeatures Probe() {
    return runtime::ProbeHostFeatures(root_ + "/proc", root_ + "/sys");
  }

 private:
  std::string root_;
};

constexpr char kHybridMountinfo[] =
    "25 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
    "30 25 0:26 / /sys/fs/cgroup ro shared:2 - tmpfs tmpfs ro,mode=755\n"
    "31 30 0:27 / /sys/fs/cgroup/unified rw shared:3 - cgroup2 cgroup2 rw\n"
    "32 30 0:28 / /sys/fs/cgroup/memory rw shared:4 - cgroup cgroup rw,memory\n";

TEST(HostFeaturesTest, HybridCgroupsAndNoLsm) {
  FakeHost host;
  host.Write("/proc/self/mountinfo", kHybridMountinfo);
  host.Write("/proc/self/status", "Name:\tx\nSeccomp:\t0\n");
  host.Write("/proc/sys/user/max_user_namespaces", "1000\n");
  runtime::HostFeatures features = host.Probe();
  EXPECT_EQ(features.cgroup_layout, runtime::CgroupLayout::kHybrid);
  EXPECT_EQ(features.cgroup_v2_path, "/sys/fs/cgroup/unified");
  EXPECT_FALSE(features.apparmor_enabled);
  EXPECT_FALSE(features.selinux_enabled);
  EXPECT_TRUE(features.seccomp_available);
  EXPECT_TRUE(features.user_namespaces);
}

TEST(HostFeaturesTest, UnifiedOnlyWithAppArmorAndSelinux) {
  FakeHost host;
  host.Write("/proc/self/mountinfo",
             "25 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
             "31 25 0:27 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n");
  host.Write("/sys/module/apparmor/parameters/enabled", "Y\n");
  host.Write("/sys/fs/selinux/enforce", "1\n");
  host.Write("/proc/sys/user/max_user_namespaces", "0\n");
  runtime::HostFeatures features = host.Probe();
  EXPECT_EQ(features.cgroup_layout, runtime::CgroupLayout::kV2);
  EXPECT_EQ(features.cgroup_v2_path, "/sys/fs/cgroup");
  EXPECT_TRUE(features.apparmor_enabled);
  EXPECT_TRUE(features.selinux_enabled);
  EXPECT_FALSE(features.seccomp_available);
  EXPECT_FALSE(features.user_namespaces);
  auto json = nlohmann::json::parse(runtime::HostFeaturesToJson(features));
  EXPECT_EQ(json["cgroups"], "v2");
  EXPECT_EQ(json["apparmor"], true);
}

TEST(HostFeaturesTest, ThisMachineHasCgroups) {
  runtime::HostFeatures features = runtime::ProbeHostFeatures();
  EXPECT_NE(features.cgroup_layout, runtime::CgroupLayout::kNone);
  EXPECT_FALSE(features.kernel_release.empty());
}

}  // namespace
}  // namespace berth
