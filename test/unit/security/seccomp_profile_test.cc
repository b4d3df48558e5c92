#include "security/seccomp_profile.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace berth::security {
namespace {

constexpr char kOciProfile[] = R"({
  "defaultAction": "SCMP_ACT_ERRNO",
  "defaultErrnoRet": 1,
  "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
  "flags": ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
  "syscalls": [
    {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
    {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
    {"names": ["clone"], "action": "SCMP_ACT_ALLOW",
     "args": [{"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]},
    {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
     "args": [{"index": 0, "value": 4294967295, "op": "SCMP_CMP_EQ"}]},
    {"names": ["kill"], "action": "SCMP_ACT_KILL_PROCESS"},
    {"names": ["ptrace"], "action": "SCMP_ACT_TRACE", "errnoRet": 7},
    {"names": ["getpid"], "action": "SCMP_ACT_LOG", "args": null}
  ]
})";

TEST(SeccompProfile, ParsesOciForm) {
  auto profile = ParseOciSeccompJson(kOciProfile);
  ASSERT_TRUE(profile.ok()) << profile.error().message();
  EXPECT_EQ(profile->default_action, SeccompAction::kErrno);
  EXPECT_EQ(profile->default_errno_ret, 1u);
  EXPECT_EQ(profile->architectures.size(), 2u);
  EXPECT_EQ(profile->flags.size(), 2u);
  ASSERT_EQ(profile->syscalls.size(), 7u);
  EXPECT_EQ(profile->syscalls[1].errno_ret, 13u);
  ASSERT_EQ(profile->syscalls[2].args.size(), 1u);
  EXPECT_EQ(profile->syscalls[2].args[0].op, SeccompOperator::kMaskedEqual);
  EXPECT_EQ(profile->syscalls[2].args[0].value, 2114060288u);
  EXPECT_EQ(profile->syscalls[3].args[0].value, 4294967295u);
  EXPECT_EQ(profile->syscalls[4].action, SeccompAction::kKillProcess);
  EXPECT_TRUE(profile->syscalls[6].args.empty());
}

TEST(SeccompProfile, SerializeRoundTrips) {
  auto profile = ParseOciSeccompJson(kOciProfile);
  ASSERT_TRUE(profile.ok());
  std::string text = SerializeSeccompProfile(*profile);
  auto again = ParseOciSeccompJson(text);
  ASSERT_TRUE(again.ok()) << again.error().message();
  EXPECT_EQ(*again, *profile);
  EXPECT_EQ(SerializeSeccompProfile(*again), text);
}

TEST(SeccompProfile, EveryActionAndOperatorNameRoundTrips) {
  for (auto name :
       {"SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP",
        "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY"}) {
    auto action = ParseSeccompAction(name);
    ASSERT_TRUE(action.ok()) << name;
    EXPECT_EQ(SeccompActionName(*action), name);
  }
  for (auto name : {"SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE",
                    "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"}) {
    auto op = ParseSeccompOperator(name);
    ASSERT_TRUE(op.ok()) << name;
    EXPECT_EQ(SeccompOperatorName(*op), name);
  }
}

void ExpectInvalid(std::string_view text, std::string_view path_fragment) {
  auto profile = ParseOciSeccompJson(text);
  ASSERT_FALSE(profile.ok()) << text;
  EXPECT_EQ(profile.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(profile.error().message().find(path_fragment), std::string::npos)
      << profile.error().message();
}

TEST(SeccompProfile, BadInputsNameTheField) {
  ExpectInvalid("{", "not valid JSON");
  ExpectInvalid("[]", "must be a JSON object");
  ExpectInvalid(R"({"syscalls": []})", "defaultAction: missing");
  ExpectInvalid(R"({"defaultAction": "SCMP_ACT_NOPE"})", "defaultAction: unknown action");
  ExpectInvalid(R"({"defaultAction": "SCMP_ACT_ALLOW", "bogus": 1})", "bogus: unknown field");
  ExpectInvalid(R"({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_Z80"]})",
                "architectures[0]: unknown architecture");
  ExpectInvalid(R"({"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_NOPE"]})",
                "flags[0]");
  ExpectInvalid(R"({"defaultAction": "SCMP_ACT_ALLOW", "defaultErrnoRet": 1})", "defaultErrnoRet");
  ExpectInvalid(R"({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/run/agent.sock"})",
                "listenerPath");
  ExpectInvalid(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"action": "SCMP_ACT_LOG"}]})",
                "syscalls[0].names");
  ExpectInvalid(R"({"defaultAction": "SCMP_ACT_ALLOW",
                    "syscalls": [{"names": ["read"], "action": "SCMP_ACT_LOG", "x": 1}]})",
                "syscalls[0].x: unknown field");
  ExpectInvalid(R"({"defaultAction": "SCMP_ACT_ALLOW",
                    "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "errnoRet": 1}]})",
                "syscalls[0].errnoRet");
  ExpectInvalid(R"({"defaultAction": "SCMP_ACT_ALLOW",
                    "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "errnoRet": -1}]})",
                "syscalls[0].errnoRet");
  ExpectInvalid(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"],
                    "action": "SCMP_ACT_ERRNO", "args": [{"index": 6, "value": 1,
                    "op": "SCMP_CMP_EQ"}]}]})",
                "syscalls[0].args[0].index");
  ExpectInvalid(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"],
                    "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 1,
                    "op": "SCMP_CMP_XOR"}]}]})",
                "syscalls[0].args[0].op: unknown operator");
  ExpectInvalid(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"],
                    "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 1.5,
                    "op": "SCMP_CMP_EQ"}]}]})",
                "syscalls[0].args[0].value");
  // Docker's extensions are not OCI.
  ExpectInvalid(R"({"defaultAction": "SCMP_ACT_ALLOW", "archMap": []})", "archMap: unknown field");
}

