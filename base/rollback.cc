#include "base/rollback.h"

#include <spdlog/spdlog.h>

#include "base/failpoint.h"

namespace berth {

Rollback::Rollback(std::string operation, std::string object)
    : operation_(std::move(operation)), object_(std::move(object)) {}

Rollback::~Rollback() {
  if (!committed_) Undo();
}

Result<void> Rollback::Done(std::string step, UndoStep undo) {
  std::string failpoint = operation_ + "/" + step;
  steps_.push_back({std::move(step), std::move(undo)});
  return Failpoint(failpoint);
}

int Rollback::Undo() {
  int failed = 0;
  while (!steps_.empty()) {
    Step step = std::move(steps_.back());
    steps_.pop_back();
    if (!step.undo) continue;
    auto undone = step.undo();
    if (!undone) {
      ++failed;
      spdlog::error("{} of {}: undo of step \"{}\" failed, left behind: {}", operation_, object_,
                    step.name, undone.error().message());
    }
  }
  return failed;
}

}  // namespace berth
