#include "runtime/cgroup_device_filter.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

namespace berth::runtime {
namespace {

// Registers of the program: r1 the context (struct bpf_cgroup_dev_ctx), then scratch; r2 the
// requested access (BPF_DEVCG_ACC_*), r3 the type (BPF_DEVCG_DEV_*), r4 major, r5 minor.
constexpr uint8_t kScratch = 1, kAccess = 2, kType = 3, kMajor = 4, kMinor = 5;

bpf_insn Insn(uint8_t code, uint8_t dst, uint8_t src, int16_t offset, int32_t imm) {
  bpf_insn insn{};
  insn.code = code;
  insn.dst_reg = dst & 0xf;
  insn.src_reg = src & 0xf;
  insn.off = offset;
  insn.imm = imm;
  return insn;
}

bpf_insn LoadContextWord(uint8_t dst, int16_t offset) {
  return Insn(BPF_LDX | BPF_MEM | BPF_W, dst, 1, offset, 0);
}

// "if dst != imm: skip to the end of the block", its offset filled in once the block is whole.
bpf_insn JumpIfNotEqual(uint8_t dst, int32_t imm) {
  return Insn(BPF_JMP | BPF_JNE | BPF_K, dst, 0, 0, imm);
}

std::vector<bpf_insn> Return(int32_t verdict) {
  return {Insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, verdict),
          Insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)};
}

Result<int32_t> AccessMask(const std::string& access) {
  int32_t mask = 0;
  for (char letter : access) {
    switch (letter) {
      case 'r': mask |= BPF_DEVCG_ACC_READ; break;
      case 'w': mask |= BPF_DEVCG_ACC_WRITE; break;
      case 'm': mask |= BPF_DEVCG_ACC_MKNOD; break;
      default: return InvalidArgument("device rule access \"" + access + "\": only r, w and m");
    }
  }
  return mask;
}

// One rule: every check jumps past the block when it fails; a match returns the verdict.
Result<std::vector<bpf_insn>> RuleBlock(const DeviceRule& rule) {
  std::vector<bpf_insn> block;
  if (rule.type == 'c' || rule.type == 'b') {
    block.push_back(
        JumpIfNotEqual(kType, rule.type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK));
  } else if (rule.type != 'a') {
    return InvalidArgument(std::string("device rule type '") + rule.type + "': only a, b and c");
  }
  BERTH_ASSIGN_OR_RETURN(int32_t mask, AccessMask(rule.access));
  int32_t outside = ~mask & (BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD);
  if (rule.type != 'a' && outside != 0) {
    // Every access asked for must be one the rule names: (access & ~mask) == 0.
    block.push_back(Insn(BPF_ALU | BPF_MOV | BPF_X, kScratch, kAccess, 0, 0));
    block.push_back(Insn(BPF_ALU | BPF_AND | BPF_K, kScratch, 0, 0, outside));
    block.push_back(JumpIfNotEqual(kScratch, 0));
  }
  if (rule.type != 'a' && rule.major >= 0)
    block.push_back(JumpIfNotEqual(kMajor, static_cast<int32_t>(rule.major)));
  if (rule.type != 'a' && rule.minor >= 0)
    block.push_back(JumpIfNotEqual(kMinor, static_cast<int32_t>(rule.minor)));
  for (const auto& insn : Return(rule.allow ? 1 : 0)) block.push_back(insn);
  for (size_t i = 0; i < block.size(); ++i) {
    if (block[i].code == (BPF_JMP | BPF_JNE | BPF_K))
      block[i].off = static_cast<int16_t>(block.size() - i - 1);
  }
  return block;
}

}  // namespace

Result<std::vector<bpf_insn>> DeviceFilterProgram(const std::vector<DeviceRule>& rules) {
  std::vector<bpf_insn> program = {
      LoadContextWord(kAccess, offsetof(bpf_cgroup_dev_ctx, access_type)),
      Insn(BPF_ALU | BPF_MOV | BPF_X, kType, kAccess, 0, 0),
      Insn(BPF_ALU | BPF_AND | BPF_K, kType, 0, 0, 0xffff),
      Insn(BPF_ALU | BPF_RSH | BPF_K, kAccess, 0, 0, 16),
      LoadContextWord(kMajor, offsetof(bpf_cgroup_dev_ctx, major)),
      LoadContextWord(kMinor, offsetof(bpf_cgroup_dev_ctx, minor)),
  };
  // From the last rule back to the 'a' rule that starts the list's effective part: that one
  // matches everything, so nothing after its block is reached.
  for (auto rule = rules.rbegin(); rule != rules.rend(); ++rule) {
    BERTH_ASSIGN_OR_RETURN(auto block, RuleBlock(*rule));
    program.insert(program.end(), block.begin(), block.end());
    if (rule->type == 'a') return program;
  }
  // No 'a' rule: what no rule matches keeps the v1 default, allowed.
  for (const auto& insn : Return(1)) program.push_back(insn);
  return program;
}

Result<void> AttachDeviceFilter(const std::string& cgroup_dir,
                                const std::vector<bpf_insn>& program) {
  UniqueFd cgroup(::open(cgroup_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!cgroup) return Error::FromErrno(errno, "open cgroup " + cgroup_dir);
  const char license[] = "Apache-2.0";
  bpf_attr load{};
  load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  load.insns = reinterpret_cast<uint64_t>(program.data());
  load.insn_cnt = static_cast<uint32_t>(program.size());
  load.license = reinterpret_cast<uint64_t>(license);
  UniqueFd loaded(static_cast<int>(::syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof load)));
  if (!loaded) {
    Error error = Error::FromErrno(errno, "load the device filter for " + cgroup_dir);
    // Again with the verifier's log, only to explain: a log that does not fit fails a load with
    // ENOSPC (before 6.4), so the first load runs without one.
    char log[16384] = {};
    load.log_buf = reinterpret_cast<uint64_t>(log);
    load.log_size = sizeof log;
    load.log_level = 1;
    UniqueFd again(static_cast<int>(::syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof load)));
    if (log[0] == '\0') return error;
    return Internal(error.message() + " (verifier: " + std::string(log, strnlen(log, sizeof log)) +
                    ")");
  }
  bpf_attr attach{};
  attach.target_fd = static_cast<uint32_t>(cgroup.get());
  attach.attach_bpf_fd = static_cast<uint32_t>(loaded.get());
  attach.attach_type = BPF_CGROUP_DEVICE;
  attach.attach_flags = BPF_F_ALLOW_MULTI;
  if (::syscall(SYS_bpf, BPF_PROG_ATTACH, &attach, sizeof attach) != 0) {
    return Error::FromErrno(errno, "attach the device filter to " + cgroup_dir);
  }
  return Ok();
}

}  // namespace berth::runtime
