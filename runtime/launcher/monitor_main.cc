// berth-monitor <bundle_dir> <state_dir> <log_path> [stdin|stdin-once], fd 3: the report pipe
// to the spawner, fd 4: the spawner's answers (placing the init into a systemd scope).
// One per container; see monitor.h. Kept small (no gRPC, no spdlog, no iostreams): it lives as
// long as its container, and a node runs hundreds of them.
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/fd_passing.h"
#include "base/file_util.h"
#include "base/process_util.h"
#include "runtime/cgroup_stats.h"
#include "runtime/cgroups.h"
#include "runtime/launcher/cri_log.h"
#include "runtime/launcher/launcher.h"
#include "runtime/launcher/monitor.h"
#include "runtime/launcher/monitor_attach.h"

namespace berth::runtime {
namespace {

constexpr int kReportFd = 3;
constexpr int kAnswerFd = 4;

timespec Now() {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  return now;
}

void WriteString(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

// The spawner starts the systemd scope of a container whose cgroupsPath is in the systemd form:
// "place <pid>" on the report pipe, "ok" or "error <wire>" back (see SpawnMonitor).
Result<void> AskSpawnerToPlace(pid_t pid) {
  WriteString(kReportFd, "place " + std::to_string(pid) + "\n");
  std::string answer;
  char c = 0;
  while (answer.size() < 8192) {
    ssize_t n = ::read(kAnswerFd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || c == '\n') break;
    answer += c;
  }
  if (answer == "ok") return Ok();
  if (answer.rfind("error ", 0) == 0) return Error::FromWire(answer.substr(6));
  return Internal("berthd did not answer the placement of the container's init");
}

class Monitor {
 public:
  Monitor(std::string state_dir, std::string log_path, bool stdin, bool stdin_once)
      : state_dir_(std::move(state_dir)),
        log_path_(std::move(log_path)),
        stdin_(stdin),
        stdin_once_(stdin_once) {}

  Result<void> Create(const std::string& bundle_dir);
  void Run();
  pid_t container_pid() const { return container_->pid(); }

 private:
  Result<void> Listen();
  Result<void> BlockSignals();
  void ReopenLog();
  void Drain(int index);
  void Emit(LogStream stream, bool partial, std::string_view text);
  void HandleSignals();
  void HandleRequest();
  void RecordExit();
  Result<void> ReceiveConsole(int socket);
  void WatchOomKills();
  void ReadOomKills();

  std::string state_dir_, log_path_;
  bool stdin_ = false, stdin_once_ = false;
  UniqueFd stdin_write_;  // the container's stdin (pipe write end, or a dup of the pty master)
  UniqueFd pty_master_;
  std::unique_ptr<AttachHub> attach_;
  oci::Spec spec_;
  std::optional<CreatedContainer> container_;
  UniqueFd log_, listener_, signals_;
  UniqueFd streams_[2];  // read ends of the container's stdout and stderr
  CriLineSplitter splitters_[2];
  std::optional<int> wait_status_;
  timespec finished_at_{};
  // cgroup v2's memory.events, watched (POLLPRI) while the container runs: a systemd scope may be
  // gone by the time the exit is recorded, and with it the file.
  UniqueFd memory_events_;
  bool oom_killed_ = false;
};

void Monitor::WatchOomKills() {
  auto cgroup = ParseOciCgroupsPath(spec_.cgroups_path);
  Cgroups cgroups = Cgroups::Probe();
  if (!cgroup || cgroup->path.empty() || cgroups.v2().empty() || !cgroups.v1().empty()) return;
  memory_events_.reset(
      ::open((cgroups.v2() + cgroup->path + "/memory.events").c_str(), O_RDONLY | O_CLOEXEC));
  ReadOomKills();
}

void Monitor::ReadOomKills() {
  if (!memory_events_) return;
  char text[1024];
  ssize_t n = ::pread(memory_events_.get(), text, sizeof text - 1, 0);
  if (n <= 0) return;
  text[n] = '\0';
  if (OomKillCount(text) > 0) oom_killed_ = true;
}

// The pty master the container's init sent (process.terminal): output and input both.
Result<void> Monitor::ReceiveConsole(int socket) {
  char tag;
  std::vector<UniqueFd> fds;
  BERTH_ASSIGN_OR_RETURN(size_t n, ReceiveWithFds(socket, &tag, 1, fds, 1));
  if (n != 1 || fds.size() != 1) return Internal("the container's init sent no pty");
  pty_master_ = std::move(fds[0]);
  streams_[0].reset(::fcntl(pty_master_.get(), F_DUPFD_CLOEXEC, 3));
  if (stdin_) stdin_write_.reset(::fcntl(pty_master_.get(), F_DUPFD_CLOEXEC, 3));
  return Ok();
}

Result<void> Monitor::Create(const std::string& bundle_dir) {
  BERTH_ASSIGN_OR_RETURN(spec_, oci::LoadBundle(bundle_dir));
  ReopenLog();
  BERTH_TRY(Listen());
  StdioFds stdio;
  UniqueFd out_write, err_write, in_read, console_parent, console_child;
  if (spec_.process.terminal) {
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
      return Error::FromErrno(errno, "socketpair");
    console_parent.reset(pair[0]);
    console_child.reset(pair[1]);
    stdio.console = console_child.get();
  } else {
    int out[2], err[2];
    if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0)
      return Error::FromErrno(errno, "pipe");
    streams_[0].reset(out[0]);
    streams_[1].reset(err[0]);
    out_write.reset(out[1]);
    err_write.reset(err[1]);
    stdio.out = out_write.get();
    stdio.err = err_write.get();
    if (stdin_) {
      int in[2];
      if (::pipe2(in, O_CLOEXEC) != 0) return Error::FromErrno(errno, "pipe");
      in_read.reset(in[0]);
      stdin_write_.reset(in[1]);
      stdio.in = in_read.get();
    }
  }
  auto created = CreateContainer(spec_, stdio, AskSpawnerToPlace);
  if (!created.ok()) return std::move(created).error();
  container_.emplace(std::move(*created));
  if (spec_.process.terminal) BERTH_TRY(ReceiveConsole(console_parent.get()));
  attach_ = std::make_unique<AttachHub>(stdin_write_.get(), stdin_once_, spec_.process.terminal,
                                        pty_master_.get());
  BERTH_TRY(BlockSignals());
  WatchOomKills();
  BERTH_TRY(
      WriteFileAtomic(JoinPath(state_dir_, "container.pid"), std::to_string(container_->pid())));
  BERTH_TRY(WriteFileAtomic(JoinPath(state_dir_, "monitor.pid"), std::to_string(::getpid())));
  return Ok();
}

Result<void> Monitor::Listen() {
  std::string path = MonitorSocketPath(state_dir_);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof address.sun_path)
    return InvalidArgument("monitor socket path is too long: " + path);
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  listener_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  ::unlink(path.c_str());
  if (!listener_ ||
      ::bind(listener_.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(listener_.get(), 8) != 0)
    return Error::FromErrno(errno, "listen on " + path);
  return Ok();
}

// After the clone: the container's init must not start with these blocked (it resets them too).
Result<void> Monitor::BlockSignals() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGCHLD, SIGUSR1, SIGTERM, SIGINT, SIGHUP}) sigaddset(&set, sig);
  if (::sigprocmask(SIG_BLOCK, &set, nullptr) != 0) return Error::FromErrno(errno, "sigprocmask");
  signals_.reset(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!signals_) return Error::FromErrno(errno, "signalfd");
  ::signal(SIGPIPE, SIG_IGN);
  return Ok();
}

