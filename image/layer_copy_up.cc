#include "image/layer_copy_up.h"

#include <fcntl.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>

#include "image/rooted_path.h"

namespace berth::image {
namespace {

constexpr size_t kCopyBufferSize = 128 * 1024;
constexpr size_t kMaxXattrList = 64 * 1024;   // XATTR_LIST_MAX
constexpr size_t kMaxXattrValue = 64 * 1024;  // XATTR_SIZE_MAX

bool IsWhiteout(const struct stat& st) {
  return S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0);
}

// Whether a directory on the way to `target` (the root included) is opaque in this layer, which
// hides everything the layers below have under it.
bool HasOpaqueAncestor(const UniqueFd& layer_root, const std::vector<std::string>& target,
                       const std::string& opaque_xattr) {
  for (size_t depth = 0; depth < target.size(); ++depth) {
    auto dir = OpenInRoot(layer_root, JoinComponents(target, depth), O_RDONLY | O_DIRECTORY);
    if (!dir.ok()) return false;
    char value[2] = {};
    const ssize_t length = ::fgetxattr(dir->get(), opaque_xattr.c_str(), value, sizeof(value));
    if (length == 1 && value[0] == 'y') return true;
  }
  return false;
}

Result<void> WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t wrote = ::write(fd, data, size);
    if (wrote < 0) {
      if (errno == EINTR) continue;
      return Error::FromErrno(errno, "write copy");
    }
    data += wrote;
    size -= static_cast<size_t>(wrote);
  }
  return Ok();
}

Result<uint64_t> CopyData(const UniqueFd& source, const UniqueFd& destination) {
  std::vector<char> buffer(kCopyBufferSize);
  uint64_t total = 0;
  while (true) {
    const ssize_t got = ::read(source.get(), buffer.data(), buffer.size());
    if (got < 0) {
      if (errno == EINTR) continue;
      return Error::FromErrno(errno, "read copy source");
    }
    if (got == 0) return total;
    BERTH_TRY(WriteAll(destination.get(), buffer.data(), static_cast<size_t>(got)));
    total += static_cast<uint64_t>(got);
  }
}

