#include "base/child_reaper.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <map>
#include <thread>

#include "base/file_util.h"
#include "base/parse_number.h"

namespace berth {
namespace {

std::mutex g_claims_mutex;
std::map<pid_t, int> g_claims;  // pid -> claims (a reused pid may briefly be claimed twice)
std::atomic<uint64_t> g_reaped{0};

void AddClaim(pid_t pid) {
  if (pid > 0) ++g_claims[pid];
}

// Appends the pids in a whitespace-separated list ("12 345 ").
void AppendPids(const std::string& text, std::vector<pid_t>& pids) {
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find(' ', at);
    if (end == std::string::npos) end = text.size();
    if (auto pid = ParseInt64(text.substr(at, end - at), 1, INT32_MAX))
      pids.push_back(static_cast<pid_t>(*pid));
    at = end + 1;
  }
}

// Without CONFIG_PROC_CHILDREN: every process whose parent (the field after the command's ')') is
// us.
std::vector<pid_t> ChildrenByScanningProc() {
  std::vector<pid_t> pids;
  std::string self = std::to_string(::getpid());
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    auto pid = ParseInt64(entry.path().filename().string(), 1, INT32_MAX);
    if (!pid) continue;
    auto stat = ReadFile(entry.path().string() + "/stat", 4096);
    if (!stat) continue;
    size_t close = stat->rfind(')');
    if (close == std::string::npos || close + 4 >= stat->size()) continue;
    size_t ppid_at = close + 4;  // ") S <ppid> "
    size_t ppid_end = stat->find(' ', ppid_at);
    if (stat->substr(ppid_at, ppid_end - ppid_at) == self) pids.push_back(static_cast<pid_t>(*pid));
  }
  return pids;
}

// Reaps every ended child nobody claimed. Listing first and deciding under the lock is enough: a
// child started after the listing is claimed before the lock is free again, and one that ends
// after it raises a new SIGCHLD.
void ReapUnclaimed() {
  std::vector<pid_t> children = ChildrenOfThisProcess();
  std::lock_guard lock(g_claims_mutex);
  for (pid_t pid : children) {
    if (g_claims.count(pid) != 0) continue;
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG) == 0 &&
        info.si_pid == pid) {
      g_reaped.fetch_add(1, std::memory_order_relaxed);
    }
  }
}

[[noreturn]] void ReapForever() {
  sigset_t child_signal;
  sigemptyset(&child_signal);
  sigaddset(&child_signal, SIGCHLD);
  while (true) {
    int received = 0;
    if (sigwait(&child_signal, &received) == 0) ReapUnclaimed();
  }
}

}  // namespace

void BlockChildSignal() {
  sigset_t child_signal;
  sigemptyset(&child_signal);
  sigaddset(&child_signal, SIGCHLD);
  pthread_sigmask(SIG_BLOCK, &child_signal, nullptr);
}

Result<void> StartChildReaper() {
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0)
    return Error::FromErrno(errno, "become child subreaper");
  std::thread(ReapForever).detach();
  // Whatever ended before the thread waited (no SIGCHLD is pending for it any more).
  ReapUnclaimed();
  return Ok();
}

uint64_t ReapedOrphans() {
  return g_reaped.load(std::memory_order_relaxed);
}

ClaimedStart::ClaimedStart() : lock_(g_claims_mutex) {}
ClaimedStart::~ClaimedStart() = default;
void ClaimedStart::Claim(pid_t pid) {
  AddClaim(pid);
}

pid_t ForkClaimedChild() {
  g_claims_mutex.lock();
  pid_t pid = ::fork();
  if (pid == 0) return 0;  // the child's copy of the lock stays taken (see the header)
  AddClaim(pid);
  g_claims_mutex.unlock();
  return pid;
}

Result<int> WaitClaimedChild(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno == EINTR) continue;
    int error = errno;
    ReleaseChild(pid);
    return Error::FromErrno(error, "wait for child " + std::to_string(pid));
  }
  ReleaseChild(pid);
  return status;
}

void ReleaseChild(pid_t pid) {
  std::lock_guard lock(g_claims_mutex);
  auto it = g_claims.find(pid);
  if (it != g_claims.end() && --it->second <= 0) g_claims.erase(it);
}

std::vector<pid_t> ChildrenOfThisProcess() {
  std::vector<pid_t> pids;
  std::error_code ec;
  bool listed = false;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task", ec)) {
    auto children = ReadFile(task.path().string() + "/children", 1 << 20);
    if (!children) continue;
    listed = true;
    AppendPids(*children, pids);
  }
  return listed ? pids : ChildrenByScanningProc();
}

}  // namespace berth
