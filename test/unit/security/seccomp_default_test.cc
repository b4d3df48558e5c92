#include "security/seccomp_default.h"

#include <errno.h>
#include <gtest/gtest.h>
#include <sched.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "security/apparmor.h"
#include "security/capabilities.h"

namespace berth::security {
namespace {

// The action a name gets when it appears unconditionally, or nullptr when it is not listed
// without arguments.
const SeccompSyscall* Unconditional(const SeccompProfile& profile, std::string_view name) {
  for (const auto& call : profile.syscalls)
    if (call.args.empty() &&
        std::find(call.names.begin(), call.names.end(), name) != call.names.end())
      return &call;
  return nullptr;
}

bool Allowed(const SeccompProfile& profile, std::string_view name) {
  const SeccompSyscall* call = Unconditional(profile, name);
  return call != nullptr && call->action == SeccompAction::kAllow;
}

std::vector<const SeccompSyscall*> Conditional(const SeccompProfile& profile,
                                               std::string_view name) {
  std::vector<const SeccompSyscall*> out;
  for (const auto& call : profile.syscalls)
    if (!call.args.empty() &&
        std::find(call.names.begin(), call.names.end(), name) != call.names.end())
      out.push_back(&call);
  return out;
}

TEST(SeccompDefault, DeniesWithEpermByDefault) {
  auto profile = RuntimeDefaultProfileFor(DefaultCapabilities(), "amd64");
  EXPECT_EQ(profile.default_action, SeccompAction::kErrno);
  EXPECT_EQ(profile.default_errno_ret, 1u);
  EXPECT_EQ(profile.architectures,
            (std::vector<std::string>{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}));
  auto arm = RuntimeDefaultProfileFor(DefaultCapabilities(), "arm64");
  EXPECT_EQ(arm.architectures, (std::vector<std::string>{"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"}));
  EXPECT_TRUE(Allowed(arm, "set_tls"));
  EXPECT_FALSE(Allowed(arm, "arch_prctl"));
  EXPECT_TRUE(Allowed(profile, "arch_prctl"));
}

TEST(SeccompDefault, EverydaySyscallsAllowed) {
  auto profile = RuntimeDefaultProfileFor(DefaultCapabilities(), "amd64");
  for (auto name : {"read", "write", "openat", "execve", "getpid", "mmap", "futex", "clone",
                    "mkdir", "rseq", "statx", "epoll_pwait2", "pidfd_open", "ptrace"}) {
    bool allowed = Allowed(profile, name) || !Conditional(profile, name).empty();
    EXPECT_TRUE(allowed) << name;
  }
  EXPECT_TRUE(Allowed(profile, "chroot"));  // CAP_SYS_CHROOT is in the default set
}

TEST(SeccompDefault, DangerousSyscallsDeniedWithoutCapabilities) {
  auto profile = RuntimeDefaultProfileFor(DefaultCapabilities(), "amd64");
  for (auto name :
       {"unshare",       "setns",       "mount",      "umount2",           "keyctl",
        "add_key",       "request_key", "bpf",        "perf_event_open",   "reboot",
        "init_module",   "kexec_load",  "acct",       "open_by_handle_at", "settimeofday",
        "clock_settime", "iopl",        "syslog",     "io_uring_setup",    "io_uring_enter",
        "userfaultfd",   "swapon",      "fsopen",     "move_mount",        "mbind",
        "vhangup",       "kcmp",        "pidfd_getfd"}) {
    EXPECT_FALSE(Allowed(profile, name)) << name;
    EXPECT_TRUE(Conditional(profile, name).empty()) << name;
  }
}

TEST(SeccompDefault, CloneWithoutNamespaceFlagsAndClone3Enosys) {
  auto profile = RuntimeDefaultProfileFor(DefaultCapabilities(), "amd64");
  EXPECT_FALSE(Allowed(profile, "clone"));
  auto clone = Conditional(profile, "clone");
  ASSERT_EQ(clone.size(), 1u);
  ASSERT_EQ(clone[0]->args.size(), 1u);
  const SeccompArg& arg = clone[0]->args[0];
  EXPECT_EQ(arg.index, 0u);
  EXPECT_EQ(arg.op, SeccompOperator::kMaskedEqual);
  EXPECT_EQ(arg.value, 0x7E020000u);  // Docker's 2114060288
  EXPECT_EQ(arg.value,
            static_cast<uint64_t>(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER |
                                  CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP));
  EXPECT_EQ(arg.value_two, 0u);
  const SeccompSyscall* clone3 = Unconditional(profile, "clone3");
  ASSERT_NE(clone3, nullptr);
  EXPECT_EQ(clone3->action, SeccompAction::kErrno);
  EXPECT_EQ(clone3->errno_ret, static_cast<uint32_t>(ENOSYS));
}

TEST(SeccompDefault, SocketAndPersonalityConditions) {
  auto profile = RuntimeDefaultProfileFor(DefaultCapabilities(), "amd64");
  EXPECT_FALSE(Allowed(profile, "socket"));
  auto socket = Conditional(profile, "socket");
  ASSERT_EQ(socket.size(), 1u);
  EXPECT_EQ(socket[0]->args[0].op, SeccompOperator::kNotEqual);
  EXPECT_EQ(socket[0]->args[0].value, 40u);  // AF_VSOCK
  std::vector<uint64_t> personas;
  for (const auto* call : Conditional(profile, "personality")) {
    ASSERT_EQ(call->args.size(), 1u);
    EXPECT_EQ(call->args[0].op, SeccompOperator::kEqual);
    personas.push_back(call->args[0].value);
  }
  EXPECT_EQ(personas, (std::vector<uint64_t>{0x0, 0x8, 0x20000, 0x20008, 0xffffffff}));
}

TEST(SeccompDefault, SysAdminOpensNamespaceAndMountCalls) {
  auto caps = DefaultCapabilities();
  caps.push_back("CAP_SYS_ADMIN");
  auto profile = RuntimeDefaultProfileFor(caps, "amd64");
  for (auto name : {"unshare", "setns", "mount", "umount2", "clone", "clone3", "bpf", "sethostname",
                    "fsopen", "syslog"})
    EXPECT_TRUE(Allowed(profile, name)) << name;
  EXPECT_TRUE(Conditional(profile, "clone").empty());
  // The keyring is not namespaced: never allowed, not even with CAP_SYS_ADMIN.
  for (auto name : {"keyctl", "add_key", "request_key"}) EXPECT_FALSE(Allowed(profile, name));
}

TEST(SeccompDefault, EachCapabilityOpensItsSyscalls) {
  struct Case {
    const char* capability;
    std::vector<const char*> syscalls;
  } cases[] = {
      {"CAP_SYS_BOOT", {"reboot"}},
      {"CAP_SYS_MODULE", {"init_module", "finit_module", "delete_module"}},
      {"CAP_SYS_PACCT", {"acct"}},
      {"CAP_SYS_PTRACE", {"kcmp", "pidfd_getfd", "process_madvise"}},
      {"CAP_SYS_RAWIO", {"iopl", "ioperm"}},
      {"CAP_SYS_TIME", {"settimeofday", "stime", "clock_settime"}},
      {"CAP_SYS_TTY_CONFIG", {"vhangup"}},
      {"CAP_SYS_NICE", {"mbind", "set_mempolicy", "get_mempolicy"}},
      {"CAP_SYSLOG", {"syslog"}},
      {"CAP_BPF", {"bpf"}},
      {"CAP_PERFMON", {"perf_event_open"}},
      {"CAP_DAC_READ_SEARCH", {"open_by_handle_at"}},
  };
  for (const auto& c : cases) {
    auto without = RuntimeDefaultProfileFor({}, "amd64");
    auto with = RuntimeDefaultProfileFor({c.capability}, "amd64");
    for (auto name : c.syscalls) {
      EXPECT_FALSE(Allowed(without, name)) << c.capability << " " << name;
      EXPECT_TRUE(Allowed(with, name)) << c.capability << " " << name;
    }
    EXPECT_FALSE(Allowed(with, "unshare")) << c.capability;
  }
  // Without CAP_SYS_CHROOT (dropped), chroot is denied.
  EXPECT_FALSE(Allowed(RuntimeDefaultProfileFor({}, "amd64"), "chroot"));
}

std::string ReadSource(const std::string& relative) {
  std::ifstream in(std::string(BERTH_SOURCE_DIR) + "/" + relative, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The shipped files are generated from the C++; BERTH_REGENERATE_PROFILES=1 rewrites them.
void CheckShipped(const std::string& relative, const std::string& expected) {
  if (std::getenv("BERTH_REGENERATE_PROFILES") != nullptr) {
    std::ofstream out(std::string(BERTH_SOURCE_DIR) + "/" + relative, std::ios::binary);
    out << expected;
  }
  EXPECT_EQ(ReadSource(relative), expected)
      << relative << " is out of date: run security_test with BERTH_REGENERATE_PROFILES=1";
}

TEST(ShippedProfiles, SeccompJsonIsTheDefaultProfile) {
  CheckShipped("security/profiles/seccomp/berth-default.json",
               SerializeSeccompProfile(RuntimeDefaultProfileFor(DefaultCapabilities(), "amd64")));
  auto parsed = ParseOciSeccompJson(ReadSource("security/profiles/seccomp/berth-default.json"));
  ASSERT_TRUE(parsed.ok()) << parsed.error().message();
  EXPECT_EQ(*parsed, RuntimeDefaultProfileFor(DefaultCapabilities(), "amd64"));
}

TEST(ShippedProfiles, AppArmorProfileIsTheDefaultText) {
  CheckShipped("security/profiles/apparmor/berth-default", DefaultAppArmorProfileText({}));
}

}  // namespace
}  // namespace berth::security
