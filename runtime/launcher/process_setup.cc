#include "runtime/launcher/process_setup.h"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "base/file_util.h"
#include "base/process_util.h"

namespace berth::runtime::launcher_internal {
namespace {

std::string EnvValue(const std::vector<std::string>& env, const std::string& name) {
  for (const auto& entry : env)
    if (entry.size() > name.size() && entry.compare(0, name.size(), name) == 0 &&
        entry[name.size()] == '=')
      return entry.substr(name.size() + 1);
  return "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
}

Result<void> CheckExecutable(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Error::FromErrno(errno, "exec " + path);
  if (!S_ISREG(st.st_mode) || (st.st_mode & 0111) == 0)
    return Error::FromErrno(EACCES, "exec " + path);
  return Ok();
}

}  // namespace

// Looked up in the container's own PATH (from process.env) after pivot_root, so a missing binary
// fails CreateContainer rather than the start.
Result<std::string> FindExecutable(const std::vector<std::string>& args,
                                   const std::vector<std::string>& env) {
  if (args.empty()) return InvalidArgument("no command to run");
  const std::string& name = args[0];
  if (name.find('/') != std::string::npos) {
    BERTH_TRY(CheckExecutable(name));
    return name;
  }
  std::string path = EnvValue(env, "PATH");
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = std::min(path.find(':', start), path.size());
    std::string candidate =
        (end == start ? std::string(".") : path.substr(start, end - start)) + "/" + name;
    if (CheckExecutable(candidate).ok()) return candidate;
    start = end + 1;
  }
  return NotFound("exec " + name + ": executable file not found in $PATH");
}

namespace {

Result<void> DropBoundingSet(const oci::Process& process, int last_capability) {
  const auto& caps = process.capabilities;
  for (int cap = 0; cap <= last_capability; ++cap)
    if (!(caps->bounding & (uint64_t{1} << cap)) && ::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 &&
        errno != EINVAL)
      return Error::FromErrno(errno,
                              "drop capability " + std::to_string(cap) + " from the bounding set");
  return Ok();
}

// Raw syscalls: glibc's wrappers would try to change the credentials of every thread the caller
// had, and those threads do not exist in this child.
Result<void> SetIds(const oci::Process& process) {
  const auto& groups = process.additional_gids;
  if (::syscall(SYS_setgroups, groups.size(), groups.data()) != 0)
    return Error::FromErrno(errno, "setgroups");
  if (::syscall(SYS_setresgid, process.gid, process.gid, process.gid) != 0)
    return Error::FromErrno(errno, "setgid " + std::to_string(process.gid));
  if (::syscall(SYS_setresuid, process.uid, process.uid, process.uid) != 0)
    return Error::FromErrno(errno, "setuid " + std::to_string(process.uid));
  return Ok();
}

Result<void> SetCapabilitySets(const oci::Capabilities& caps) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (::syscall(SYS_capget, &header, data) != 0) return Error::FromErrno(errno, "capget");
  // Only what this process still holds can be kept (CAP_SYS_RESOURCE may be missing on the host).
  uint64_t held = data[0].permitted | (uint64_t{data[1].permitted} << 32);
  const uint64_t sets[3] = {caps.effective & held, caps.permitted & held, caps.inheritable & held};
  for (int i = 0; i < 2; ++i) {
    data[i].effective = static_cast<uint32_t>(sets[0] >> (32 * i));
    data[i].permitted = static_cast<uint32_t>(sets[1] >> (32 * i));
    data[i].inheritable = static_cast<uint32_t>(sets[2] >> (32 * i));
  }
  if (::syscall(SYS_capset, &header, data) != 0) return Error::FromErrno(errno, "capset");
  for (int cap = 0; cap < 64; ++cap)
    if ((caps.ambient & sets[1] & sets[2] & (uint64_t{1} << cap)) &&
        ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0)
      return Error::FromErrno(errno, "raise ambient capability " + std::to_string(cap));
  return Ok();
}

}  // namespace

Result<void> SetUserAndCapabilities(const oci::Process& process, int last_capability) {
  if (!process.capabilities) return SetIds(process);
  BERTH_TRY(DropBoundingSet(process, last_capability));
  // Keep the permitted set across setuid(non-zero); capset then trims it to the spec's sets.
  if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0)
    return Error::FromErrno(errno, "keep capabilities");
  BERTH_TRY(SetIds(process));
  if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0)
    return Error::FromErrno(errno, "keep capabilities");
  return SetCapabilitySets(*process.capabilities);
}

Result<void> SetNoNewPrivileges(const oci::Process& process) {
  if (process.no_new_privileges && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    return Error::FromErrno(errno, "no_new_privs");
  return Ok();
}

Result<void> ExecProcess(const std::vector<std::string>& args, const std::vector<std::string>& env,
                         const std::string& executable) {
  std::vector<char*> argv = CStringArray(args);
  std::vector<char*> envp = CStringArray(env);
  ::umask(022);
  ::execve(executable.c_str(), argv.data(), envp.data());
  return Error::FromErrno(errno, "exec " + executable);
}

int LastCapability() {
  auto text = ReadFile("/proc/sys/kernel/cap_last_cap", 64);
  return text.ok() ? std::atoi(text->c_str()) : 40;
}

}  // namespace berth::runtime::launcher_internal
