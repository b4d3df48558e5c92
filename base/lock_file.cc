#include "base/lock_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "base/file_util.h"

namespace berth {

Result<LockFile> LockFile::Acquire(const std::string& path, const std::string& what) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(path, O_RDWR | O_CREAT, 0600));
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) return Error::FromErrno(errno, "lock " + path);
    char buffer[32] = {};
    ssize_t n = ::pread(fd.get(), buffer, sizeof buffer - 1, 0);
    std::string holder = n > 0 ? std::string(buffer, static_cast<size_t>(n)) : "";
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
    return FailedPrecondition("another berthd" + (holder.empty() ? "" : " (pid " + holder + ")") +
                              " is already using " + what + " (lock " + path + " is held)");
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd.get(), 0) != 0 || ::pwrite(fd.get(), pid.data(), pid.size(), 0) < 0) {
    return Error::FromErrno(errno, "write pid to " + path);
  }
  return LockFile(path, std::move(fd));
}

}  // namespace berth
