#include "security/capabilities.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace berth::security {
namespace {

TEST(Capabilities, TableCoversEveryNumberUpToCheckpointRestore) {
  EXPECT_EQ(CapabilityNumberFromOciName("CAP_CHOWN"), 0);
  EXPECT_EQ(CapabilityNumberFromOciName("CAP_NET_ADMIN"), 12);
  EXPECT_EQ(CapabilityNumberFromOciName("CAP_SYS_ADMIN"), 21);
  EXPECT_EQ(CapabilityNumberFromOciName("CAP_PERFMON"), 38);
  EXPECT_EQ(CapabilityNumberFromOciName("CAP_BPF"), 39);
  EXPECT_EQ(CapabilityNumberFromOciName("CAP_CHECKPOINT_RESTORE"), 40);
  EXPECT_EQ(CapabilityNumberFromOciName("cap_chown"), -1);
  EXPECT_EQ(CapabilityNumberFromOciName("CAP_NOPE"), -1);
  EXPECT_EQ(CapabilityOciName(27), "CAP_MKNOD");
  EXPECT_EQ(CapabilityOciName(41), "");
  auto all = AllCapabilities();
  ASSERT_EQ(all.size(), 41u);
  for (int i = 0; i <= kLastCapability; ++i) EXPECT_EQ(CapabilityNumberFromOciName(all[i]), i);
}

TEST(Capabilities, ParsesCriNamesWithOrWithoutPrefixInAnyCase) {
  EXPECT_EQ(*ParseCapabilityName("NET_ADMIN"), "CAP_NET_ADMIN");
  EXPECT_EQ(*ParseCapabilityName("CAP_NET_ADMIN"), "CAP_NET_ADMIN");
  EXPECT_EQ(*ParseCapabilityName("net_admin"), "CAP_NET_ADMIN");
  EXPECT_EQ(*ParseCapabilityName("cap_sys_time"), "CAP_SYS_TIME");
}

TEST(Capabilities, UnknownNameIsInvalidArgumentNamingIt) {
  auto parsed = ParseCapabilityName("NET_ADMINX");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(parsed.error().message().find("NET_ADMINX"), std::string::npos);
  EXPECT_FALSE(ParseCapabilityName("").ok());
  EXPECT_FALSE(ParseCapabilityName("ALL").ok());
}

TEST(Capabilities, DefaultSetIsContainerds) {
  auto defaults = DefaultCapabilities();
  EXPECT_EQ(defaults.size(), 14u);
  auto mask = CapabilityMask(defaults);
  ASSERT_TRUE(mask.ok());
  // CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE NET_RAW
  // SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP: the well-known 0xa80425fb.
  EXPECT_EQ(*mask, 0xa80425fbu);
}

std::vector<std::string> Compute(const std::vector<std::string>& add,
                                 const std::vector<std::string>& drop) {
  auto result = ComputeCapabilities(DefaultCapabilities(), add, drop);
  EXPECT_TRUE(result.ok()) << result.error().message();
  return result.ok() ? *result : std::vector<std::string>{};
}

bool Has(const std::vector<std::string>& caps, const std::string& name) {
  return std::find(caps.begin(), caps.end(), name) != caps.end();
}

TEST(Capabilities, AddAndDropNamed) {
  auto caps = Compute({"NET_ADMIN", "cap_sys_time"}, {"CHOWN", "CAP_KILL"});
  EXPECT_TRUE(Has(caps, "CAP_NET_ADMIN"));
  EXPECT_TRUE(Has(caps, "CAP_SYS_TIME"));
  EXPECT_FALSE(Has(caps, "CAP_CHOWN"));
  EXPECT_FALSE(Has(caps, "CAP_KILL"));
  EXPECT_TRUE(Has(caps, "CAP_SETUID"));
  EXPECT_EQ(caps.size(), 14u);
}

TEST(Capabilities, AddAllThenDropOne) {
  auto caps = Compute({"ALL"}, {"CHOWN"});
  EXPECT_EQ(caps.size(), 40u);
  EXPECT_FALSE(Has(caps, "CAP_CHOWN"));
  EXPECT_TRUE(Has(caps, "CAP_SYS_ADMIN"));
}

TEST(Capabilities, DropAllThenAddOne) {
  auto caps = Compute({"NET_BIND_SERVICE"}, {"ALL"});
  EXPECT_EQ(caps, std::vector<std::string>{"CAP_NET_BIND_SERVICE"});
  EXPECT_TRUE(Compute({}, {"all"}).empty());
}

TEST(Capabilities, AddAllAndDropAllIsEmpty) {
  EXPECT_TRUE(Compute({"ALL"}, {"ALL"}).empty());
}

TEST(Capabilities, AddAndDropSameNameDrops) {
  EXPECT_FALSE(Has(Compute({"NET_ADMIN"}, {"NET_ADMIN"}), "CAP_NET_ADMIN"));
}

TEST(Capabilities, ResultIsSortedAndUnique) {
  auto caps = Compute({"CHOWN", "chown", "BPF"}, {});
  for (size_t i = 1; i < caps.size(); ++i)
    EXPECT_LT(CapabilityNumberFromOciName(caps[i - 1]), CapabilityNumberFromOciName(caps[i]));
}

TEST(Capabilities, UnknownNameInEitherListFails) {
  auto bad_add = ComputeCapabilities(DefaultCapabilities(), {"NOPE"}, {});
  ASSERT_FALSE(bad_add.ok());
  EXPECT_EQ(bad_add.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(bad_add.error().message().find("add_capabilities"), std::string::npos);
  auto bad_drop = ComputeCapabilities(DefaultCapabilities(), {"ALL"}, {"NOPE"});
  ASSERT_FALSE(bad_drop.ok());
  EXPECT_NE(bad_drop.error().message().find("drop_capabilities"), std::string::npos);
  EXPECT_NE(bad_drop.error().message().find("NOPE"), std::string::npos);
}

TEST(Capabilities, AmbientList) {
  auto ambient = ParseCapabilityList({"net_bind_service", "NET_BIND_SERVICE"}, "ambient");
  ASSERT_TRUE(ambient.ok());
  EXPECT_EQ(*ambient, std::vector<std::string>{"CAP_NET_BIND_SERVICE"});
  EXPECT_FALSE(ParseCapabilityList({"ALL"}, "ambient").ok());
}

}  // namespace
}  // namespace berth::security
