// An exclusive advisory lock on a file (flock), held for the life of the object, with the holder's
// pid written inside so a second process can say who holds it.
#pragma once

#include <string>

#include "base/result.h"
#include "base/unique_fd.h"

namespace berth {

class LockFile {
 public:
  // Takes the lock without waiting. When another process holds it: FailedPrecondition naming
  // `what` and that process's pid.
  static Result<LockFile> Acquire(const std::string& path, const std::string& what);

  LockFile(LockFile&&) = default;
  LockFile& operator=(LockFile&&) = default;
  // The lock file stays on disk (removing it would race with a new holder); the lock is released
  // when the fd closes.
  ~LockFile() = default;

  const std::string& path() const { return path_; }

 private:
  LockFile(std::string path, UniqueFd fd) : path_(std::move(path)), fd_(std::move(fd)) {}
  std::string path_;
  UniqueFd fd_;
};

}  // namespace berth
