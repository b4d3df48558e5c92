// Cancellation for long operations (pulls, waits): a deadline plus an explicit cancel flag, checked
// by the operation at its own pace (e.g. from libcurl's progress callback).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>

#include "base/result.h"

namespace berth {

class CancelToken {
 public:
  using Clock = std::chrono::system_clock;

  // Never cancelled, no deadline.
  CancelToken() : state_(std::make_shared<State>()) {}
  explicit CancelToken(Clock::time_point deadline) : CancelToken() { state_->deadline = deadline; }

  // Copies share the flag: cancelling one cancels all.
  void Cancel() const { state_->cancelled = true; }
  bool cancelled() const { return state_->cancelled.load(); }
  Clock::time_point deadline() const { return state_->deadline; }
  bool expired() const { return Clock::now() >= state_->deadline; }
  // The deadline on the steady clock, for waits (no deadline: the steady clock's max).
  std::chrono::steady_clock::time_point SteadyDeadline() const {
    if (state_->deadline == Clock::time_point::max())
      return std::chrono::steady_clock::time_point::max();
    auto left = state_->deadline - Clock::now();
    return std::chrono::steady_clock::now() +
           std::chrono::duration_cast<std::chrono::steady_clock::duration>(left);
  }

  // Ok while the operation may go on; Cancelled or DeadlineExceeded (naming `what`) otherwise.
  Result<void> Check(const char* what) const {
    if (cancelled()) return Error(ErrorCode::kCancelled, std::string(what) + ": cancelled");
    if (expired()) return DeadlineExceeded(std::string(what) + ": deadline exceeded");
    return Ok();
  }

 private:
  struct State {
    std::atomic<bool> cancelled{false};
    Clock::time_point deadline = Clock::time_point::max();
  };
  std::shared_ptr<State> state_;
};

}  // namespace berth