void Monitor::ReopenLog() {
  if (log_path_.empty()) return;
  // berthd checked the path; never follow a symlink planted since, nor block on a FIFO.
  log_.reset(::open(log_path_.c_str(),
                    O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0640));
  struct stat info {};
  if (log_.get() >= 0 && (::fstat(log_.get(), &info) != 0 || !S_ISREG(info.st_mode)))
    log_.reset(-1);
}

void Monitor::Emit(LogStream stream, bool partial, std::string_view text) {
  if (log_) WriteString(log_.get(), FormatCriLogRecord(Now(), stream, partial, text));
}

void Monitor::Drain(int index) {
  char buffer[16384];
  ssize_t n = ::read(streams_[index].get(), buffer, sizeof buffer);
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return;  // (a pty says EIO once the slave is gone)
  LogStream stream = index == 0 ? LogStream::kStdout : LogStream::kStderr;
  auto emit = [&](bool partial, std::string_view text) { Emit(stream, partial, text); };
  if (n <= 0) {
    splitters_[index].Finish(emit);
    streams_[index].reset();
    return;
  }
  splitters_[index].Feed(std::string_view(buffer, static_cast<size_t>(n)), emit);
  attach_->Broadcast(index, std::string_view(buffer, static_cast<size_t>(n)));
}

void Monitor::HandleSignals() {
  signalfd_siginfo info{};
  while (::read(signals_.get(), &info, sizeof info) == sizeof info) {
    if (info.ssi_signo == SIGUSR1) ReopenLog();
  }
  // As a subreaper we also inherit the container's orphans (a shared pid namespace): reap all.
  int status = 0;
  pid_t pid;
  while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
    if (container_ && pid == container_->pid() && !wait_status_) {
      wait_status_ = status;
      finished_at_ = Now();
    }
  }
}

