#include "runtime/launcher/monitor.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <vector>

#include "base/child_reaper.h"
#include "base/fd_passing.h"
#include "base/file_util.h"
#include "base/parse_number.h"
#include "base/unique_fd.h"

namespace berth::runtime {
namespace {

// Runs in the forked children of a (possibly multi-threaded) berthd: only async-signal-safe calls
// until execv. The middle child exits at once, so the monitor is reparented and never berthd's.
[[noreturn]] void BecomeMonitor(const std::vector<char*>& argv, int report_fd, int answer_fd) {
  if (::setsid() < 0) ::_exit(1);
  pid_t pid = ::fork();
  if (pid != 0) ::_exit(pid < 0 ? 1 : 0);
  int null_fd = ::open("/dev/null", O_RDWR);
  // Above 4 first, so that dup2 onto 3 and 4 cannot clobber the other one.
  int report = ::fcntl(report_fd, F_DUPFD, 5), answer = ::fcntl(answer_fd, F_DUPFD, 5);
  if (null_fd < 0 || report < 0 || answer < 0 || ::dup2(report, 3) < 0 || ::dup2(answer, 4) < 0)
    ::_exit(1);
  for (int fd = 0; fd < 3; ++fd) ::dup2(null_fd, fd);
  ::close_range(5, ~0U, 0);
  ::execv(argv[0], argv.data());
  ::_exit(127);
}

// The monitor's one-line answer: "created <pid>" or "error <code> <message>" (Error::ToWire).
Result<std::string> ReadLine(int fd) {
  std::string line;
  char c;
  for (;;) {
    ssize_t n = ::read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::FromErrno(errno, "read from the monitor");
    if (n == 0 || c == '\n') break;
    if (line.size() < 8192) line += c;
  }
  return line;
}

Result<UniqueFd> ConnectMonitor(const std::string& state_dir) {
  std::string path = MonitorSocketPath(state_dir);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof address.sun_path)
    return InvalidArgument("monitor socket path is too long: " + path);
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!sock) return Error::FromErrno(errno, "socket");
  if (::connect(sock.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
    return Error::FromErrno(errno, "connect to the monitor at " + path);
  return sock;
}

Result<std::string> Request(const std::string& state_dir, const std::string& command) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd sock, ConnectMonitor(state_dir));
  std::string line = command + "\n";
  if (::write(sock.get(), line.data(), line.size()) != static_cast<ssize_t>(line.size()))
    return Error::FromErrno(errno, "send to the monitor");
  BERTH_ASSIGN_OR_RETURN(std::string answer, ReadLine(sock.get()));
  if (answer == "ok") return answer;
  if (answer.rfind("error ", 0) == 0) return Error::FromWire(answer.substr(6));
  return Internal("monitor answered \"" + answer + "\" to " + command);
}

}  // namespace

std::string MonitorSocketPath(const std::string& state_dir) {
  return JoinPath(state_dir, "monitor.sock");
}
std::string ExitFilePath(const std::string& state_dir) {
  return JoinPath(state_dir, "exit");
}
std::string StartFilePath(const std::string& state_dir) {
  return JoinPath(state_dir, "started");
}

std::optional<int64_t> ReadStartTime(const std::string& state_dir) {
  auto text = ReadFile(StartFilePath(state_dir), 64);
  if (!text) return std::nullopt;
  std::string_view digits(*text);
  while (!digits.empty() && digits.back() == '\n') digits.remove_suffix(1);
  auto nanos = ParseInt64(digits, 0);
  if (!nanos) return std::nullopt;
  return *nanos;
}

