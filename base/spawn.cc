#include "base/spawn.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

#include <cerrno>

#include "base/child_reaper.h"
#include "base/process_util.h"
#include "base/unique_fd.h"

namespace berth {
namespace {

// posix_spawn's attribute objects with their destructors.
class SpawnAttributes {
 public:
  SpawnAttributes() {
    ::posix_spawn_file_actions_init(&actions_);
    ::posix_spawnattr_init(&attrs_);
  }
  ~SpawnAttributes() {
    ::posix_spawn_file_actions_destroy(&actions_);
    ::posix_spawnattr_destroy(&attrs_);
  }
  SpawnAttributes(const SpawnAttributes&) = delete;
  SpawnAttributes& operator=(const SpawnAttributes&) = delete;

  posix_spawn_file_actions_t actions_;
  posix_spawnattr_t attrs_;
};

}  // namespace

Result<pid_t> Spawn(const SpawnRequest& request) {
  if (request.argv.empty()) return InvalidArgument("spawn: no program given");
  const std::string& program = request.argv.front();
  // Each given fd is first copied above every target number (close-on-exec), so that a target
  // never overwrites a source another target still needs; dup2 in the child clears the flag.
  std::vector<UniqueFd> sources;
  int above = static_cast<int>(request.fds.size()) + 3;
  for (size_t i = 0; i < request.fds.size(); ++i) {
    if (request.fds[i] < 0) {
      if (i > 2)
        return InvalidArgument("spawn " + program + ": fd " + std::to_string(i) + " unset");
      sources.emplace_back();
      continue;
    }
    int copy = ::fcntl(request.fds[i], F_DUPFD_CLOEXEC, above);
    if (copy < 0) return Error::FromErrno(errno, "spawn " + program + ": copy fd");
    sources.emplace_back(copy);
  }
  SpawnAttributes spawn;
  sigset_t empty, all;
  sigemptyset(&empty);
  sigfillset(&all);
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  if (request.new_session) flags |= POSIX_SPAWN_SETSID;
  if (request.new_process_group) flags |= POSIX_SPAWN_SETPGROUP;
  int rc = 0;
  auto step = [&rc](int result) {
    if (rc == 0) rc = result;
  };
  step(::posix_spawnattr_setsigmask(&spawn.attrs_, &empty));
  step(::posix_spawnattr_setsigdefault(&spawn.attrs_, &all));
  if (request.new_process_group) step(::posix_spawnattr_setpgroup(&spawn.attrs_, 0));
  step(::posix_spawnattr_setflags(&spawn.attrs_, flags));
  for (size_t i = 0; i < sources.size(); ++i) {
    int target = static_cast<int>(i);
    if (sources[i]) {
      step(::posix_spawn_file_actions_adddup2(&spawn.actions_, sources[i].get(), target));
    } else {
      step(::posix_spawn_file_actions_addopen(&spawn.actions_, target, "/dev/null",
                                              target == 0 ? O_RDONLY : O_WRONLY, 0));
    }
  }
  step(::posix_spawn_file_actions_addclosefrom_np(&spawn.actions_,
                                                  static_cast<int>(request.fds.size())));
  if (rc != 0) return Error::FromErrno(rc, "prepare to run " + program);
  auto argv = CStringArray(request.argv);
  auto envp = CStringArray(request.env);
  pid_t pid = -1;
  ClaimedStart start;
  rc = ::posix_spawn(&pid, program.c_str(), &spawn.actions_, &spawn.attrs_, argv.data(),
                     envp.data());
  if (rc == 0) start.Claim(pid);
  if (rc != 0) return Error::FromErrno(rc, "run " + program);
  return pid;
}

}  // namespace berth
