// The last resort of berthd's shutdown: once armed, calls `on_expiry` (which ends the process)
// if the shutdown has not finished by the deadline, whatever is blocking it (a CRI handler stuck
// in a read that never returns, a streaming session, a destructor joining a thread). Declared
// before everything the shutdown tears down, so that it is destroyed, and disarmed, last.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace berth {

class ShutdownWatchdog {
 public:
  ShutdownWatchdog() = default;
  ~ShutdownWatchdog();
  ShutdownWatchdog(const ShutdownWatchdog&) = delete;
  ShutdownWatchdog& operator=(const ShutdownWatchdog&) = delete;

  // Starts the countdown (once; later calls are ignored). `on_expiry` runs on the watchdog's own
  // thread, so it may use only what outlives this object, and should not return.
  void Arm(std::chrono::steady_clock::time_point deadline, std::function<void()> on_expiry);

 private:
  std::mutex mutex_;
  std::condition_variable finished_;
  bool done_ = false;
  std::thread thread_;
};

}  // namespace berth
