// SingleFlight: concurrent calls for the same key run the work once and all get its result
// (two identical pulls share one download).
#pragma once

#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <string>

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
    promise.set_value(result);
    lock.lock();
    in_flight_.erase(key);
    return result;
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::shared_future<T>> in_flight_;
};

}  // namespace berth
