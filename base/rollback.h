// A rollback ledger for multi-step creates: each step registers its undo; unless Commit() is
// called, the undos run in reverse order when the ledger goes out of scope.
#pragma once

#include <functional>
#include <vector>

namespace berth {

class Rollback {
 public:
  Rollback() = default;
  Rollback(const Rollback&) = delete;
  Rollback& operator=(const Rollback&) = delete;
  ~Rollback() {
    if (committed_) return;
    for (auto it = undos_.rbegin(); it != undos_.rend(); ++it) (*it)();
  }

  void Add(std::function<void()> undo) { undos_.push_back(std::move(undo)); }
  void Commit() { committed_ = true; }

 private:
  std::vector<std::function<void()>> undos_;
  bool committed_ = false;
};

}  // namespace berth
