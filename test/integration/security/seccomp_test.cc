// Installs compiled seccomp programs in forked children and checks, inside them, what the kernel
// then allows. Each child reports through its exit status: 0 = every check held, otherwise the
// number of the first failed check (see the kCheck* constants).
#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>

#include "security/capabilities.h"
#include "security/seccomp_compile.h"
#include "security/seccomp_default.h"
#include "security/seccomp_profile.h"

namespace berth::security {
namespace {

enum Check : int {
  kCheckInstall = 10,
  kCheckGetpid,
  kCheckUnshare,
  kCheckKeyctl,
  kCheckStatus,
  kCheckClone3,
  kCheckFork,
  kCheckMkdir,
  kCheckAddKey,
};

// Runs `body` in a forked child after no_new_privs and, when given, `program`; returns the
// child's exit code (or 100 + signal).
int RunInChild(const SeccompProgram* program, const std::function<int()>& body) {
  pid_t pid = fork();
  if (pid == 0) {
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(kCheckInstall);
    if (program != nullptr && InstallSeccompRaw(*program) != 0) _exit(kCheckInstall);
    _exit(body());
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFSIGNALED(status)) return 100 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

// "Seccomp:\t2" in /proc/self/status, read with the plain syscalls the filter allows.
bool SeccompModeIsFilter() {
  int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buffer[8192];
  ssize_t n = read(fd, buffer, sizeof(buffer) - 1);
  close(fd);
  if (n <= 0) return false;
  buffer[n] = '\0';
  return std::strstr(buffer, "\nSeccomp:\t2\n") != nullptr;
}

bool FailsWith(long rc, int expected) {
  return rc == -1 && errno == expected;
}

class SeccompTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/berth-seccomp-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    rmdir((dir_ + "/made").c_str());
    unlink((dir_ + "/profile.json").c_str());
    rmdir(dir_.c_str());
  }
  std::string dir_;
};

TEST_F(SeccompTest, RuntimeDefaultDeniesUnshareAndKeyctl) {
  auto program = CompileSeccomp(RuntimeDefaultProfile(DefaultCapabilities()));
  ASSERT_TRUE(program.ok()) << program.error().message();
  int result = RunInChild(&*program, [] {
    if (getpid() <= 0) return int{kCheckGetpid};
    if (!FailsWith(unshare(CLONE_NEWNS), EPERM)) return int{kCheckUnshare};
    if (!FailsWith(syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0), EPERM))
      return int{kCheckKeyctl};
    if (!FailsWith(syscall(SYS_add_key, "user", "berth", "x", 1, KEY_SPEC_SESSION_KEYRING), EPERM))
      return int{kCheckAddKey};
    if (!SeccompModeIsFilter()) return int{kCheckStatus};
    // clone3 answers ENOSYS (so libc falls back to clone), not the kernel's EFAULT/EINVAL.
    if (!FailsWith(syscall(SYS_clone3, nullptr, 0), ENOSYS)) return int{kCheckClone3};
    pid_t child = fork();  // plain clone() without namespace flags stays allowed
    if (child < 0) return int{kCheckFork};
    if (child == 0) _exit(0);
    int status = 0;
    if (waitpid(child, &status, 0) != child || status != 0) return int{kCheckFork};
    return 0;
  });
  EXPECT_EQ(result, 0) << "first failed check: " << result;
}

TEST_F(SeccompTest, WithoutFilterTheSameCallsWork) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root: unshare(CLONE_NEWNS) is the control";
  int result = RunInChild(nullptr, [] {
    if (unshare(CLONE_NEWNS) != 0) return int{kCheckUnshare};
    if (syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0) < 0)
      return int{kCheckKeyctl};
    return 0;
  });
  EXPECT_EQ(result, 0) << "first failed check: " << result;
}

TEST_F(SeccompTest, SysAdminOpensUnshare) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  auto program = CompileSeccomp(RuntimeDefaultProfile(AllCapabilities()));
  ASSERT_TRUE(program.ok()) << program.error().message();
  int result = RunInChild(&*program, [] {
    if (unshare(CLONE_NEWNS) != 0) return int{kCheckUnshare};
    // The keyring stays closed even with every capability.
    if (!FailsWith(syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0), EPERM))
      return int{kCheckKeyctl};
    return 0;
  });
  EXPECT_EQ(result, 0) << "first failed check: " << result;
}

TEST_F(SeccompTest, LocalhostProfileDenyingMkdir) {
  std::string path = dir_ + "/profile.json";
  std::ofstream(path) << R"({
    "defaultAction": "SCMP_ACT_ALLOW",
    "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]},
                {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}],
    "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO",
                  "comment": "no new directories"}]
  })";
  auto profile = LoadLocalhostSeccompProfile(path, HostSeccompContext(DefaultCapabilities()));
  ASSERT_TRUE(profile.ok()) << profile.error().message();
  auto program = CompileSeccomp(*profile);
  ASSERT_TRUE(program.ok()) << program.error().message();
  std::string target = dir_ + "/made";
  int denied = RunInChild(&*program, [&] {
    if (!FailsWith(mkdir(target.c_str(), 0755), EPERM)) return int{kCheckMkdir};
    if (!SeccompModeIsFilter()) return int{kCheckStatus};
    return 0;
  });
  EXPECT_EQ(denied, 0) << "first failed check: " << denied;
  struct stat st {};
  EXPECT_NE(stat(target.c_str(), &st), 0);

  // Unconfined: the same mkdir works.
  int allowed =
      RunInChild(nullptr, [&] { return mkdir(target.c_str(), 0755) == 0 ? 0 : int{kCheckMkdir}; });
  EXPECT_EQ(allowed, 0);
  EXPECT_EQ(stat(target.c_str(), &st), 0);
}

TEST_F(SeccompTest, ErrnoRetIsReturned) {
  auto profile = ParseOciSeccompJson(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
      {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 122}]})");
  ASSERT_TRUE(profile.ok());
  auto program = CompileSeccomp(*profile);
  ASSERT_TRUE(program.ok());
  std::string target = dir_ + "/made";
  int result = RunInChild(&*program, [&] {
    return FailsWith(mkdir(target.c_str(), 0755), EDQUOT) ? 0 : int{kCheckMkdir};
  });
  EXPECT_EQ(result, 0);
}

}  // namespace
}  // namespace berth::security
