#include "image/rooted_path.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "base/file_util.h"

namespace berth::image {
namespace {

constexpr int kOpenRetries = 16;
// Directory nesting RemovePathAt descends; each level holds one fd. A layer cannot produce more
// than max_path_length / 2 levels, and berth's default path bound keeps this well below it.
constexpr int kMaxRemoveDepth = 2048;

std::vector<std::string> SplitRaw(std::string_view path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    if (slash > start) parts.emplace_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return parts;
}

Result<UniqueFd> ReopenAt(const UniqueFd& dir, const std::string& name, int flags) {
  const int fd = ::openat(dir.get(), name.c_str(), flags | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return Error::FromErrno(errno, "open \"" + name + "\"");
  return UniqueFd(fd);
}

// mkdir(2) applies the umask; the layer's implicit parents are 0755 whatever it is.
Result<UniqueFd> MakeOneDir(const UniqueFd& parent, const std::string& name) {
  if (::mkdirat(parent.get(), name.c_str(), 0755) != 0) {
    return Error::FromErrno(errno, "create directory \"" + name + "\"");
  }
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, ReopenAt(parent, name, O_RDONLY | O_DIRECTORY));
  if (::fchmod(fd.get(), 0755) != 0) return Error::FromErrno(errno, "chmod \"" + name + "\"");
  return fd;
}

// An out-parameter rather than Result<std::string>: GCC 12 warns falsely about the latter here.
Result<void> ReadLinkAt(const UniqueFd& dir, const std::string& name, std::string* target) {
  target->assign(4096, '\0');
  const ssize_t length = ::readlinkat(dir.get(), name.c_str(), target->data(), target->size());
  if (length < 0) return Error::FromErrno(errno, "readlink \"" + name + "\"");
  if (static_cast<size_t>(length) >= target->size()) {
    return InvalidArgument("symlink \"" + name + "\" target is too long");
  }
  target->resize(static_cast<size_t>(length));
  return Ok();
}

std::string Append(const std::string& prefix, std::string_view part) {
  if (prefix.empty()) return std::string(part);
  return prefix + "/" + std::string(part);
}

Result<UniqueFd> MakeDirsInRootDepth(const UniqueFd& root, const std::string& path, int depth);

// `name` in `parent` (reached as `prefix`) is missing or is a symlink whose target is missing:
// create the directory, or create what the dangling symlink points at. Returns the new directory
// and the path, as seen from the root, that now reaches it.
Result<UniqueFd> CreateMissing(const UniqueFd& root, const UniqueFd& parent,
                               const std::string& prefix, const std::string& name,
                               std::string& reached_as, int depth) {
  auto made = MakeOneDir(parent, name);
  if (made.ok() || made.error().sys_errno() != EEXIST) {
    if (made.ok()) reached_as = Append(prefix, name);
    return made;
  }
  struct stat st {};
  if (::fstatat(parent.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return Error::FromErrno(errno, "stat \"" + name + "\"");
  }
  if (!S_ISLNK(st.st_mode)) return InvalidArgument("\"" + name + "\" is not a directory");
  if (depth >= kMaxSymlinkDepth) {
    return InvalidArgument("too many levels of symbolic links at \"" + name + "\"");
  }
  std::string target;
  BERTH_TRY(ReadLinkAt(parent, name, &target));
  // Relative targets are relative to the symlink's directory; the kernel resolves ".." physically
  // (and inside the root) when we hand it "prefix/target".
  reached_as = target.rfind('/', 0) == 0 ? target : Append(prefix, target);
  return MakeDirsInRootDepth(root, reached_as, depth + 1);
}

Result<UniqueFd> MakeDirsInRootDepth(const UniqueFd& root, const std::string& path, int depth) {
  auto whole = OpenDirInRoot(root, path);
  if (whole.ok() || whole.error().sys_errno() != ENOENT) return whole;

  BERTH_ASSIGN_OR_RETURN(UniqueFd dir, OpenDirInRoot(root, ""));
  std::string prefix = (!path.empty() && path.front() == '/') ? "/" : "";
  for (const std::string& part : SplitRaw(path)) {
    const std::string next = prefix == "/" ? "/" + part : Append(prefix, part);
    auto opened = OpenDirInRoot(root, next);
    if (opened.ok()) {
      dir = std::move(opened).value();
      prefix = next;
      continue;
    }
    if (opened.error().sys_errno() != ENOENT || part == "." || part == "..") {
      return std::move(opened).error();
    }
    std::string reached_as;
    BERTH_ASSIGN_OR_RETURN(dir, CreateMissing(root, dir, prefix, part, reached_as, depth));
    prefix = std::move(reached_as);
  }
  return dir;
}

Result<void> RemoveDirectoryContent(const UniqueFd& dir, int depth);

Result<void> RemoveEntryAt(const UniqueFd& dir, const std::string& name, int depth) {
  struct stat st {};
  if (::fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return Ok();
    return Error::FromErrno(errno, "stat \"" + name + "\"");
  }
  if (S_ISDIR(st.st_mode)) {
    if (depth >= kMaxRemoveDepth) return InvalidArgument("directory tree too deep to remove");
    BERTH_ASSIGN_OR_RETURN(UniqueFd child, ReopenAt(dir, name, O_RDONLY | O_DIRECTORY));
    BERTH_TRY(RemoveDirectoryContent(child, depth + 1));
  }
  if (::unlinkat(dir.get(), name.c_str(), S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) != 0) {
    return Error::FromErrno(errno, "remove \"" + name + "\"");
  }
  return Ok();
}

Result<std::vector<std::string>> ListDirectory(const UniqueFd& dir) {
  const int copy = ::openat(dir.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (copy < 0) return Error::FromErrno(errno, "open directory");
  DIR* stream = ::fdopendir(copy);
  if (stream == nullptr) {
    const int err = errno;
    ::close(copy);
    return Error::FromErrno(err, "read directory");
  }
  std::vector<std::string> names;
  errno = 0;
  while (const dirent* entry = ::readdir(stream)) {
    const std::string_view name = entry->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
  }
  const int err = errno;
  ::closedir(stream);
  if (err != 0) return Error::FromErrno(err, "read directory");
  return names;
}

// Names are listed first and removed afterwards: readdir while unlinking may skip entries.
Result<void> RemoveDirectoryContent(const UniqueFd& dir, int depth) {
  BERTH_ASSIGN_OR_RETURN(std::vector<std::string> names, ListDirectory(dir));
  for (const std::string& name : names) BERTH_TRY(RemoveEntryAt(dir, name, depth));
  return Ok();
}

}  // namespace

std::vector<std::string> CleanEntryPath(std::string_view name) {
  std::vector<std::string> components;
  for (std::string& part : SplitRaw(name)) {
    if (part == ".") continue;
    if (part == "..") {
      if (!components.empty()) components.pop_back();
      continue;
    }
    components.push_back(std::move(part));
  }
  return components;
}

std::string JoinComponents(const std::vector<std::string>& components, size_t count) {
  std::string path;
  for (size_t i = 0; i < count && i < components.size(); ++i) {
    if (i > 0) path += '/';
    path += components[i];
  }
  return path;
}

Result<UniqueFd> OpenInRoot(const UniqueFd& root, const std::string& path, int flags) {
  open_how how{};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  const char* relative = path.empty() ? "." : path.c_str();
  for (int attempt = 0; attempt < kOpenRetries; ++attempt) {
    const long fd = ::syscall(SYS_openat2, root.get(), relative, &how, sizeof(how));
    if (fd >= 0) return UniqueFd(static_cast<int>(fd));
    // EAGAIN: a concurrent rename made the kernel give up on a safe walk; try again.
    if (errno != EAGAIN && errno != EINTR) break;
  }
  return Error::FromErrno(errno, "open \"" + path + "\" in layer root");
}

Result<std::optional<std::string>> ReadFileInRoot(const UniqueFd& root, const std::string& path,
                                                  size_t max_bytes) {
  auto file = OpenInRoot(root, path, O_RDONLY | O_NONBLOCK | O_NOCTTY);
  if (!file) {
    int code = file.error().sys_errno();
    if (code == ENOENT || code == ENOTDIR) return std::optional<std::string>();
    return std::move(file).error();
  }
  BERTH_ASSIGN_OR_RETURN(std::string text, ReadOpenedFile(*file, "\"" + path + "\"", max_bytes));
  return std::optional<std::string>(std::move(text));
}

Result<UniqueFd> OpenDirInRoot(const UniqueFd& root, const std::string& path) {
  return OpenInRoot(root, path, O_PATH | O_DIRECTORY);
}

Result<UniqueFd> MakeDirsInRoot(const UniqueFd& root, const std::string& path) {
  return MakeDirsInRootDepth(root, path, 0);
}

Result<void> RemovePathAt(const UniqueFd& dir, const std::string& name) {
  return RemoveEntryAt(dir, name, 0);
}

std::string ProcPathAt(const UniqueFd& dir, const std::string& name) {
  return "/proc/self/fd/" + std::to_string(dir.get()) + "/" + name;
}

}  // namespace berth::image