Result<MonitoredContainer> SpawnMonitor(const MonitorRequest& request) {
  BERTH_TRY(MakeDirs(request.state_dir, 0700));
  std::vector<std::string> args = {request.monitor_binary, request.bundle_dir, request.state_dir,
                                   request.log_path};
  if (request.stdin) args.push_back(request.stdin_once ? "stdin-once" : "stdin");
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  int fds[2], answers[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Error::FromErrno(errno, "pipe");
  UniqueFd report_read(fds[0]), report_write(fds[1]);
  if (::pipe2(answers, O_CLOEXEC) != 0) return Error::FromErrno(errno, "pipe");
  UniqueFd answer_read(answers[0]), answer_write(answers[1]);
  pid_t middle = ForkClaimedChild();
  if (middle < 0) return Error::FromErrno(errno, "fork");
  if (middle == 0) BecomeMonitor(argv, report_write.get(), answer_read.get());
  report_write.reset();
  answer_read.reset();
  (void)WaitClaimedChild(middle);
  std::string line;
  while (true) {
    BERTH_ASSIGN_OR_RETURN(line, ReadLine(report_read.get()));
    if (line.rfind("place ", 0) != 0) break;
    // The init waits in its setup for its systemd scope (see InitPlacer).
    int pid = 0;
    Result<void> placed =
        std::sscanf(line.c_str(), "place %d", &pid) == 1 && pid > 0 && request.place_init
            ? request.place_init(pid)
            : FailedPrecondition(
                  "berth-monitor asked to place a container's init in its cgroup, which "
                  "only a systemd scope needs");
    std::string answer = placed ? "ok\n" : "error " + placed.error().ToWire() + "\n";
    if (::write(answer_write.get(), answer.data(), answer.size()) !=
        static_cast<ssize_t>(answer.size())) {
      return Error::FromErrno(errno, "answer berth-monitor");
    }
  }
  if (line.rfind("error ", 0) == 0) return Error::FromWire(line.substr(6));
  MonitoredContainer result;
  if (std::sscanf(line.c_str(), "created %d %d", &result.container_pid, &result.monitor_pid) != 2)
    return Internal("berth-monitor " + request.monitor_binary + " did not start (answered \"" +
                    line + "\")");
  return result;
}

Result<void> StartMonitoredContainer(const std::string& state_dir) {
  BERTH_TRY(Request(state_dir, "start"));
  return Ok();
}

Result<UniqueFd> AttachToMonitor(const std::string& state_dir, int in, int out, int err) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd sock, ConnectMonitor(state_dir));
  std::string line = "attach ";
  std::vector<int> fds;
  for (int fd : {in, out, err}) {
    line += fd >= 0 ? 'x' : '-';
    if (fd >= 0) fds.push_back(fd);
  }
  line += "\n";
  BERTH_TRY(SendWithFds(sock.get(), line, fds.data(), fds.size()));
  BERTH_ASSIGN_OR_RETURN(std::string answer, ReadLine(sock.get()));
  if (answer != "ok") return FailedPrecondition("attach: the monitor answered \"" + answer + "\"");
  return sock;
}

Result<void> SendAttachResize(int control, uint16_t width, uint16_t height) {
  std::string line = "resize " + std::to_string(width) + " " + std::to_string(height) + "\n";
  if (::send(control, line.data(), line.size(), MSG_NOSIGNAL) < 0) {
    return Error::FromErrno(errno, "resize");
  }
  return Ok();
}

std::optional<int> WaitForAttachEnd(int control) {
  std::string text;
  char buffer[256];
  for (;;) {
    ssize_t n = ::read(control, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buffer, static_cast<size_t>(n));
    if (text.size() > 4096) break;
  }
  int code = 0;
  if (std::sscanf(text.c_str(), "exit %d", &code) == 1) return code;
  return std::nullopt;
}

void InterruptAttach(int control) {
  ::shutdown(control, SHUT_RDWR);
}

Result<void> ReopenMonitoredLog(const std::string& state_dir) {
  BERTH_TRY(Request(state_dir, "reopen"));
  return Ok();
}

Result<std::optional<ExitStatus>> ReadExitStatus(const std::string& state_dir) {
  std::string path = ExitFilePath(state_dir);
  if (!PathExists(path)) return std::optional<ExitStatus>();
  BERTH_ASSIGN_OR_RETURN(std::string text, ReadFile(path, 4096));
  auto json = nlohmann::json::parse(text, nullptr, false);
  if (!json.is_object()) return Internal("exit file " + path + " is not JSON");
  ExitStatus status;
  status.exit_code = json.value("exit_code", -1);
  status.signal = json.value("signal", 0);
  status.oom_killed = json.value("oom_killed", false);
  status.finished_at_unix_nano = json.value("finished_at_unix_nano", int64_t{0});
  return std::optional<ExitStatus>(status);
}

}  // namespace berth::runtime
