#include "pod/image_config_volumes.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "base/file_util.h"
#include "image/rooted_path.h"

namespace berth::pod {
namespace {

constexpr int kMaxDepth = 128;

Result<void> Check(int rc, const std::string& what) {
  if (rc != 0) return Error::FromErrno(errno, what);
  return Ok();
}

bool CoveredByCriMount(const Container& container, const std::string& path) {
  for (const auto& mount : container.config.mounts) {
    if (mount.container_path == path) return true;
  }
  return false;
}

Result<void> CopyFileData(int from, int to, const std::string& what) {
  char buffer[64 << 10];
  for (;;) {
    ssize_t n = ::read(from, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::FromErrno(errno, "read " + what);
    if (n == 0) return Ok();
    for (ssize_t done = 0; done < n;) {
      ssize_t written = ::write(to, buffer + done, static_cast<size_t>(n - done));
      if (written < 0 && errno == EINTR) continue;
      if (written < 0) return Error::FromErrno(errno, "write " + what);
      done += written;
    }
  }
}

// Copies the entries of directory `from` into directory `to` (both real, readable fds): regular
// files, directories and symlinks with their modes and owners; devices, fifos and sockets are
// left out. Every entry is opened O_NOFOLLOW relative to its parent.
Result<void> CopyDirectory(int from, int to, const std::string& where, int depth) {
  if (depth > kMaxDepth)
    return InvalidArgument(where + ": nested deeper than " + std::to_string(kMaxDepth));
  int listing = ::dup(from);
  if (listing < 0) return Error::FromErrno(errno, "dup " + where);
  DIR* dir = ::fdopendir(listing);
  if (!dir) {
    ::close(listing);
    return Error::FromErrno(errno, "open " + where);
  }
  Result<void> result = Ok();
  while (dirent* entry = ::readdir(dir)) {
    std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    std::string what = where + "/" + name;
    struct stat st {};
    if (::fstatat(from, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      result = Error::FromErrno(errno, "stat " + what);
      break;
    }
    mode_t mode = st.st_mode & 07777;
    if (S_ISDIR(st.st_mode)) {
      if (::mkdirat(to, name.c_str(), 0700) != 0) {
        result = Error::FromErrno(errno, "mkdir " + what);
        break;
      }
      UniqueFd child_from(
          ::openat(from, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      UniqueFd child_to(
          ::openat(to, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!child_from || !child_to) {
        result = Error::FromErrno(errno, "open " + what);
        break;
      }
      result = CopyDirectory(child_from.get(), child_to.get(), what, depth + 1);
      if (result) result = Check(::fchown(child_to.get(), st.st_uid, st.st_gid), "chown " + what);
      if (result) result = Check(::fchmod(child_to.get(), mode), "chmod " + what);
    } else if (S_ISREG(st.st_mode)) {
      UniqueFd in(::openat(from, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
      UniqueFd out(
          ::openat(to, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
      if (!in || !out) {
        result = Error::FromErrno(errno, "open " + what);
        break;
      }
      result = CopyFileData(in.get(), out.get(), what);
      if (result) result = Check(::fchown(out.get(), st.st_uid, st.st_gid), "chown " + what);
      if (result) result = Check(::fchmod(out.get(), mode), "chmod " + what);
    } else if (S_ISLNK(st.st_mode)) {
      // Copied as it is: it is resolved inside the container, never here.
      std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
      ssize_t length = ::readlinkat(from, name.c_str(), target.data(), target.size());
      if (length < 0 || static_cast<size_t>(length) >= target.size()) {
        result = Error::FromErrno(length < 0 ? errno : ENAMETOOLONG, "readlink " + what);
        break;
      }
      target.resize(static_cast<size_t>(length));
      result = Check(::symlinkat(target.c_str(), to, name.c_str()), "symlink " + what);
      if (result) {
        result = Check(::fchownat(to, name.c_str(), st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW),
                       "chown " + what);
      }
    }
    if (!result) break;
  }
  ::closedir(dir);
  return result;
}

}  // namespace

std::vector<std::pair<size_t, std::string>> CleanImageVolumes(
    const std::vector<std::string>& volumes) {
  std::vector<std::pair<size_t, std::string>> out;
  for (size_t index = 0; index < volumes.size(); ++index) {
    auto components = image::CleanEntryPath(volumes[index]);
    if (components.empty()) continue;
    // Appended rather than "/" + ...: GCC 12 warns falsely (-Wrestrict) about the operator+.
    std::string clean(1, '/');
    clean.append(image::JoinComponents(components, components.size()));
    out.emplace_back(index, std::move(clean));
  }
  return out;
}

std::string ImageConfigVolumePath(const Container& container, size_t index) {
  return container.bundle_dir + "/image-config-volumes/" + std::to_string(index);
}

Result<void> PrepareImageConfigVolumes(const Container& container,
                                       const std::vector<std::string>& volumes,
                                       const std::string& mode) {
  if (mode == "ignore" || volumes.empty()) return Ok();
  BERTH_ASSIGN_OR_RETURN(UniqueFd rootfs,
                         OpenFile(container.RootfsPath(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  BERTH_TRY(MakeDirs(container.bundle_dir + "/image-config-volumes", 0711));
  for (const auto& [index, path] : CleanImageVolumes(volumes)) {
    if (CoveredByCriMount(container, path)) continue;
    std::string target = ImageConfigVolumePath(container, index);
    std::string what = "image volume " + path;
    if (::mkdir(target.c_str(), 0755) != 0) return Error::FromErrno(errno, "mkdir for " + what);
    BERTH_ASSIGN_OR_RETURN(UniqueFd volume,
                           OpenFile(target, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    // The image's directory there (resolved inside the rootfs); none: an empty root-owned one.
    auto source = image::OpenInRoot(rootfs, path, O_RDONLY | O_DIRECTORY);
    if (!source) continue;
    struct stat st {};
    BERTH_TRY(Check(::fstat(source->get(), &st), "stat " + what));
    if (mode == "copy") BERTH_TRY(CopyDirectory(source->get(), volume.get(), what, 0));
    BERTH_TRY(Check(::fchown(volume.get(), st.st_uid, st.st_gid), "chown " + what));
    BERTH_TRY(Check(::fchmod(volume.get(), st.st_mode & 07777), "chmod " + what));
  }
  return Ok();
}

}  // namespace berth::pod
