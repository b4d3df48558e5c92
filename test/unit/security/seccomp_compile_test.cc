#include "security/seccomp_compile.h"

#include <gtest/gtest.h>
#include <linux/seccomp.h>

#include "security/capabilities.h"
#include "security/seccomp_default.h"

namespace berth::security {
namespace {

TEST(SeccompCompile, DefaultProfileCompiles) {
  for (const auto& caps : {DefaultCapabilities(), AllCapabilities(), std::vector<std::string>{}}) {
    auto program = CompileSeccomp(RuntimeDefaultProfile(caps));
    ASSERT_TRUE(program.ok()) << program.error().message();
    EXPECT_GT(program->instructions.size(), 100u);
    EXPECT_LE(program->instructions.size(), 4096u);
    EXPECT_EQ(program->flags, 0u);
  }
}

TEST(SeccompCompile, EveryActionAndOperator) {
  auto profile = ParseOciSeccompJson(R"({
    "defaultAction": "SCMP_ACT_ALLOW",
    "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_AARCH64"],
    "flags": ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
              "SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
    "syscalls": [
      {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
      {"names": ["rmdir"], "action": "SCMP_ACT_ERRNO"},
      {"names": ["kexec_load"], "action": "SCMP_ACT_KILL"},
      {"names": ["reboot"], "action": "SCMP_ACT_KILL_THREAD"},
      {"names": ["swapon"], "action": "SCMP_ACT_KILL_PROCESS"},
      {"names": ["swapoff"], "action": "SCMP_ACT_TRAP"},
      {"names": ["acct"], "action": "SCMP_ACT_TRACE", "errnoRet": 5},
      {"names": ["uselib"], "action": "SCMP_ACT_LOG"},
      {"names": ["getpid"], "action": "SCMP_ACT_ALLOW"},
      {"names": ["no_such_syscall_anywhere"], "action": "SCMP_ACT_ERRNO"},
      {"names": ["personality"], "action": "SCMP_ACT_ERRNO", "args": [
        {"index": 0, "value": 1, "op": "SCMP_CMP_NE"},
        {"index": 1, "value": 2, "op": "SCMP_CMP_LT"},
        {"index": 2, "value": 3, "op": "SCMP_CMP_LE"},
        {"index": 3, "value": 4, "op": "SCMP_CMP_EQ"},
        {"index": 4, "value": 5, "op": "SCMP_CMP_GE"},
        {"index": 5, "value": 6, "op": "SCMP_CMP_GT"}]},
      {"names": ["socket"], "action": "SCMP_ACT_ERRNO", "args": [
        {"index": 0, "value": 40, "op": "SCMP_CMP_EQ"},
        {"index": 0, "value": 16, "op": "SCMP_CMP_EQ"}]},
      {"names": ["clone"], "action": "SCMP_ACT_ERRNO", "args": [
        {"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]}
    ]})");
  ASSERT_TRUE(profile.ok()) << profile.error().message();
  auto program = CompileSeccomp(*profile);
  ASSERT_TRUE(program.ok()) << program.error().message();
  EXPECT_EQ(program->flags,
            static_cast<unsigned>(SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_LOG |
                                  SECCOMP_FILTER_FLAG_SPEC_ALLOW));
  EXPECT_FALSE(program->instructions.empty());
}

TEST(SeccompCompile, RefusesNotify) {
  SeccompProfile profile;
  profile.default_action = SeccompAction::kAllow;
  profile.syscalls.push_back({{"mkdir"}, SeccompAction::kNotify, std::nullopt, {}});
  auto program = CompileSeccomp(profile);
  ASSERT_FALSE(program.ok());
  EXPECT_EQ(program.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(program.error().message().find("SCMP_ACT_NOTIFY"), std::string::npos);
  EXPECT_NE(program.error().message().find("syscalls[0]"), std::string::npos);

  profile.syscalls.clear();
  profile.default_action = SeccompAction::kNotify;
  EXPECT_FALSE(CompileSeccomp(profile).ok());
}

TEST(SeccompCompile, RefusesWaitKillableRecvWithoutListener) {
  SeccompProfile profile;
  profile.default_action = SeccompAction::kAllow;
  profile.flags = {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"};
  auto program = CompileSeccomp(profile);
  ASSERT_FALSE(program.ok());
  EXPECT_NE(program.error().message().find("WAIT_KILLABLE_RECV"), std::string::npos);
}

TEST(SeccompCompile, UnknownOrUnsupportedArchitecture) {
  SeccompProfile profile;
  profile.default_action = SeccompAction::kAllow;
  profile.architectures = {"SCMP_ARCH_Z80"};
  auto unknown = CompileSeccomp(profile);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(unknown.error().message().find("SCMP_ARCH_Z80"), std::string::npos);
}

TEST(SeccompCompile, ArgumentIndexOutOfRange) {
  SeccompProfile profile;
  profile.default_action = SeccompAction::kAllow;
  profile.syscalls.push_back(
      {{"mkdir"}, SeccompAction::kErrno, std::nullopt, {{7, 1, 0, SeccompOperator::kEqual}}});
  auto program = CompileSeccomp(profile);
  ASSERT_FALSE(program.ok());
  EXPECT_NE(program.error().message().find("mkdir"), std::string::npos);
}

}  // namespace
}  // namespace berth::security
