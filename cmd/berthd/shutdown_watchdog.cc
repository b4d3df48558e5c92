#include "cmd/berthd/shutdown_watchdog.h"

namespace berth {

void ShutdownWatchdog::Arm(std::chrono::steady_clock::time_point deadline,
                           std::function<void()> on_expiry) {
  std::lock_guard lock(mutex_);
  if (thread_.joinable() || done_) return;
  thread_ = std::thread([this, deadline, on_expiry = std::move(on_expiry)] {
    std::unique_lock lock(mutex_);
    if (finished_.wait_until(lock, deadline, [this] { return done_; })) return;
    lock.unlock();
    on_expiry();
  });
}

ShutdownWatchdog::~ShutdownWatchdog() {
  {
    std::lock_guard lock(mutex_);
    done_ = true;
  }
  finished_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace berth