SeccompResolveContext Amd64(std::vector<std::string> caps, int major = 6, int minor = 1) {
  return SeccompResolveContext{std::move(caps), "amd64", major, minor};
}

constexpr char kDockerProfile[] = R"({
  "defaultAction": "SCMP_ACT_ERRNO",
  "defaultErrnoRet": 1,
  "archMap": [
    {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
    {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]},
    {"architecture": "SCMP_ARCH_RISCV64", "subArchitectures": null}
  ],
  "syscalls": [
    {"names": ["read"], "action": "SCMP_ACT_ALLOW", "comment": "always"},
    {"name": "write", "action": "SCMP_ACT_ALLOW"},
    {"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4.8"}},
    {"names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64", "x32"]}},
    {"names": ["set_tls"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["arm64"]}},
    {"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
    {"names": ["clone"], "action": "SCMP_ACT_ALLOW",
     "args": [{"index": 0, "value": 2114060288, "op": "SCMP_CMP_MASKED_EQ"}],
     "excludes": {"caps": ["CAP_SYS_ADMIN"], "arches": ["s390", "s390x"]}},
    {"names": ["future"], "action": "SCMP_ACT_ALLOW", "excludes": {"minKernel": "5.0"}}
  ]
})";

std::vector<std::string> Names(const SeccompProfile& profile) {
  std::vector<std::string> names;
  for (const auto& call : profile.syscalls)
    names.insert(names.end(), call.names.begin(), call.names.end());
  return names;
}

TEST(SeccompProfile, DockerFormResolvesForContainer) {
  auto profile = ParseLocalhostSeccompJson(kDockerProfile, Amd64({"CAP_CHOWN"}));
  ASSERT_TRUE(profile.ok()) << profile.error().message();
  EXPECT_EQ(profile->architectures,
            (std::vector<std::string>{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}));
  EXPECT_EQ(Names(*profile),
            (std::vector<std::string>{"read", "write", "ptrace", "arch_prctl", "clone"}));

  auto admin = ParseLocalhostSeccompJson(kDockerProfile, Amd64({"CAP_SYS_ADMIN"}, 4, 4));
  ASSERT_TRUE(admin.ok());
  EXPECT_EQ(Names(*admin),
            (std::vector<std::string>{"read", "write", "arch_prctl", "mount", "future"}));

  SeccompResolveContext arm{{}, "arm64", 6, 1};
  auto on_arm = ParseLocalhostSeccompJson(kDockerProfile, arm);
  ASSERT_TRUE(on_arm.ok());
  EXPECT_EQ(on_arm->architectures,
            (std::vector<std::string>{"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"}));
  EXPECT_EQ(Names(*on_arm),
            (std::vector<std::string>{"read", "write", "ptrace", "set_tls", "clone"}));
}

