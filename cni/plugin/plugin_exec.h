// Runs one CNI plugin executable: the one exec berth makes on purpose, because exec is the CNI
// protocol. The plugin gets a clean process: only stdin/stdout/stderr open, default signal
// dispositions, an empty signal mask and its own process group (so a timeout kills its helpers,
// e.g. the iptables it runs, too). Its output is bounded and it is killed at the deadline.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace berth::cni {

struct ExecLimits {
  std::chrono::milliseconds timeout{60'000};
  size_t max_stdout = 1 << 20;   // a result or an error object; more is a broken plugin
  size_t max_stderr = 64 << 10;  // kept for messages; the rest is read and dropped
};

struct ExecOutput {
  int exit_code = -1;  // -1 when killed by a signal
  int term_signal = 0;
  std::string out;
  std::string err;
};

// Runs `path` with argv[0] = path, environment `env` ("KEY=VALUE"), and `input` on stdin.
// A plugin that exits non-zero is not an error here (its stdout carries the CNI error); failing to
// start it, the deadline (DeadlineExceeded) and oversized stdout (ResourceExhausted) are.
Result<ExecOutput> ExecPlugin(const std::string& path, const std::vector<std::string>& env,
                              std::string_view input, const ExecLimits& limits = {});

}  // namespace berth::cni
