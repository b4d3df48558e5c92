// A StreamingRuntime for tests: "containers" are host processes (`/bin/sh -c <cmd>` in a process
// group of their own, with a real pty for tty), and a pod's ports are 127.0.0.1's.
#pragma once

#include <mutex>
#include <set>

#include "cri/streaming/streaming_runtime.h"

namespace berth::streaming::testing {

class HostProcessRuntime : public StreamingRuntime {
 public:
  Result<std::unique_ptr<ProcessSession>> Exec(const ExecRequest& request) override;
  // Attach runs the container id as a shell command (the test's stand-in for the container's
  // main process); Cancel() detaches by killing it as well.
  Result<std::unique_ptr<ProcessSession>> Attach(const AttachRequest& request) override;
  Result<UniqueFd> DialPodPort(const std::string& pod_id, int32_t port) override;

  // Pids started and not yet reaped.
  std::set<pid_t> live_pids() const;
  int started() const;

  void Forget(pid_t pid);

 private:
  Result<std::unique_ptr<ProcessSession>> Start(const std::string& command, bool tty, bool in,
                                                bool out, bool err);
  mutable std::mutex mu_;
  std::set<pid_t> live_;
  int started_ = 0;
};

}  // namespace berth::streaming::testing
