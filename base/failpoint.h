// Failpoints: named places in berthd's multi-step operations where a test can make it fail or
// crash, as containerd's failpoints do. Each rollback step (base/rollback.h) is one, named
// "<operation>/<step>" ("CreateContainer/snapshot"); a few others are named by hand.
//
// They are armed only through the environment of the process at start:
//   BERTH_FAILPOINTS="CreateContainer/monitor=crash,PullImage/layer=error,RunPodSandbox/network=delay:3000"
// error: the step answers Internal "failpoint <name>"; crash: the process kills itself with
// SIGKILL (no cleanup, as a power cut or OOM kill would); delay:MS: the step waits MS ms first.
// Without the variable a failpoint costs one relaxed atomic load.
#pragma once

#include <string_view>

#include "base/result.h"

namespace berth {

// Reads BERTH_FAILPOINTS; InvalidArgument for a malformed value. Call once, early in main.
Result<void> InitFailpoints();

// What the failpoint `name` is armed with, done now: Ok when it is not armed.
Result<void> Failpoint(std::string_view name);

}  // namespace berth