TEST(SeccompProfile, LocalhostAcceptsOciFormToo) {
  auto profile = ParseLocalhostSeccompJson(kOciProfile, Amd64({}));
  ASSERT_TRUE(profile.ok()) << profile.error().message();
  EXPECT_EQ(*profile, *ParseOciSeccompJson(kOciProfile));
}

TEST(SeccompProfile, LocalhostRefusals) {
  auto notify = ParseLocalhostSeccompJson(
      R"({"defaultAction": "SCMP_ACT_ALLOW",
          "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]})",
      Amd64({}));
  ASSERT_FALSE(notify.ok());
  EXPECT_NE(notify.error().message().find("syscalls[0].action"), std::string::npos);
  EXPECT_NE(notify.error().message().find("NOTIFY"), std::string::npos);

  auto both = ParseLocalhostSeccompJson(
      R"({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86"],
          "archMap": [{"architecture": "SCMP_ARCH_X86_64"}]})",
      Amd64({}));
  ASSERT_FALSE(both.ok());
  EXPECT_NE(both.error().message().find("archMap"), std::string::npos);

  auto name_and_names = ParseLocalhostSeccompJson(
      R"({"defaultAction": "SCMP_ACT_ALLOW",
          "syscalls": [{"name": "a", "names": ["b"], "action": "SCMP_ACT_LOG"}]})",
      Amd64({}));
  EXPECT_FALSE(name_and_names.ok());

  auto bad_filter = ParseLocalhostSeccompJson(
      R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["a"],
          "action": "SCMP_ACT_LOG", "includes": {"minKernel": "four"}}]})",
      Amd64({}));
  ASSERT_FALSE(bad_filter.ok());
  EXPECT_NE(bad_filter.error().message().find("syscalls[0].includes.minKernel"), std::string::npos);

  auto bad_key = ParseLocalhostSeccompJson(
      R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["a"],
          "action": "SCMP_ACT_LOG", "excludes": {"kernel": "5"}}]})",
      Amd64({}));
  ASSERT_FALSE(bad_key.ok());
  EXPECT_NE(bad_key.error().message().find("syscalls[0].excludes.kernel"), std::string::npos);
}

// minKernel is MAJOR.MINOR in decimal. It was read with sscanf("%d.%d"), which skipped spaces
// and signs and made an overflowing number undefined behaviour.
TEST(SeccompProfile, MinKernelIsStrictDecimal) {
  auto with_min_kernel = [](const std::string& version) {
    return ParseLocalhostSeccompJson(
        R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["ptrace"],
            "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": ")" +
            version + R"("}}]})",
        Amd64({}));
  };
  ASSERT_TRUE(with_min_kernel("4.8").ok());
  EXPECT_EQ(with_min_kernel("4.8")->syscalls.size(), 1u);  // Amd64() runs 6.1
  EXPECT_EQ(with_min_kernel("6.10")->syscalls.size(), 0u);
  EXPECT_EQ(with_min_kernel("")->syscalls.size(), 1u);  // Go's empty string: no minimum
  for (const char* bad : {" 4.8", "+4.8", "4.-8", "4.8x", "4.8.1", "4.", ".8", "4", "99999999999.1",
                          "4.99999999999"}) {
    EXPECT_FALSE(with_min_kernel(bad).ok()) << bad;
  }
}

TEST(SeccompProfile, LoadLocalhostFile) {
  auto missing = LoadLocalhostSeccompProfile("/nonexistent/profile.json", Amd64({}));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_FALSE(LoadLocalhostSeccompProfile("relative.json", Amd64({})).ok());
}

TEST(SeccompProfile, HostContext) {
  auto context = HostSeccompContext({"CAP_KILL"});
  EXPECT_FALSE(context.native_arch.empty());
  EXPECT_FALSE(SeccompArchOfNative(context.native_arch).empty());
  EXPECT_GE(context.kernel_major, 4);
}

}  // namespace
}  // namespace berth::security
