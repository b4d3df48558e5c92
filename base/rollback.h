// A rollback ledger for multi-step creates (RunPodSandbox, CreateContainer, ...). After each step
// the caller records it with Done(step, undo): the undo is kept, and the failpoint
// "<operation>/<step>" (base/failpoint.h) fires, so that tests can fail or crash after any step.
// Unless Commit() is called, the undos run in reverse order when the ledger goes out of scope;
// an undo that fails is logged with the step and the object it concerns, and the rest still run.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/result.h"

namespace berth {

class Rollback {
 public:
  using UndoStep = std::function<Result<void>()>;

  // `operation` names the failpoints ("CreateContainer"); `object` is what the log names when an
  // undo fails ("container 3f2a... in pod 9c1e...").
  Rollback(std::string operation, std::string object);
  Rollback(const Rollback&) = delete;
  Rollback& operator=(const Rollback&) = delete;
  ~Rollback();

  // Records a finished step and its undo (may be empty), then runs its failpoint.
  Result<void> Done(std::string step, UndoStep undo = nullptr);
  // Keeps everything: the operation succeeded.
  void Commit() { committed_ = true; }
  // Runs the undos now, newest first; returns how many failed. Idempotent.
  int Undo();

  const std::string& object() const { return object_; }

 private:
  struct Step {
    std::string name;
    UndoStep undo;
  };
  std::string operation_;
  std::string object_;
  std::vector<Step> steps_;
  bool committed_ = false;
};

}  // namespace berth
