#include "security/apparmor.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <mutex>
#include <sstream>

#include "base/child_reaper.h"
#include "base/file_util.h"
#include "base/process_util.h"
#include "base/spawn.h"
#include "base/unique_fd.h"

extern char** environ;

namespace berth::security {
namespace {

constexpr char kAppArmorFs[] = "/sys/kernel/security/apparmor";
constexpr char kAppArmorDir[] = "/etc/apparmor.d";

Error NotSupported() {
  return FailedPrecondition(
      "apparmor is not supported: AppArmor is not enabled in this kernel; ask for an Unconfined "
      "AppArmor profile or none");
}

std::string FindParser() {
  for (const char* dir : {"/sbin", "/usr/sbin"}) {
    std::string candidate = std::string(dir) + "/apparmor_parser";
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  const char* path = getenv("PATH");
  std::stringstream dirs(path ? path : "");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    std::string candidate = dir + "/apparmor_parser";
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

// Runs `argv` with `input` on stdin; on failure the error carries its output (bounded).
Result<void> RunWithStdin(const std::vector<std::string>& argv, const std::string& input) {
  int in_pipe[2], err_pipe[2];
  if (pipe2(in_pipe, O_CLOEXEC) != 0) return Error::FromErrno(errno, "pipe");
  UniqueFd in_read(in_pipe[0]), in_write(in_pipe[1]);
  if (pipe2(err_pipe, O_CLOEXEC) != 0) return Error::FromErrno(errno, "pipe");
  UniqueFd err_read(err_pipe[0]), err_write(err_pipe[1]);

  std::vector<std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry) env.emplace_back(*entry);
  SpawnRequest spawn{argv, env, {in_read.get(), err_write.get(), err_write.get()}};
  BERTH_ASSIGN_OR_RETURN(pid_t pid, Spawn(spawn));
  in_read.reset();
  err_write.reset();

  // The profile is a few KiB, below the pipe buffer, so writing all before reading cannot
  // deadlock. berthd ignores SIGPIPE (base/signals), so a parser that exits early gives EPIPE.
  size_t written = 0;
  while (written < input.size()) {
    ssize_t n = write(in_write.get(), input.data() + written, input.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    written += static_cast<size_t>(n);
  }
  in_write.reset();
  std::string output;
  char buffer[4096];
  while (true) {
    ssize_t n = read(err_read.get(), buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (output.size() < 16384) output.append(buffer, static_cast<size_t>(n));
  }
  int status = WaitClaimedChild(pid).value_or(-1);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Ok();
  while (!output.empty() && (output.back() == '\n' || output.back() == ' ')) output.pop_back();
  return Internal(argv[0] + " failed (status " + std::to_string(status) + "): " + output);
}

}  // namespace

bool AppArmorEnabled() {
  auto enabled = ReadFile("/sys/module/apparmor/parameters/enabled", 64);
  return enabled.ok() && !enabled->empty() && (*enabled)[0] == 'Y' && PathExists(kAppArmorFs);
}

AppArmorHostMacros HostAppArmorMacros() {
  AppArmorHostMacros macros;
  macros.abi_3_0 = PathExists(std::string(kAppArmorDir) + "/abi/3.0");
  macros.tunables_global = PathExists(std::string(kAppArmorDir) + "/tunables/global");
  macros.abstractions_base = PathExists(std::string(kAppArmorDir) + "/abstractions/base");
  return macros;
}

std::string DefaultAppArmorProfileText(const AppArmorHostMacros& macros) {
  const std::string name(kAppArmorDefaultProfileName);
  std::string text;
  text += "# " + name + ": the AppArmor profile berth gives containers that ask for the\n";
  text +=
      "# RuntimeDefault AppArmor profile (berthd loads it with apparmor_parser when missing).\n";
  if (macros.abi_3_0) text += "abi <abi/3.0>,\n";
  text += macros.tunables_global ? "#include <tunables/global>\n" : "@{PROC}=/proc/\n";
  text += "\nprofile " + name + " flags=(attach_disconnected,mediate_deleted) {\n";
  if (macros.abstractions_base) text += "  #include <abstractions/base>\n\n";
  text +=
      "  network,\n"
      "  capability,\n"
      "  file,\n"
      "  umount,\n"
      "\n"
      "  # Host processes (berthd, the monitor, kubelet's probes run unconfined) may signal the\n"
      "  # container; its processes may signal each other.\n"
      "  signal (receive) peer=unconfined,\n"
      "  signal (send,receive) peer=" +
      name +
      ",\n"
      "\n"
      "  # procfs: no writes to files directly in /proc, nor anywhere but /proc/<pid>/ and\n"
      "  # /proc/sys/kernel/shm*; sysrq-trigger and kcore are off limits.\n"
      "  deny @{PROC}/* w,\n"
      "  deny @{PROC}/{[^1-9/],[^1-9/][^0-9/],[^1-9s/][^0-9y/][^0-9s/],"
      "[^1-9/][^0-9/][^0-9/][^0-9/]*}/** w,\n"
      "  deny @{PROC}/sys/[^k]** w,\n"
      "  deny @{PROC}/sys/kernel/{?,??,[^s][^h][^m]**} w,\n"
      "  deny @{PROC}/sysrq-trigger rwklx,\n"
      "  deny @{PROC}/kcore rwklx,\n"
      "\n"
      "  deny mount,\n"
      "\n"
      "  # sysfs: read-only except below /sys/fs/cgroup; firmware, powercap (energy counters leak\n"
      "  # secrets) and securityfs not even readable.\n"
      "  deny /sys/[^f]*/** wklx,\n"
      "  deny /sys/f[^s]*/** wklx,\n"
      "  deny /sys/fs/[^c]*/** wklx,\n"
      "  deny /sys/fs/c[^g]*/** wklx,\n"
      "  deny /sys/fs/cg[^r]*/** wklx,\n"
      "  deny /sys/firmware/** rwklx,\n"
      "  deny /sys/devices/virtual/powercap/** rwklx,\n"
      "  deny /sys/kernel/security/** rwklx,\n"
      "\n"
      "  # Processes of the container may trace each other (when other LSMs and yama allow it).\n"
      "  ptrace (trace,tracedby,read,readby) peer=" +
      name +
      ",\n"
      "}\n";
  return text;
}

Result<bool> AppArmorProfileLoaded(std::string_view name) {
  auto profiles = ReadFile(std::string(kAppArmorFs) + "/profiles", 16 << 20);
  if (!profiles.ok()) return std::move(profiles).error().Wrap("list loaded AppArmor profiles");
  std::stringstream lines(*profiles);
  std::string line;
  std::string prefix = std::string(name) + " (";
  while (std::getline(lines, line))
    if (line.starts_with(prefix)) return true;
  return false;
}

Result<void> EnsureDefaultProfileLoaded() {
  static std::mutex mutex;
  static bool loaded = false;
  std::lock_guard<std::mutex> lock(mutex);
  if (loaded) return Ok();
  if (!AppArmorEnabled()) return NotSupported();
  BERTH_ASSIGN_OR_RETURN(bool present, AppArmorProfileLoaded(kAppArmorDefaultProfileName));
  if (!present) {
    std::string parser = FindParser();
    if (parser.empty())
      return FailedPrecondition(
          "load AppArmor profile berth-default: apparmor_parser not found "
          "(install the apparmor package)");
    auto run = RunWithStdin({parser, "-Kr"}, DefaultAppArmorProfileText(HostAppArmorMacros()));
    if (!run.ok()) return std::move(run).error().Wrap("load AppArmor profile berth-default");
  }
  loaded = true;
  return Ok();
}

Result<std::string> ResolveAppArmorProfile(const AppArmorRequest& request, bool privileged,
                                           bool apparmor_enabled) {
  if (request.type != AppArmorProfileType::kLocalhost && !request.localhost_ref.empty())
    return InvalidArgument("apparmor: localhost_ref is only allowed with a Localhost profile");
  if (!apparmor_enabled) {
    if (request.type == AppArmorProfileType::kUnset ||
        request.type == AppArmorProfileType::kUnconfined)
      return std::string();
    return NotSupported();
  }
  switch (request.type) {
    case AppArmorProfileType::kUnset:
    case AppArmorProfileType::kRuntimeDefault:
      if (privileged) return std::string();
      return std::string(kAppArmorDefaultProfileName);
    case AppArmorProfileType::kUnconfined: return std::string();
    case AppArmorProfileType::kLocalhost: break;
  }
  std::string name = request.localhost_ref;
  if (name.starts_with("localhost/")) name.erase(0, std::strlen("localhost/"));
  if (name.empty()) return InvalidArgument("apparmor: Localhost profile without a name");
  BERTH_ASSIGN_OR_RETURN(bool loaded, AppArmorProfileLoaded(name));
  if (!loaded) return NotFound("apparmor profile not found: " + name);
  return name;
}

int PrepareApplyOnExecRaw(const char* profile) noexcept {
  if (profile == nullptr || profile[0] == '\0' || std::strcmp(profile, "unconfined") == 0) return 0;
  char command[4096];
  size_t length = std::strlen(profile);
  if (length > sizeof(command) - 8) return ENAMETOOLONG;
  std::memcpy(command, "exec ", 5);
  std::memcpy(command + 5, profile, length);
  length += 5;
  int fd = open("/proc/thread-self/attr/apparmor/exec", O_WRONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) fd = open("/proc/thread-self/attr/exec", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT ? EOPNOTSUPP : errno;
  ssize_t n = write(fd, command, length);
  int err = n == static_cast<ssize_t>(length) ? 0 : (n < 0 ? errno : EIO);
  close(fd);
  return err;
}

Result<void> PrepareApplyOnExec(std::string_view profile) {
  if (profile.empty() || profile == "unconfined") return Ok();
  std::string name(profile);
  int err = PrepareApplyOnExecRaw(name.c_str());
  if (err == 0) return Ok();
  // Without AppArmor the write fails (EINVAL from the LSM hook, or no attr file at all).
  if (err == EOPNOTSUPP || (err == EINVAL && !AppArmorEnabled())) return NotSupported();
  return Error::FromErrno(err, "apply AppArmor profile " + name + " on exec");
}

Result<void> CheckApplyOnExecSupported(std::string_view profile) {
  if (profile.empty() || profile == "unconfined") return Ok();
  if (!AppArmorEnabled()) return NotSupported();
  return Ok();
}

}  // namespace berth::security
