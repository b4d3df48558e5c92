#include "cri/container_convert.h"
#include "gtest/gtest.h"

// The deprecated string forms are still what older kubelets send.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace berth::cri {
namespace {

using ProfileType = pod::SecurityProfile::Type;

Error InvalidOf(const ::runtime::v1::LinuxContainerSecurityContext& context) {
  auto converted = ToContainerSecurity(context);
  EXPECT_FALSE(converted.ok());
  if (converted.ok()) return Internal("converted");
  EXPECT_EQ(converted.error().code(), ErrorCode::kInvalidArgument);
  return converted.error();
}

TEST(SecurityContextConvertTest, EmptyContextNamesNoProfile) {
  auto security = ToContainerSecurity({});
  ASSERT_TRUE(security.ok()) << security.error().message();
  EXPECT_EQ(security->seccomp.type, ProfileType::kUnset);
  EXPECT_EQ(security->apparmor.type, ProfileType::kUnset);
  EXPECT_FALSE(security->run_as_user.has_value());
  EXPECT_FALSE(security->run_as_group.has_value());
  EXPECT_FALSE(security->supplemental_groups_strict);  // Merge is the CRI's default
  EXPECT_TRUE(security->selinux.type.empty());
}

TEST(SecurityContextConvertTest, FieldsAreCopied) {
  ::runtime::v1::LinuxContainerSecurityContext in;
  in.set_privileged(true);
  in.mutable_capabilities()->add_add_capabilities("NET_ADMIN");
  in.mutable_capabilities()->add_drop_capabilities("ALL");
  in.mutable_capabilities()->add_add_ambient_capabilities("CAP_NET_BIND_SERVICE");
  in.mutable_run_as_user()->set_value(1000);
  in.mutable_run_as_group()->set_value(2000);
  in.add_supplemental_groups(10);
  in.add_supplemental_groups(4294967294LL);
  in.set_supplemental_groups_policy(::runtime::v1::Strict);
  in.set_readonly_rootfs(true);
  in.set_no_new_privs(true);
  in.add_masked_paths("/proc/kcore");
  in.add_readonly_paths("/proc/sys");
  in.mutable_selinux_options()->set_user("system_u");
  in.mutable_selinux_options()->set_role("system_r");
  in.mutable_selinux_options()->set_type("container_t");
  in.mutable_selinux_options()->set_level("s0:c1,c2");
  auto security = ToContainerSecurity(in);
  ASSERT_TRUE(security.ok()) << security.error().message();
  EXPECT_TRUE(security->privileged);
  EXPECT_EQ(security->add_capabilities, std::vector<std::string>{"NET_ADMIN"});
  EXPECT_EQ(security->drop_capabilities, std::vector<std::string>{"ALL"});
  EXPECT_EQ(security->add_ambient_capabilities, std::vector<std::string>{"CAP_NET_BIND_SERVICE"});
  EXPECT_EQ(security->run_as_user, 1000);
  EXPECT_EQ(security->run_as_group, 2000);
  EXPECT_EQ(security->supplemental_groups, (std::vector<int64_t>{10, 4294967294LL}));
  EXPECT_TRUE(security->supplemental_groups_strict);
  EXPECT_TRUE(security->readonly_rootfs);
  EXPECT_TRUE(security->no_new_privs);
  EXPECT_EQ(security->masked_paths, std::vector<std::string>{"/proc/kcore"});
  EXPECT_EQ(security->readonly_paths, std::vector<std::string>{"/proc/sys"});
  EXPECT_EQ(security->selinux.user, "system_u");
  EXPECT_EQ(security->selinux.role, "system_r");
  EXPECT_EQ(security->selinux.type, "container_t");
  EXPECT_EQ(security->selinux.level, "s0:c1,c2");
}

TEST(SecurityContextConvertTest, UserAndGroupRules) {
  ::runtime::v1::LinuxContainerSecurityContext both;
  both.mutable_run_as_user()->set_value(0);
  both.set_run_as_username("root");
  EXPECT_EQ(InvalidOf(both).message(),
            "run_as_user and run_as_username are both set; give only one");

  ::runtime::v1::LinuxContainerSecurityContext name_and_group;
  name_and_group.set_run_as_username("nobody");
  name_and_group.mutable_run_as_group()->set_value(65534);
  auto named = ToContainerSecurity(name_and_group);
  ASSERT_TRUE(named.ok()) << named.error().message();
  EXPECT_EQ(named->run_as_username, "nobody");
  EXPECT_EQ(named->run_as_group, 65534);

  ::runtime::v1::LinuxContainerSecurityContext group_alone;
  group_alone.mutable_run_as_group()->set_value(1);
  EXPECT_EQ(InvalidOf(group_alone).message(), "run_as_group needs run_as_user or run_as_username");
}

TEST(SecurityContextConvertTest, IdsOutOfRange) {
  for (int64_t id : {int64_t{-1}, int64_t{4294967295LL}, int64_t{1} << 40}) {
    ::runtime::v1::LinuxContainerSecurityContext user;
    user.mutable_run_as_user()->set_value(id);
    EXPECT_EQ(InvalidOf(user).message(), "run_as_user " + std::to_string(id) + " is out of range");

    ::runtime::v1::LinuxContainerSecurityContext group;
    group.mutable_run_as_user()->set_value(0);
    group.mutable_run_as_group()->set_value(id);
    EXPECT_EQ(InvalidOf(group).message(),
              "run_as_group " + std::to_string(id) + " is out of range");

    ::runtime::v1::LinuxContainerSecurityContext supplemental;
    supplemental.add_supplemental_groups(id);
    EXPECT_EQ(InvalidOf(supplemental).message(),
              "supplemental group " + std::to_string(id) + " is out of range");
  }
}

TEST(SecurityContextConvertTest, ProfileMessages) {
  ::runtime::v1::LinuxContainerSecurityContext in;
  in.mutable_seccomp()->set_profile_type(::runtime::v1::SecurityProfile::RuntimeDefault);
  in.mutable_apparmor()->set_profile_type(::runtime::v1::SecurityProfile::Localhost);
  in.mutable_apparmor()->set_localhost_ref("my-profile");
  auto security = ToContainerSecurity(in);
  ASSERT_TRUE(security.ok()) << security.error().message();
  EXPECT_EQ(security->seccomp.type, ProfileType::kRuntimeDefault);
  EXPECT_EQ(security->apparmor.type, ProfileType::kLocalhost);
  EXPECT_EQ(security->apparmor.localhost_ref, "my-profile");

  in.mutable_seccomp()->set_profile_type(::runtime::v1::SecurityProfile::Unconfined);
  auto unconfined = ToContainerSecurity(in);
  ASSERT_TRUE(unconfined.ok());
  EXPECT_EQ(unconfined->seccomp.type, ProfileType::kUnconfined);

  // A profile type a newer client may send: the runtime default, the safe choice.
  in.mutable_seccomp()->set_profile_type(
      static_cast<::runtime::v1::SecurityProfile::ProfileType>(9));
  auto unknown = ToContainerSecurity(in);
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(unknown->seccomp.type, ProfileType::kRuntimeDefault);
}

TEST(SecurityContextConvertTest, LocalhostRefRules) {
  ::runtime::v1::LinuxContainerSecurityContext no_ref;
  no_ref.mutable_seccomp()->set_profile_type(::runtime::v1::SecurityProfile::Localhost);
  EXPECT_EQ(InvalidOf(no_ref).message(), "seccomp profile: Localhost needs localhost_ref");

  ::runtime::v1::LinuxContainerSecurityContext stray_ref;
  stray_ref.mutable_apparmor()->set_profile_type(::runtime::v1::SecurityProfile::RuntimeDefault);
  stray_ref.mutable_apparmor()->set_localhost_ref("x");
  EXPECT_EQ(InvalidOf(stray_ref).message(),
            "apparmor profile: localhost_ref is only for Localhost");
}

TEST(SecurityContextConvertTest, DeprecatedProfileStrings) {
  struct Case {
    const char* text;
    ProfileType type;
    const char* ref;
  };
  for (const Case& c :
       {Case{"", ProfileType::kUnset, ""},
        Case{"runtime/default", ProfileType::kRuntimeDefault, ""},
        Case{"docker/default", ProfileType::kRuntimeDefault, ""},
        Case{"unconfined", ProfileType::kUnconfined, ""},
        Case{"localhost/profiles/audit.json", ProfileType::kLocalhost, "profiles/audit.json"}}) {
    ::runtime::v1::LinuxContainerSecurityContext in;
    in.set_seccomp_profile_path(c.text);
    in.set_apparmor_profile(c.text);
    auto security = ToContainerSecurity(in);
    ASSERT_TRUE(security.ok()) << c.text << ": " << security.error().message();
    EXPECT_EQ(security->seccomp.type, c.type) << c.text;
    EXPECT_EQ(security->seccomp.localhost_ref, c.ref) << c.text;
    EXPECT_EQ(security->apparmor.type, c.type) << c.text;
    EXPECT_EQ(security->apparmor.localhost_ref, c.ref) << c.text;
  }
  for (const char* bad : {"localhost/", "Unconfined", "bogus"}) {
    ::runtime::v1::LinuxContainerSecurityContext in;
    in.set_seccomp_profile_path(bad);
    EXPECT_EQ(InvalidOf(in).message(), std::string("seccomp profile \"") + bad +
                                           "\": expected runtime/default, unconfined or "
                                           "localhost/<name>");
  }
}

TEST(SecurityContextConvertTest, TheFieldWinsOverTheDeprecatedString) {
  ::runtime::v1::LinuxContainerSecurityContext in;
  in.set_seccomp_profile_path("bogus");  // ignored: the message field is set
  in.mutable_seccomp()->set_profile_type(::runtime::v1::SecurityProfile::Unconfined);
  auto security = ToContainerSecurity(in);
  ASSERT_TRUE(security.ok()) << security.error().message();
  EXPECT_EQ(security->seccomp.type, ProfileType::kUnconfined);
}

}  // namespace
}  // namespace berth::cri
