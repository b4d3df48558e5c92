#include <gtest/gtest.h>

#include "security/apparmor.h"
#include "security/selinux.h"

namespace berth::security {
namespace {

TEST(SELinux, DefaultLabels) {
  auto labels = BuildSELinuxLabels({});
  ASSERT_TRUE(labels.ok());
  EXPECT_EQ(labels->process, "system_u:system_r:container_t:s0");
  EXPECT_EQ(labels->mount, "system_u:object_r:container_file_t:s0");
}

TEST(SELinux, GivenPartsReplaceDefaults) {
  auto labels = BuildSELinuxLabels({"user_u", "user_r", "spc_t", "s0:c1,c2"});
  ASSERT_TRUE(labels.ok());
  EXPECT_EQ(labels->process, "user_u:user_r:spc_t:s0:c1,c2");
  // Files keep object_r and container_file_t; user and level follow.
  EXPECT_EQ(labels->mount, "user_u:object_r:container_file_t:s0:c1,c2");

  auto level_only = BuildSELinuxLabels({"", "", "", "s0:c100,c200"});
  ASSERT_TRUE(level_only.ok());
  EXPECT_EQ(level_only->process, "system_u:system_r:container_t:s0:c100,c200");
  EXPECT_EQ(level_only->mount, "system_u:object_r:container_file_t:s0:c100,c200");
}

TEST(SELinux, RefusesMalformedParts) {
  EXPECT_FALSE(BuildSELinuxLabels({"a:b", "", "", ""}).ok());
  EXPECT_FALSE(BuildSELinuxLabels({"", "", "container_t\n", ""}).ok());
  auto bad = BuildSELinuxLabels({"", "r:x", "", ""});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.error().message().find("role"), std::string::npos);
}

TEST(SELinux, MountOptionAndDisabledNoOp) {
  EXPECT_EQ(MountLabelOption("system_u:object_r:container_file_t:s0"),
            "context=\"system_u:object_r:container_file_t:s0\"");
  if (!SELinuxEnabled()) {
    // Documented behaviour: labels are ignored where SELinux is off.
    EXPECT_TRUE(SetExecLabel("system_u:system_r:container_t:s0").ok());
  }
  EXPECT_TRUE(SetExecLabel("").ok());
}

TEST(AppArmor, ResolveWhenDisabledFollowsContainerd) {
  using T = AppArmorProfileType;
  EXPECT_EQ(*ResolveAppArmorProfile({T::kUnset, ""}, false, false), "");
  EXPECT_EQ(*ResolveAppArmorProfile({T::kUnconfined, ""}, false, false), "");
  for (auto request :
       {AppArmorRequest{T::kRuntimeDefault, ""}, AppArmorRequest{T::kLocalhost, "my-profile"}}) {
    auto resolved = ResolveAppArmorProfile(request, false, false);
    ASSERT_FALSE(resolved.ok());
    EXPECT_EQ(resolved.error().code(), ErrorCode::kFailedPrecondition);
    EXPECT_NE(resolved.error().message().find("apparmor is not supported"), std::string::npos);
  }
}

TEST(AppArmor, ResolveWhenEnabled) {
  using T = AppArmorProfileType;
  EXPECT_EQ(*ResolveAppArmorProfile({T::kUnset, ""}, false, true), "berth-default");
  EXPECT_EQ(*ResolveAppArmorProfile({T::kRuntimeDefault, ""}, false, true), "berth-default");
  EXPECT_EQ(*ResolveAppArmorProfile({T::kRuntimeDefault, ""}, true, true), "");
  EXPECT_EQ(*ResolveAppArmorProfile({T::kUnconfined, ""}, false, true), "");
  EXPECT_FALSE(ResolveAppArmorProfile({T::kRuntimeDefault, "x"}, false, true).ok());
  EXPECT_FALSE(ResolveAppArmorProfile({T::kLocalhost, ""}, false, true).ok());
}

TEST(AppArmor, DefaultProfileText) {
  std::string text = DefaultAppArmorProfileText({});
  EXPECT_NE(text.find("profile berth-default flags=(attach_disconnected,mediate_deleted)"),
            std::string::npos);
  EXPECT_NE(text.find("abi <abi/3.0>,"), std::string::npos);
  EXPECT_NE(text.find("#include <tunables/global>"), std::string::npos);
  for (auto rule : {"deny mount,", "deny @{PROC}/kcore rwklx,", "deny @{PROC}/sysrq-trigger",
                    "deny @{PROC}/sys/[^k]** w,", "deny /sys/firmware/** rwklx,",
                    "deny /sys/kernel/security/** rwklx,"})
    EXPECT_NE(text.find(rule), std::string::npos) << rule;
  std::string bare = DefaultAppArmorProfileText({false, false, false});
  EXPECT_EQ(bare.find("abi <"), std::string::npos);
  EXPECT_NE(bare.find("@{PROC}=/proc/"), std::string::npos);
  EXPECT_EQ(bare.find("#include"), std::string::npos);
}

TEST(AppArmor, DisabledHostRefusesProfilesButNotUnconfined) {
  if (AppArmorEnabled()) GTEST_SKIP() << "AppArmor is enabled on this host";
  EXPECT_TRUE(PrepareApplyOnExec("").ok());
  EXPECT_TRUE(PrepareApplyOnExec("unconfined").ok());
  auto applied = PrepareApplyOnExec("berth-default");
  ASSERT_FALSE(applied.ok());
  EXPECT_EQ(applied.error().code(), ErrorCode::kFailedPrecondition);
  auto loaded = EnsureDefaultProfileLoaded();
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().code(), ErrorCode::kFailedPrecondition);
}

}  // namespace
}  // namespace berth::security
