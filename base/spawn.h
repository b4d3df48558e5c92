// The one way berthd starts another program (berth-exec, CNI plugins, apparmor_parser): the child
// gets exactly the fds it is given, an empty signal mask and default signal dispositions (berthd
// blocks and ignores signals that must not leak into a child through exec), and nothing else of
// berthd's: every other fd is closed, whether or not it was opened close-on-exec.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "base/result.h"

namespace berth {

struct SpawnRequest {
  std::vector<std::string> argv;  // argv[0] is the program's path (no PATH lookup)
  std::vector<std::string> env;   // the child's whole environment
  // The child's fd i is the caller's fds[i]; -1 gives /dev/null for 0-2 (and is invalid above).
  std::vector<int> fds = {-1, -1, -1};
  bool new_session = false;        // setsid(): its own session (and process group)
  bool new_process_group = false;  // setpgid(0, 0): a timeout can kill its helpers with it
};

// Starts the child, claimed (base/child_reaper.h): the caller reaps it with WaitClaimedChild, or
// reaps it itself and calls ReleaseChild.
Result<pid_t> Spawn(const SpawnRequest& request);

}  // namespace berth
