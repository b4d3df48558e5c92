#include "runtime/process.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>

#include "base/file_util.h"
#include "base/parse_number.h"

namespace berth::runtime {

uint64_t ProcessStartTime(pid_t pid) {
  if (pid <= 0) return 0;
  auto text = ReadFile("/proc/" + std::to_string(pid) + "/stat", 4096);
  if (!text) return 0;
  // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
  size_t close = text->rfind(')');
  if (close == std::string::npos) return 0;
  std::string_view rest = std::string_view(*text).substr(close + 1);
  int index = 2;
  while (!rest.empty()) {
    size_t start = rest.find_first_not_of(' ');
    if (start == std::string_view::npos) break;
    rest.remove_prefix(start);
    size_t end = rest.find_first_of(" \n");
    std::string_view field = rest.substr(0, end);
    ++index;
    if (index == 3 && (field == "Z" || field == "X")) return 0;
    if (index == 22) return ParseUint64(field).value_or(0);
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end);
  }
  return 0;
}

ProcessIdentity IdentifyProcess(pid_t pid) {
  return {pid, ProcessStartTime(pid)};
}

bool ProcessAlive(const ProcessIdentity& process) {
  return process.pid > 0 && process.start_time != 0 &&
         ProcessStartTime(process.pid) == process.start_time;
}

Result<UniqueFd> OpenProcess(const ProcessIdentity& process) {
  if (process.pid <= 0 || process.start_time == 0) return NotFound("no such process");
  long fd = ::syscall(SYS_pidfd_open, process.pid, 0);
  if (fd < 0) {
    if (errno == ESRCH) return NotFound("process " + std::to_string(process.pid) + " is gone");
    return Error::FromErrno(errno, "pidfd_open " + std::to_string(process.pid));
  }
  UniqueFd pidfd(static_cast<int>(fd));
  // Checked after opening: the pidfd now holds this PID, so a match means this very process.
  if (ProcessStartTime(process.pid) != process.start_time) {
    return NotFound("process " + std::to_string(process.pid) + " is gone");
  }
  return pidfd;
}

bool WaitProcessExit(const UniqueFd& pidfd, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd wait{pidfd.get(), POLLIN, 0};
    int ready = ::poll(&wait, 1, static_cast<int>(std::max<int64_t>(left.count(), 0)));
    if (ready > 0) return true;
    if (ready == 0) return false;
    if (errno != EINTR) return false;
  }
}

bool KillProcess(const ProcessIdentity& process, std::chrono::milliseconds limit) {
  auto pidfd = OpenProcess(process);
  if (!pidfd) return true;
  ::syscall(SYS_pidfd_send_signal, pidfd->get(), SIGKILL, nullptr, 0);
  return WaitProcessExit(*pidfd, limit);
}

std::vector<ProcessCommandLine> FindProcesses(const std::string& program) {
  std::vector<ProcessCommandLine> found;
  UniqueFd proc(::open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!proc) return found;
  DIR* listing = ::fdopendir(::dup(proc.get()));
  if (listing == nullptr) return found;
  while (dirent* entry = ::readdir(listing)) {
    auto pid = ParseUint64(entry->d_name, INT32_MAX);
    if (!pid) continue;
    auto text = ReadFile("/proc/" + std::string(entry->d_name) + "/cmdline", 64 << 10);
    if (!text || text->empty()) continue;
    std::vector<std::string> argv;
    size_t start = 0;
    while (start < text->size()) {
      size_t end = text->find('\0', start);
      if (end == std::string::npos) end = text->size();
      argv.push_back(text->substr(start, end - start));
      start = end + 1;
    }
    std::string name = argv.front().substr(argv.front().find_last_of('/') + 1);
    if (name != program) continue;
    ProcessIdentity identity = IdentifyProcess(static_cast<pid_t>(*pid));
    if (identity.start_time != 0) found.push_back({identity, std::move(argv)});
  }
  ::closedir(listing);
  return found;
}

}  // namespace berth::runtime
