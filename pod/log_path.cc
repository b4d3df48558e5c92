#include "pod/log_path.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <vector>

#include "base/file_util.h"
#include "base/text.h"
#include "base/unique_fd.h"

namespace berth::pod {
namespace {

// Opens the directory `name` in `parent` refusing symlinks and anything reached through one.
Result<UniqueFd> OpenChildDirectory(const UniqueFd& parent, const std::string& name) {
  open_how how{};
  how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  long fd = ::syscall(SYS_openat2, parent.get(), name.c_str(), &how, sizeof how);
  if (fd >= 0) return UniqueFd(static_cast<int>(fd));
  if (errno == ELOOP || errno == EXDEV || errno == ENOTDIR) {
    return InvalidArgument("\"" + name + "\" is a symlink or not a directory");
  }
  return Error::FromErrno(errno, "open " + name);
}

}  // namespace

Result<std::string> PrepareContainerLogPath(const std::string& log_directory,
                                            const std::string& log_path) {
  auto invalid = [&](const std::string& why) {
    return InvalidArgument("log_path \"" + log_path + "\": " + why);
  };
  if (log_directory.empty()) return invalid("the pod sandbox has no log_directory");
  if (log_path.front() == '/') return invalid("must be relative to the pod's log_directory");
  if (HasControlCharacter(log_path)) return invalid("has a control character");
  std::vector<std::string> components;
  size_t start = 0;
  while (start <= log_path.size()) {
    size_t end = log_path.find('/', start);
    if (end == std::string::npos) end = log_path.size();
    std::string part = log_path.substr(start, end - start);
    if (part == "..") return invalid("leaves the pod's log_directory");
    if (!part.empty() && part != ".") components.push_back(part);
    start = end + 1;
  }
  if (components.empty()) return invalid("names no file");

  BERTH_TRY(MakeDirs(log_directory, 0755));
  BERTH_ASSIGN_OR_RETURN(UniqueFd dir, OpenFile(log_directory, O_PATH | O_DIRECTORY));
  std::string joined = log_directory;
  for (size_t i = 0; i + 1 < components.size(); ++i) {
    if (::mkdirat(dir.get(), components[i].c_str(), 0755) != 0 && errno != EEXIST) {
      return Error::FromErrno(errno, "create log directory " + JoinPath(joined, components[i]));
    }
    auto next = OpenChildDirectory(dir, components[i]);
    if (!next) return invalid(next.error().message());
    dir = std::move(*next);
    joined = JoinPath(joined, components[i]);
  }
  const std::string& file = components.back();
  struct stat info {};
  if (::fstatat(dir.get(), file.c_str(), &info, AT_SYMLINK_NOFOLLOW) == 0 &&
      !S_ISREG(info.st_mode)) {
    return invalid("\"" + file + "\" exists and is not a regular file");
  }
  return JoinPath(joined, file);
}

}  // namespace berth::pod
