// SingleFlight: concurrent calls for the same key run the work once and all get its result
// (two identical pulls share one download).
#pragma once

#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <string>

#include "base/cancel.h"

namespace berth {

template <typename T>
class SingleFlight {
 public:
  T Do(const std::string& key, const std::function<T()>& work) {
    std::unique_lock lock(mutex_);
    if (auto it = in_flight_.find(key); it != in_flight_.end()) {
      std::shared_future<T> shared = it->second;
      lock.unlock();
      return shared.get();
    }
    std::promise<T> promise;
    std::shared_future<T> shared = promise.get_future().share();
    in_flight_.emplace(key, shared);
    lock.unlock();
    T result = work();
    // Forgotten before it is published: whoever comes after the result is known starts afresh
    // (a retry after a cancelled run must not find that run again).
    lock.lock();
    in_flight_.erase(key);
    lock.unlock();
    promise.set_value(result);
    return result;
  }

  // Do for work that a CancelToken stops (T is a Result): a caller that joined another caller's
  // run and got that run's Cancelled or DeadlineExceeded (the other caller gave up, not this
  // one) runs the work again, up to `attempts` times in all, while its own `cancel` allows.
  T DoCancellable(const std::string& key, const CancelToken& cancel, const std::function<T()>& work,
                  int attempts = 3) {
    for (int attempt = 1;; ++attempt) {
      T result = Do(key, work);
      if (result.ok() || attempt >= attempts || !cancel.Check("retry").ok()) return result;
      ErrorCode code = result.error().code();
      if (code != ErrorCode::kCancelled && code != ErrorCode::kDeadlineExceeded) return result;
    }
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::shared_future<T>> in_flight_;
};

}  // namespace berth
