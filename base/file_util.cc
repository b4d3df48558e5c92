#include "base/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "base/random.h"

namespace berth {

Result<void> MakeDirs(const std::string& path, mode_t mode) {
  if (path.empty()) return InvalidArgument("cannot create a directory with an empty path");
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return Ok();
    return FailedPrecondition(path + " exists and is not a directory");
  }
  size_t slash = path.find_last_of('/');
  if (slash != std::string::npos && slash > 0) {
    BERTH_TRY(MakeDirs(path.substr(0, slash), mode));
  }
  if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST) {
    return Error::FromErrno(errno, "create directory " + path);
  }
  return Ok();
}

namespace {

Result<void> WriteAll(int fd, std::string_view content, const std::string& path) {
  while (!content.empty()) {
    ssize_t n = ::write(fd, content.data(), content.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::FromErrno(errno, "write " + path);
    }
    content.remove_prefix(static_cast<size_t>(n));
  }
  return Ok();
}

}  // namespace

Result<void> WriteFileAtomic(const std::string& path, std::string_view content, mode_t mode) {
  size_t slash = path.find_last_of('/');
  std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  std::string temp = path + ".tmp-" + RandomHex(12);
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(temp, O_WRONLY | O_CREAT | O_EXCL, mode));
  auto cleanup_on_error = [&](Error error) {
    ::unlink(temp.c_str());
    return error;
  };
  if (auto written = WriteAll(fd.get(), content, temp); !written) {
    return cleanup_on_error(std::move(written).error());
  }
  if (::fchmod(fd.get(), mode) != 0)
    return cleanup_on_error(Error::FromErrno(errno, "chmod " + temp));
  if (::fsync(fd.get()) != 0) return cleanup_on_error(Error::FromErrno(errno, "fsync " + temp));
  fd.reset();
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    return cleanup_on_error(Error::FromErrno(errno, "rename " + temp + " to " + path));
  }
  BERTH_ASSIGN_OR_RETURN(UniqueFd dir_fd, OpenFile(dir, O_RDONLY | O_DIRECTORY));
  if (::fsync(dir_fd.get()) != 0) return Error::FromErrno(errno, "fsync directory " + dir);
  return Ok();
}

Result<std::string> ReadOpenedFile(const UniqueFd& fd, const std::string& what, size_t max_bytes) {
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) return Error::FromErrno(errno, "stat " + what);
  // A FIFO, socket or device would block or never end: only regular files are read.
  if (!S_ISREG(info.st_mode)) return InvalidArgument(what + " is not a regular file");
  std::string content;
  char buffer[65536];
  while (true) {
    ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::FromErrno(errno, "read " + what);
    }
    if (n == 0) break;
    if (content.size() + static_cast<size_t>(n) > max_bytes) {
      return InvalidArgument(what + " is larger than the limit of " + std::to_string(max_bytes) +
                             " bytes");
    }
    content.append(buffer, static_cast<size_t>(n));
  }
  return content;
}

Result<std::string> ReadFile(const std::string& path, size_t max_bytes) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer (ReadOpenedFile then refuses it).
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(path, O_RDONLY | O_NONBLOCK | O_NOCTTY));
  return ReadOpenedFile(fd, path, max_bytes);
}

Result<UniqueFd> OpenFile(const std::string& path, int flags, mode_t mode) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) return Error::FromErrno(errno, "open " + path);
  return UniqueFd(fd);
}

bool PathExists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

std::string JoinPath(std::string_view base, std::string_view relative) {
  while (!relative.empty() && relative.front() == '/') relative.remove_prefix(1);
  std::string joined(base);
  if (joined.empty()) return std::string(relative);
  if (joined.back() != '/') joined += '/';
  joined += relative;
  return joined;
}

}  // namespace berth

namespace berth {

Result<void> WriteKernelFile(const std::string& path, std::string_view value) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(path, O_WRONLY));
  std::string shown(value.substr(0, value.find('\n')));
  ssize_t n = ::write(fd.get(), value.data(), value.size());
  if (n < 0) return Error::FromErrno(errno, "write " + shown + " to " + path);
  if (static_cast<size_t>(n) != value.size())
    return Internal("write " + shown + " to " + path + ": short write");
  return Ok();
}

Result<void> CheckTraversableByOthers(const std::string& path) {
  std::string prefix;
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    prefix = path.substr(0, end);
    start = end + 1;
    if (prefix.empty()) continue;
    struct stat st {};
    if (::stat(prefix.c_str(), &st) != 0) break;  // created later, with berth's own modes
    if (S_ISDIR(st.st_mode) && (st.st_mode & S_IXOTH) == 0) {
      char mode[8];
      std::snprintf(mode, sizeof mode, "%04o", st.st_mode & 07777);
      return FailedPrecondition(
          "directory " + prefix + " is not traversable by others (mode " + mode +
          "): pods with a user namespace need o+x on the way to berth's root and state");
    }
  }
  return Ok();
}

}  // namespace berth