void Monitor::HandleRequest() {
  UniqueFd client(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!client) return;
  timeval timeout{1, 0};  // a stuck client must not stall the logs
  ::setsockopt(client.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  char request[64] = {};
  std::vector<UniqueFd> fds;
  auto received = ReceiveWithFds(client.get(), request, sizeof request - 1, fds, 3);
  std::string command(request, received.ok() ? *received : 0);
  std::string answer = "ok\n";
  if (command.rfind("attach ", 0) == 0) {
    // "attach <i><o><e>\n": one letter per fd sent, in that order; '-' for one not sent.
    std::string which = command.substr(7, 3);
    UniqueFd given[3];
    size_t next = 0;
    for (size_t i = 0; i < 3 && i < which.size(); ++i)
      if (which[i] != '-' && next < fds.size()) given[i] = std::move(fds[next++]);
    WriteString(client.get(), answer);
    attach_->Add(std::move(client), std::move(given[0]), std::move(given[1]), std::move(given[2]));
    return;
  } else if (command == "start\n") {
    auto started = StartContainer(*container_);
    if (!started.ok()) {
      answer = "error " + started.error().ToWire() + "\n";
    } else {
      // Kept for a berthd that crashes before it records the start (see ReadStartTime).
      (void)WriteFileAtomic(StartFilePath(state_dir_), std::to_string(NowUnixNanos()) + "\n");
    }
  } else if (command == "reopen\n") {
    ReopenLog();
  } else {
    answer = "error " + InvalidArgument("unknown request").ToWire() + "\n";
  }
  WriteString(client.get(), answer);
}

void Monitor::RecordExit() {
  int status = *wait_status_;
  int signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + signal;
  // Whether the OOM killer ended it: readable only while the cgroup exists.
  ReadOomKills();
  auto cgroup = ParseOciCgroupsPath(spec_.cgroups_path);
  bool oom_killed = signal == SIGKILL &&
                    (oom_killed_ || (cgroup && CgroupHadOomKill(Cgroups::Probe(), cgroup->path)));
  (void)RemoveContainerCgroup(spec_);
  char text[256];
  int64_t nanos = static_cast<int64_t>(finished_at_.tv_sec) * 1000000000 + finished_at_.tv_nsec;
  std::snprintf(text, sizeof text,
                "{\"exit_code\":%d,\"signal\":%d,\"oom_killed\":%s,\"finished_at_unix_nano\":%lld,"
                "\"finished_at\":\"%s\"}\n",
                code, signal, oom_killed ? "true" : "false", static_cast<long long>(nanos),
                FormatRfc3339Nano(finished_at_).c_str());
  (void)WriteFileAtomic(ExitFilePath(state_dir_), text);
  ::unlink(MonitorSocketPath(state_dir_).c_str());
  attach_->Finish(code);
}

void Monitor::Run() {
  ::malloc_trim(0);  // the spec parse is done; give its heap back
  // After the exit, the pipes may still hold output (or be held by the container's orphans in a
  // shared pid namespace): drain them, but not for longer than a grace period.
  int grace_ms = 2000;
  for (;;) {
    bool streams_open = streams_[0] || streams_[1];
    if (wait_status_ && (!streams_open || grace_ms <= 0)) break;
    std::vector<pollfd> fds = {{signals_.get(), POLLIN, 0},
                               {listener_.get(), POLLIN, 0},
                               {streams_[0].get(), POLLIN, 0},
                               {streams_[1].get(), POLLIN, 0},
                               {memory_events_.get(), POLLPRI, 0}};
    attach_->AppendPollFds(fds);
    int timeout = wait_status_ ? 100 : -1;
    int ready = ::poll(fds.data(), fds.size(), timeout);
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) {
      grace_ms -= 100;
      continue;
    }
    if (fds[0].revents) HandleSignals();
    if (fds[1].revents) HandleRequest();
    for (int i = 0; i < 2; ++i)
      if (fds[2 + i].revents) Drain(i);
    if (fds[4].revents) ReadOomKills();
    attach_->HandlePollResults(fds, 5);
  }
  for (int i = 0; i < 2; ++i)
    splitters_[i].Finish([&](bool partial, std::string_view text) {
      Emit(i == 0 ? LogStream::kStdout : LogStream::kStderr, partial, text);
    });
  RecordExit();
}

int Main(int argc, char** argv) {
  ::fcntl(kReportFd, F_SETFD, FD_CLOEXEC);
  ::fcntl(kAnswerFd, F_SETFD, FD_CLOEXEC);
  std::string io = argc == 5 ? argv[4] : "";
  if ((argc != 4 && argc != 5) || (argc == 5 && io != "stdin" && io != "stdin-once")) {
    WriteString(
        kReportFd,
        "error " +
            InvalidArgument(
                "usage: berth-monitor <bundle_dir> <state_dir> <log_path> [stdin|stdin-once]")
                .ToWire() +
            "\n");
    return 2;
  }
  // Orphans of the container come to us, not to the host's PID 1 (which reaps late here).
  ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  Monitor monitor(argv[2], argv[3], !io.empty(), io == "stdin-once");
  auto created = monitor.Create(argv[1]);
  if (!created.ok()) {
    WriteString(kReportFd, "error " + created.error().ToWire() + "\n");
    return 1;
  }
  WriteString(kReportFd, "created " + std::to_string(monitor.container_pid()) + " " +
                             std::to_string(::getpid()) + "\n");
  ::close(kReportFd);
  ::close(kAnswerFd);
  monitor.Run();
  return 0;
}

}  // namespace
}  // namespace berth::runtime

int main(int argc, char** argv) {
  return berth::runtime::Main(argc, argv);
}
