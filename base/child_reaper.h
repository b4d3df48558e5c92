// berthd is the child subreaper of everything it starts (PR_SET_CHILD_SUBREAPER). Monitors and pod
// inits are double-forked so that they outlive berthd; while berthd runs they are reparented to it
// rather than to PID 1, and berthd's reaper thread reaps them as soon as they end, so that no
// zombie waits for a PID 1 that reaps late (or, in a container whose PID 1 is no init, never).
//
// The reaper must not take a child that berthd's own code waits for (a helper's exit status is its
// answer). Such a child is claimed from the moment it is started: ForkClaimedChild, or
// ClaimedStart around posix_spawn; its waiter reaps it with WaitClaimedChild (or reaps it itself
// and calls ReleaseChild), which drops the claim.
#pragma once

#include <sys/types.h>

#include <mutex>
#include <vector>

#include "base/result.h"

namespace berth {

// Blocks SIGCHLD in the calling thread: call before any other thread exists (as
// BlockTerminationSignals), so that only the reaper's sigwait takes it. Children forked from
// berthd inherit the mask; Spawn and every exec'd berth binary set their own.
void BlockChildSignal();

// Makes this process the subreaper of its descendants and starts the reaper thread. Unclaimed
// children that end are reaped; the number reaped so far is ReapedOrphans().
Result<void> StartChildReaper();
uint64_t ReapedOrphans();

// Holds the claims' lock from before a child is started until it is claimed, so that the reaper
// can never see the child unclaimed: { ClaimedStart start; pid = posix_spawn(...);
// start.Claim(pid); }
class ClaimedStart {
 public:
  ClaimedStart();
  ~ClaimedStart();
  ClaimedStart(const ClaimedStart&) = delete;
  ClaimedStart& operator=(const ClaimedStart&) = delete;
  void Claim(pid_t pid);

 private:
  std::unique_lock<std::mutex> lock_;
};

// fork() whose child is claimed in the parent. The forked child must not start children through
// this header (its copy of the lock stays taken); a plain fork there is fine.
pid_t ForkClaimedChild();

// waitpid(pid) that retries EINTR and then drops the claim: the wait status, or the errno error.
Result<int> WaitClaimedChild(pid_t pid);

// Drops the claim of a child its owner reaped itself.
void ReleaseChild(pid_t pid);

// The pids of this process's children (all threads'), from /proc; exposed for tests.
std::vector<pid_t> ChildrenOfThisProcess();

}  // namespace berth
