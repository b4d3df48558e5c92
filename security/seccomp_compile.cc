#include "security/seccomp_compile.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <memory>
#include <string>

#include "base/unique_fd.h"

namespace berth::security {
namespace {

constexpr size_t kMaxInstructions = 4096;  // BPF_MAXINSNS

struct FilterDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using FilterContext = std::unique_ptr<void, FilterDeleter>;

Error CompileError(ErrorCode code, const std::string& what) {
  return Error(code, "compile seccomp profile: " + what);
}

Result<uint32_t> ActionValue(SeccompAction action, std::optional<uint32_t> errno_ret,
                             const std::string& field) {
  uint32_t ret = errno_ret.value_or(EPERM);
  switch (action) {
    case SeccompAction::kKill:
    case SeccompAction::kKillThread: return SCMP_ACT_KILL_THREAD;
    case SeccompAction::kKillProcess: return SCMP_ACT_KILL_PROCESS;
    case SeccompAction::kTrap: return SCMP_ACT_TRAP;
    case SeccompAction::kErrno: return SCMP_ACT_ERRNO(ret);
    case SeccompAction::kTrace: return SCMP_ACT_TRACE(ret);
    case SeccompAction::kAllow: return SCMP_ACT_ALLOW;
    case SeccompAction::kLog: return SCMP_ACT_LOG;
    case SeccompAction::kNotify: break;
  }
  return CompileError(ErrorCode::kInvalidArgument,
                      field + ": SCMP_ACT_NOTIFY needs a seccomp agent, which berth has not");
}

enum scmp_compare CompareOf(SeccompOperator op) {
  switch (op) {
    case SeccompOperator::kNotEqual: return SCMP_CMP_NE;
    case SeccompOperator::kLessThan: return SCMP_CMP_LT;
    case SeccompOperator::kLessEqual: return SCMP_CMP_LE;
    case SeccompOperator::kEqual: return SCMP_CMP_EQ;
    case SeccompOperator::kGreaterEqual: return SCMP_CMP_GE;
    case SeccompOperator::kGreaterThan: return SCMP_CMP_GT;
    case SeccompOperator::kMaskedEqual: return SCMP_CMP_MASKED_EQ;
  }
  return SCMP_CMP_EQ;
}

struct scmp_arg_cmp ConditionOf(const SeccompArg& arg) {
  struct scmp_arg_cmp cmp {};
  cmp.arg = arg.index;
  cmp.op = CompareOf(arg.op);
  cmp.datum_a = arg.value;      // for MASKED_EQ: the mask
  cmp.datum_b = arg.value_two;  // for MASKED_EQ: what the masked argument must equal
  return cmp;
}

Result<unsigned int> FlagsOf(const std::vector<std::string>& names) {
  unsigned int flags = 0;
  for (const auto& name : names) {
    if (name == "SECCOMP_FILTER_FLAG_TSYNC") {
      flags |= SECCOMP_FILTER_FLAG_TSYNC;
    } else if (name == "SECCOMP_FILTER_FLAG_LOG") {
      flags |= SECCOMP_FILTER_FLAG_LOG;
    } else if (name == "SECCOMP_FILTER_FLAG_SPEC_ALLOW") {
      flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
    } else if (name == "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV") {
      return CompileError(ErrorCode::kInvalidArgument,
                          "flags: " + name +
                              " only applies to a notify listener, which berth "
                              "does not create");
    } else {
      return CompileError(ErrorCode::kInvalidArgument, "flags: unknown flag \"" + name + "\"");
    }
  }
  return flags;
}

Result<void> AddArchitectures(void* ctx, const std::vector<std::string>& names) {
  for (const auto& name : names) {
    if (!IsKnownSeccompArchitecture(name))
      return CompileError(ErrorCode::kInvalidArgument,
                          "architectures: unknown architecture \"" + name + "\"");
    std::string short_name = name.substr(std::string_view("SCMP_ARCH_").size());
    for (char& c : short_name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    uint32_t token = seccomp_arch_resolve_name(short_name.c_str());
    if (token == 0)
      return CompileError(ErrorCode::kFailedPrecondition, "architectures: " + name +
                                                              " is not supported by libseccomp " +
                                                              std::to_string(SCMP_VER_MAJOR) + "." +
                                                              std::to_string(SCMP_VER_MINOR));
    int rc = seccomp_arch_add(ctx, token);
    if (rc != 0 && rc != -EEXIST)
      return Error::FromErrno(-rc, "compile seccomp profile: add architecture " + name);
  }
  return Ok();
}

Result<void> AddRule(void* ctx, const SeccompSyscall& call, uint32_t action,
                     const std::string& name, int number) {
  std::array<int, 6> per_index{};
  bool same_index_twice = false;
  for (const auto& arg : call.args) {
    if (arg.index > 5)
      return CompileError(ErrorCode::kInvalidArgument, "syscall " + name + ": argument index " +
                                                           std::to_string(arg.index) +
                                                           " is out of range 0..5");
    if (++per_index[arg.index] > 1) same_index_twice = true;
  }
  auto fail = [&](int rc) {
    return Error::FromErrno(-rc, "compile seccomp profile: add rule for syscall " + name);
  };
  if (call.args.empty()) {
    int rc = seccomp_rule_add(ctx, action, number, 0);
    if (rc != 0) return fail(rc);
    return Ok();
  }
  std::vector<struct scmp_arg_cmp> conditions;
  for (const auto& arg : call.args) conditions.push_back(ConditionOf(arg));
  if (!same_index_twice) {
    int rc = seccomp_rule_add_array(ctx, action, number, static_cast<unsigned>(conditions.size()),
                                    conditions.data());
    if (rc != 0) return fail(rc);
    return Ok();
  }
  for (const auto& condition : conditions) {
    int rc = seccomp_rule_add_array(ctx, action, number, 1, &condition);
    if (rc != 0) return fail(rc);
  }
  return Ok();
}

Result<std::vector<struct sock_filter>> Export(void* ctx) {
  UniqueFd memfd(memfd_create("berth-seccomp", MFD_CLOEXEC));
  if (!memfd) return Error::FromErrno(errno, "compile seccomp profile: memfd_create");
  int rc = seccomp_export_bpf(ctx, memfd.get());
  if (rc != 0) return Error::FromErrno(-rc, "compile seccomp profile: export BPF");
  struct stat st {};
  if (fstat(memfd.get(), &st) != 0) return Error::FromErrno(errno, "compile seccomp profile");
  size_t size = static_cast<size_t>(st.st_size);
  if (size == 0 || size % sizeof(struct sock_filter) != 0)
    return CompileError(ErrorCode::kInternal,
                        "libseccomp exported " + std::to_string(size) + " bytes of BPF");
  std::vector<struct sock_filter> instructions(size / sizeof(struct sock_filter));
  if (instructions.size() > kMaxInstructions)
    return CompileError(ErrorCode::kInvalidArgument,
                        "the filter has " + std::to_string(instructions.size()) +
                            " instructions; the kernel takes at most 4096");
  auto* bytes = reinterpret_cast<char*>(instructions.data());
  size_t done = 0;
  while (done < size) {
    ssize_t n = pread(memfd.get(), bytes + done, size - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Error::FromErrno(n < 0 ? errno : EIO, "compile seccomp profile: read BPF");
    done += static_cast<size_t>(n);
  }
  return instructions;
}

}  // namespace

Result<SeccompProgram> CompileSeccomp(const SeccompProfile& profile) {
  SeccompProgram program;
  BERTH_ASSIGN_OR_RETURN(program.flags, FlagsOf(profile.flags));
  BERTH_ASSIGN_OR_RETURN(
      uint32_t default_action,
      ActionValue(profile.default_action, profile.default_errno_ret, "defaultAction"));
  FilterContext ctx(seccomp_init(default_action));
  if (!ctx) return CompileError(ErrorCode::kInternal, "seccomp_init failed");
  BERTH_TRY(AddArchitectures(ctx.get(), profile.architectures));

  for (size_t i = 0; i < profile.syscalls.size(); ++i) {
    const SeccompSyscall& call = profile.syscalls[i];
    std::string field = "syscalls[" + std::to_string(i) + "].action";
    BERTH_ASSIGN_OR_RETURN(uint32_t action, ActionValue(call.action, call.errno_ret, field));
    if (action == default_action) continue;
    for (const auto& name : call.names) {
      int number = seccomp_syscall_resolve_name(name.c_str());
      if (number == __NR_SCMP_ERROR) continue;  // unknown to this libseccomp: skipped, as runc
      BERTH_TRY(AddRule(ctx.get(), call, action, name, number));
    }
  }
  BERTH_ASSIGN_OR_RETURN(program.instructions, Export(ctx.get()));
  return program;
}

int InstallSeccompRaw(const SeccompProgram& program) noexcept {
  struct sock_fprog prog {};
  prog.len = static_cast<unsigned short>(program.instructions.size());
  prog.filter = const_cast<struct sock_filter*>(program.instructions.data());
  long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, program.flags, &prog);
  if (rc == 0) return 0;
  if (rc > 0) return ESRCH;  // TSYNC: rc is the id of a thread that could not be synchronized
  int err = errno;
  if (err == ENOSYS && program.flags == 0) {
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) == 0) return 0;
    err = errno;
  }
  return err;
}

Result<void> InstallSeccomp(const SeccompProgram& program) {
  if (program.instructions.empty() || program.instructions.size() > kMaxInstructions)
    return InvalidArgument("install seccomp filter: program has " +
                           std::to_string(program.instructions.size()) + " instructions");
  int err = InstallSeccompRaw(program);
  if (err == 0) return Ok();
  std::string hint = err == EACCES ? " (set no_new_privs first, or keep CAP_SYS_ADMIN)" : "";
  return Error::FromErrno(err, "install seccomp filter" + hint);
}

}  // namespace berth::security