Result<uint64_t> CopyRegularFile(const LayerLookup& found, const UniqueFd& upper_parent,
                                 const std::string& name) {
  const int source = ::openat(found.parent.get(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (source < 0) return Error::FromErrno(errno, "open lower \"" + name + "\"");
  UniqueFd source_fd(source);
  const int destination = ::openat(upper_parent.get(), name.c_str(),
                                   O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (destination < 0) return Error::FromErrno(errno, "create \"" + name + "\"");
  UniqueFd destination_fd(destination);
  return CopyData(source_fd, destination_fd);
}

Result<void> CopyNode(const LayerLookup& found, const UniqueFd& upper_parent,
                      const std::string& name, const CopyUpOptions& options) {
  const mode_t type = found.st.st_mode & S_IFMT;
  if (type == S_IFLNK) {
    std::string target(4096, '\0');
    const ssize_t length =
        ::readlinkat(found.parent.get(), name.c_str(), target.data(), target.size());
    if (length < 0 || static_cast<size_t>(length) >= target.size()) {
      return Error::FromErrno(length < 0 ? errno : ENAMETOOLONG, "readlink lower \"" + name + "\"");
    }
    target.resize(static_cast<size_t>(length));
    if (::symlinkat(target.c_str(), upper_parent.get(), name.c_str()) != 0) {
      return Error::FromErrno(errno, "symlink \"" + name + "\"");
    }
    return Ok();
  }
  if ((type == S_IFCHR || type == S_IFBLK) && !options.create_devices) {
    return FailedPrecondition("cannot copy up device node \"" + name + "\" without privilege");
  }
  if (type != S_IFCHR && type != S_IFBLK && type != S_IFIFO) {
    return InvalidArgument("cannot copy up \"" + name + "\": unsupported file type");
  }
  if (::mknodat(upper_parent.get(), name.c_str(), type | 0600, found.st.st_rdev) != 0) {
    return Error::FromErrno(errno, "mknod \"" + name + "\"");
  }
  return Ok();
}

bool IsOverlayXattr(std::string_view name) {
  return name.starts_with("trusted.overlay.") || name.starts_with("user.overlay.");
}

// Xattrs are copied as far as the upper filesystem takes them (EPERM/ENOTSUP are skipped, as on
// apply).
Result<void> CopyXattrs(const std::string& source_path, const std::string& destination_path) {
  std::string names(kMaxXattrList, '\0');
  const ssize_t list_length = ::llistxattr(source_path.c_str(), names.data(), names.size());
  if (list_length < 0) {
    if (errno == ENOTSUP) return Ok();
    return Error::FromErrno(errno, "list xattrs");
  }
  names.resize(static_cast<size_t>(list_length));
  std::string value(kMaxXattrValue, '\0');
  for (size_t start = 0; start < names.size();) {
    const std::string name(names.c_str() + start);
    start += name.size() + 1;
    if (IsOverlayXattr(name)) continue;
    const ssize_t length =
        ::lgetxattr(source_path.c_str(), name.c_str(), value.data(), value.size());
    if (length < 0) continue;
    if (::lsetxattr(destination_path.c_str(), name.c_str(), value.data(),
                    static_cast<size_t>(length), 0) != 0 &&
        errno != EPERM && errno != ENOTSUP) {
      return Error::FromErrno(errno, "set xattr " + name);
    }
  }
  return Ok();
}

Result<void> CopyMetadata(const LayerLookup& found, const UniqueFd& upper_parent,
                          const std::string& name, const CopyUpOptions& options) {
  const int dir = upper_parent.get();
  if (options.preserve_ownership &&
      ::fchownat(dir, name.c_str(), found.st.st_uid, found.st.st_gid, AT_SYMLINK_NOFOLLOW) != 0) {
    return Error::FromErrno(errno, "chown \"" + name + "\"");
  }
  if (!S_ISLNK(found.st.st_mode) &&
      ::fchmodat(dir, name.c_str(), found.st.st_mode & 07777, AT_SYMLINK_NOFOLLOW) != 0) {
    return Error::FromErrno(errno, "chmod \"" + name + "\"");
  }
  BERTH_TRY(CopyXattrs(ProcPathAt(found.parent, name), ProcPathAt(upper_parent, name)));
  const timespec times[2] = {found.st.st_atim, found.st.st_mtim};
  if (::utimensat(dir, name.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
    return Error::FromErrno(errno, "set times of \"" + name + "\"");
  }
  return Ok();
}

}  // namespace

Result<LayerLookup> LookupInLayer(const UniqueFd& layer_root,
                                  const std::vector<std::string>& target,
                                  const std::string& opaque_xattr) {
  LayerLookup lookup;
  const std::string& name = target.back();
  auto parent = OpenDirInRoot(layer_root, JoinComponents(target, target.size() - 1));
  if (!parent.ok()) {
    const int err = parent.error().sys_errno();
    if (err == ENOTDIR) {
      lookup.state = LookupState::kHidden;
    } else if (err != ENOENT) {
      return std::move(parent).error();
    }
  } else if (::fstatat(parent->get(), name.c_str(), &lookup.st, AT_SYMLINK_NOFOLLOW) == 0) {
    lookup.state = IsWhiteout(lookup.st) ? LookupState::kHidden : LookupState::kFound;
    lookup.parent = std::move(parent).value();
    return lookup;
  } else if (errno != ENOENT) {
    return Error::FromErrno(errno, "stat \"" + name + "\"");
  }
  if (lookup.state == LookupState::kMissing &&
      HasOpaqueAncestor(layer_root, target, opaque_xattr)) {
    lookup.state = LookupState::kHidden;
  }
  return lookup;
}

Result<UniqueFd> CopyUp(const UniqueFd& upper_root, const LayerLookup& found,
                        const std::vector<std::string>& target, const CopyUpOptions& options,
                        uint64_t& bytes_written) {
  const std::string& name = target.back();
  if (S_ISDIR(found.st.st_mode))
    return InvalidArgument("cannot copy up directory \"" + name + "\"");
  BERTH_ASSIGN_OR_RETURN(UniqueFd upper_parent,
                         MakeDirsInRoot(upper_root, JoinComponents(target, target.size() - 1)));
  if (S_ISREG(found.st.st_mode)) {
    BERTH_ASSIGN_OR_RETURN(const uint64_t copied, CopyRegularFile(found, upper_parent, name));
    bytes_written += copied;
  } else {
    BERTH_TRY(CopyNode(found, upper_parent, name, options));
  }
  BERTH_TRY(CopyMetadata(found, upper_parent, name, options));
  return upper_parent;
}

}  // namespace berth::image
