#include "image/layer_extractor.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <limits.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string_view>

#include "base/file_util.h"
#include "image/layer_copy_up.h"
#include "image/rooted_path.h"

namespace berth::image {
namespace {

constexpr size_t kTarReadChunk = 128 * 1024;
constexpr size_t kMaxXattrNameLength = 255;  // XATTR_NAME_MAX
constexpr std::string_view kWhiteoutPrefix = ".wh.";
constexpr std::string_view kWhiteoutMetaPrefix = ".wh..wh.";
constexpr std::string_view kOpaqueMarker = ".wh..wh..opq";

// The uncompressed tar as libarchive pulls it: hashed (the diff_id) and counted on the way, so the
// digest covers exactly the bytes that were applied.
class TarStream {
 public:
  TarStream(ByteSource& source, uint64_t max_bytes)
      : source_(source), max_bytes_(max_bytes), buffer_(kTarReadChunk) {}

  // libarchive's archive_read_callback.
  static la_ssize_t Read(archive* archive, void* client, const void** buffer) {
    auto* self = static_cast<TarStream*>(client);
    auto got = self->ReadChunk();
    if (!got.ok()) {
      self->error_ = std::move(got).error();
      archive_set_error(archive, EIO, "layer stream failed");
      return -1;
    }
    *buffer = self->buffer_.data();
    return static_cast<la_ssize_t>(*got);
  }

  // Reads and hashes what follows the end-of-archive marker (zero padding, usually).
  Result<void> Drain() {
    while (true) {
      BERTH_ASSIGN_OR_RETURN(const size_t got, ReadChunk());
      if (got == 0) return Ok();
    }
  }

  // The error behind a failed libarchive call: ours when the stream failed, else libarchive's.
  Error Failure(archive* archive, std::string_view what) {
    if (error_) return std::move(*error_).Wrap(what);
    const char* message = archive_error_string(archive);
    return InvalidArgument(std::string(what) + ": " +
                           (message != nullptr ? message : "malformed tar"));
  }

  uint64_t bytes() const { return bytes_; }
  Digest Finish() { return hasher_.Finish(); }

 private:
  Result<size_t> ReadChunk() {
    BERTH_ASSIGN_OR_RETURN(const size_t got, source_.Read(buffer_.data(), buffer_.size()));
    bytes_ += got;
    if (bytes_ > max_bytes_) {
      return Error(ErrorCode::kResourceExhausted,
                   "uncompressed layer is larger than " + std::to_string(max_bytes_) + " bytes");
    }
    hasher_.Update(buffer_.data(), got);
    return got;
  }

  ByteSource& source_;
  uint64_t max_bytes_;
  std::vector<char> buffer_;
  DigestHasher hasher_;
  uint64_t bytes_ = 0;
  std::optional<Error> error_;
};

struct ArchiveFree {
  void operator()(archive* archive) const { archive_read_free(archive); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveFree>;

struct Xattr {
  std::string name;
  std::string value;
};

// What the applier needs of a tar header, checked against the limits.
struct EntryInfo {
  std::string name;
  std::vector<std::string> components;
  mode_t type = 0;
  mode_t permissions = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  dev_t rdev = 0;
  int64_t size = 0;
  bool is_hardlink = false;
  std::string link_target;  // symlink target, or hardlink target when is_hardlink
  bool has_times = false;
  timespec times[2] = {};  // atime, mtime
  std::vector<Xattr> xattrs;
};

std::string EntryName(archive_entry* entry) {
  // The raw header bytes when libarchive has them; the UTF-8 form only as a fallback, since a
  // Linux file name is bytes and Go's archive/tar (which made most layers) writes them unchanged.
  const char* name = archive_entry_pathname(entry);
  if (name == nullptr) name = archive_entry_pathname_utf8(entry);
  return name != nullptr ? name : "";
}

Result<void> CheckPath(std::string_view what, std::string_view path, const ApplyLimits& limits) {
  if (path.size() > limits.max_path_length) {
    return InvalidArgument(std::string(what) + " is longer than " +
                           std::to_string(limits.max_path_length) + " bytes");
  }
  return Ok();
}

Result<void> ReadIds(archive_entry* entry, EntryInfo& info) {
  const la_int64_t uid = archive_entry_uid(entry);
  const la_int64_t gid = archive_entry_gid(entry);
  // (uid_t)-1 would mean "leave unchanged" to chown; such ids are malformed in a layer.
  if (uid < 0 || uid >= 0xffffffffLL || gid < 0 || gid >= 0xffffffffLL) {
    return InvalidArgument("uid/gid " + std::to_string(uid) + "/" + std::to_string(gid) +
                           " out of range");
  }
  info.uid = static_cast<uid_t>(uid);
  info.gid = static_cast<gid_t>(gid);
  return Ok();
}

void ReadTimes(archive_entry* entry, EntryInfo& info) {
  if (!archive_entry_mtime_is_set(entry)) return;
  info.has_times = true;
  const long mtime_nsec = archive_entry_mtime_nsec(entry);
  info.times[1] = {archive_entry_mtime(entry),
                   (mtime_nsec >= 0 && mtime_nsec < 1000000000) ? mtime_nsec : 0};
  info.times[0] = info.times[1];
  if (archive_entry_atime_is_set(entry)) {
    const long atime_nsec = archive_entry_atime_nsec(entry);
    info.times[0] = {archive_entry_atime(entry),
                     (atime_nsec >= 0 && atime_nsec < 1000000000) ? atime_nsec : 0};
  }
}

Result<void> ReadXattrs(archive_entry* entry, const ApplyLimits& limits, EntryInfo& info) {
  archive_entry_xattr_reset(entry);
  const char* name = nullptr;
  const void* value = nullptr;
  size_t size = 0;
  while (archive_entry_xattr_next(entry, &name, &value, &size) == ARCHIVE_OK) {
    if (name == nullptr) continue;
    const std::string_view name_view(name);
    if (name_view.empty() || name_view.size() > kMaxXattrNameLength) {
      return InvalidArgument("xattr name \"" + std::string(name_view.substr(0, 64)) +
                             "\" is invalid");
    }
    if (size > limits.max_xattr_value_size) {
      return InvalidArgument("xattr " + std::string(name_view) + " is larger than " +
                             std::to_string(limits.max_xattr_value_size) + " bytes");
    }
    std::string data(static_cast<const char*>(value), value != nullptr ? size : 0);
    // libarchive reports an xattr twice when the header carries both the SCHILY.xattr and the
    // LIBARCHIVE.xattr form of it; the last one wins.
    auto same_name = [&](const Xattr& xattr) { return xattr.name == name_view; };
    if (auto it = std::find_if(info.xattrs.begin(), info.xattrs.end(), same_name);
        it != info.xattrs.end()) {
      it->value = std::move(data);
    } else {
      info.xattrs.push_back({std::string(name_view), std::move(data)});
    }
    if (info.xattrs.size() > limits.max_xattrs_per_entry) {
      return InvalidArgument("has more than " + std::to_string(limits.max_xattrs_per_entry) +
                             " xattrs");
    }
  }
  return Ok();
}

Result<EntryInfo> ReadEntryInfo(archive_entry* entry, const ApplyLimits& limits) {
  EntryInfo info;
  info.name = EntryName(entry);
  BERTH_TRY(CheckPath("name", info.name, limits));
  info.components = CleanEntryPath(info.name);
  for (const std::string& component : info.components) {
    if (component.size() > NAME_MAX)
      return InvalidArgument("a path component is longer than 255 bytes");
  }
  info.type = archive_entry_filetype(entry);
  info.permissions = archive_entry_perm(entry) & 07777;
  info.size = archive_entry_size(entry);
  info.rdev = makedev(archive_entry_rdevmajor(entry), archive_entry_rdevminor(entry));
  const char* hardlink = archive_entry_hardlink(entry);
  const char* symlink = archive_entry_symlink(entry);
  if (hardlink != nullptr) {
    info.is_hardlink = true;
    info.link_target = hardlink;
  } else if (info.type == AE_IFLNK) {
    if (symlink == nullptr || *symlink == '\0')
      return InvalidArgument("symlink has an empty target");
    info.link_target = symlink;
  }
  BERTH_TRY(CheckPath("link target", info.link_target, limits));
  BERTH_TRY(ReadIds(entry, info));
  ReadTimes(entry, info);
  BERTH_TRY(ReadXattrs(entry, limits, info));
  return info;
}

bool IsAppliedXattr(std::string_view name) {
  // overlayfs' own attributes are the snapshotter's business: a layer must not forge opaque,
  // redirect, origin or metacopy markers.
  if (name.starts_with("trusted.overlay.") || name.starts_with("user.overlay.")) return false;
  return name.starts_with("user.") || name.starts_with("trusted.") || name.starts_with("security.");
}

Error SysError(std::string_view what, const std::string& name) {
  return Error::FromErrno(errno, std::string(what) + " \"" + name + "\"");
}

Result<void> WriteAllAt(int fd, const char* data, size_t size, int64_t offset) {
  while (size > 0) {
    const ssize_t wrote = ::pwrite(fd, data, size, offset);
    if (wrote < 0) {
      if (errno == EINTR) continue;
      return Error::FromErrno(errno, "write file data");
    }
    data += wrote;
    size -= static_cast<size_t>(wrote);
    offset += wrote;
  }
  return Ok();
}

class LayerApplier {
 public:
  LayerApplier(UniqueFd root, TarStream& stream, const ApplyOptions& options, ExtractStats& stats)
      : root_(std::move(root)), stream_(stream), options_(options), stats_(stats) {
    const bool privileged = ::geteuid() == 0;
    preserve_ownership_ = options.preserve_ownership.value_or(privileged);
    create_devices_ = options.create_devices.value_or(privileged);
  }

  Result<void> ApplyEntry(archive* archive, const EntryInfo& entry);
  // Sets the directory times deferred while their content was being created.
  Result<void> Finish();

 private:
  struct DeferredTimes {
    std::vector<std::string> components;
    timespec times[2];
  };

  Result<void> ApplyWhiteout(const EntryInfo& entry);
  Result<void> ApplyOpaque(const std::string& dir_path);
  Result<void> ApplyDirectory(const UniqueFd& parent, const std::string& name,
                              const EntryInfo& entry);
  Result<void> ApplyRegularFile(archive* archive, const UniqueFd& parent, const std::string& name,
                                const EntryInfo& entry);
  Result<void> ApplyNode(const UniqueFd& parent, const std::string& name, const EntryInfo& entry);
  Result<void> ApplyHardlink(const UniqueFd& parent, const std::string& name,
                             const EntryInfo& entry);
  Result<UniqueFd> FindLinkTarget(const std::vector<std::string>& target);
  Result<bool> ReplaceExisting(const UniqueFd& parent, const std::string& name,
                               bool keep_directory);
  Result<void> ApplyMetadata(const UniqueFd& parent, const std::string& name,
                             const EntryInfo& entry);
  Result<void> ApplyXattrs(const UniqueFd& parent, const std::string& name, const EntryInfo& entry);
  Result<uint64_t> WriteData(archive* archive, const UniqueFd& file, int64_t size);

  UniqueFd root_;
  TarStream& stream_;
  const ApplyOptions& options_;
  ExtractStats& stats_;
  bool preserve_ownership_ = false;
  bool create_devices_ = false;
  std::vector<DeferredTimes> deferred_times_;
};

Result<void> LayerApplier::ApplyEntry(archive* archive, const EntryInfo& entry) {
  if (entry.components.empty()) {
    ++stats_.skipped_entries;  // the layer root itself, as containerd ignores it
    return Ok();
  }
  const std::string& name = entry.components.back();
  if (name.starts_with(kWhiteoutPrefix)) return ApplyWhiteout(entry);
  if (!entry.is_hardlink && (entry.type == AE_IFCHR || entry.type == AE_IFBLK) &&
      !create_devices_) {
    ++stats_.skipped_entries;
    return Ok();
  }
  BERTH_ASSIGN_OR_RETURN(
      UniqueFd parent,
      MakeDirsInRoot(root_, JoinComponents(entry.components, entry.components.size() - 1)));
  if (entry.is_hardlink) return ApplyHardlink(parent, name, entry);
  switch (entry.type) {
    case AE_IFDIR: return ApplyDirectory(parent, name, entry);
    case AE_IFREG: return ApplyRegularFile(archive, parent, name, entry);
    case AE_IFLNK:
    case AE_IFCHR:
    case AE_IFBLK:
    case AE_IFIFO: return ApplyNode(parent, name, entry);
    default:
      ++stats_.skipped_entries;  // sockets cannot be carried meaningfully in a layer
      return Ok();
  }
}

Result<void> LayerApplier::ApplyWhiteout(const EntryInfo& entry) {
  const std::string& marker = entry.components.back();
  const std::string dir_path = JoinComponents(entry.components, entry.components.size() - 1);
  if (marker == kOpaqueMarker) return ApplyOpaque(dir_path);
  if (marker.starts_with(kWhiteoutMetaPrefix)) {
    ++stats_.skipped_entries;  // AUFS bookkeeping (.wh..wh.plnk, .wh..wh.aufs): meaningless here
    return Ok();
  }
  const std::string name = marker.substr(kWhiteoutPrefix.size());
  if (name.empty() || name == "." || name == "..") return InvalidArgument("whiteout names no file");
  BERTH_ASSIGN_OR_RETURN(UniqueFd parent, MakeDirsInRoot(root_, dir_path));
  BERTH_TRY(ReplaceExisting(parent, name, false));
  // overlayfs' whiteout: a character device 0/0. Since Linux 5.8 creating one needs no CAP_MKNOD.
  if (::mknodat(parent.get(), name.c_str(), S_IFCHR, makedev(0, 0)) != 0) {
    return SysError("create whiteout", name);
  }
  if (preserve_ownership_ &&
      ::fchownat(parent.get(), name.c_str(), entry.uid, entry.gid, AT_SYMLINK_NOFOLLOW) != 0) {
    return SysError("chown whiteout", name);
  }
  ++stats_.whiteouts;
  return Ok();
}

Result<void> LayerApplier::ApplyOpaque(const std::string& dir_path) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd dir_path_fd, MakeDirsInRoot(root_, dir_path));
  // fsetxattr needs a real (not O_PATH) descriptor of the directory itself.
  const int dir = ::openat(dir_path_fd.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return SysError("open opaque directory", dir_path);
  UniqueFd dir_fd(dir);
  if (::fsetxattr(dir_fd.get(), options_.opaque_xattr.c_str(), "y", 1, 0) != 0) {
    return SysError("set " + options_.opaque_xattr + " on", dir_path);
  }
  ++stats_.opaque_dirs;
  return Ok();
}

// Clears the way for a new entry at parent/name. Returns true when an existing directory was kept
// because the new entry is a directory too (the two merge).
Result<bool> LayerApplier::ReplaceExisting(const UniqueFd& parent, const std::string& name,
                                           bool keep_directory) {
  struct stat st {};
  if (::fstatat(parent.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return false;
    return SysError("stat", name);
  }
  if (keep_directory && S_ISDIR(st.st_mode)) return true;
  BERTH_TRY(RemovePathAt(parent, name));
  return false;
}

Result<void> LayerApplier::ApplyDirectory(const UniqueFd& parent, const std::string& name,
                                          const EntryInfo& entry) {
  BERTH_ASSIGN_OR_RETURN(const bool kept, ReplaceExisting(parent, name, true));
  if (!kept && ::mkdirat(parent.get(), name.c_str(), 0700) != 0) return SysError("mkdir", name);
  BERTH_TRY(ApplyMetadata(parent, name, entry));
  if (entry.has_times) {
    deferred_times_.push_back({entry.components, {entry.times[0], entry.times[1]}});
  }
  return Ok();
}

Result<uint64_t> LayerApplier::WriteData(archive* archive, const UniqueFd& file, int64_t size) {
  uint64_t written = 0;
  int64_t end = 0;
  while (true) {
    const void* block = nullptr;
    size_t length = 0;
    la_int64_t offset = 0;
    const int rc = archive_read_data_block(archive, &block, &length, &offset);
    if (rc == ARCHIVE_EOF) break;
    if (rc < ARCHIVE_WARN) return stream_.Failure(archive, "read file data");
    if (offset < 0) return InvalidArgument("negative data offset");
    BERTH_TRY(WriteAllAt(file.get(), static_cast<const char*>(block), length, offset));
    written += length;
    end = std::max<int64_t>(end, offset + static_cast<int64_t>(length));
  }
  // A sparse file's trailing hole has no data block: the size comes from the header.
  if (size > end && ::ftruncate(file.get(), size) != 0) {
    return Error::FromErrno(errno, "extend sparse file");
  }
  return written;
}

Result<void> LayerApplier::ApplyRegularFile(archive* archive, const UniqueFd& parent,
                                            const std::string& name, const EntryInfo& entry) {
  BERTH_TRY(ReplaceExisting(parent, name, false));
  const int fd = ::openat(parent.get(), name.c_str(),
                          O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return SysError("create", name);
  UniqueFd file(fd);
  BERTH_ASSIGN_OR_RETURN(const uint64_t written, WriteData(archive, file, entry.size));
  stats_.bytes_written += written;
  file.reset();
  return ApplyMetadata(parent, name, entry);
}

// Symlinks, devices and FIFOs: nodes without data.
Result<void> LayerApplier::ApplyNode(const UniqueFd& parent, const std::string& name,
                                     const EntryInfo& entry) {
  BERTH_TRY(ReplaceExisting(parent, name, false));
  if (entry.type == AE_IFLNK) {
    // The target is stored verbatim: it is only ever resolved inside a root (here or in the
    // container), never by the host.
    if (::symlinkat(entry.link_target.c_str(), parent.get(), name.c_str()) != 0) {
      return SysError("symlink", name);
    }
  } else if (::mknodat(parent.get(), name.c_str(), entry.type | 0600, entry.rdev) != 0) {
    if (errno == EPERM && entry.type != AE_IFIFO) {
      // Root without CAP_MKNOD (a user namespace): skip devices as rootless runtimes do.
      ++stats_.skipped_entries;
      return Ok();
    }
    return SysError("mknod", name);
  }
  return ApplyMetadata(parent, name, entry);
}

Result<void> LayerApplier::ApplyHardlink(const UniqueFd& parent, const std::string& name,
                                         const EntryInfo& entry) {
  const std::vector<std::string> target = CleanEntryPath(entry.link_target);
  if (target.empty()) return InvalidArgument("hardlink to the layer root");
  if (target == entry.components) return Ok();  // a link to itself changes nothing
  BERTH_ASSIGN_OR_RETURN(UniqueFd target_parent, FindLinkTarget(target));
  BERTH_TRY(ReplaceExisting(parent, name, false));
  if (::linkat(target_parent.get(), target.back().c_str(), parent.get(), name.c_str(), 0) != 0) {
    return SysError("hardlink", name);
  }
  return Ok();
}

// The directory, in this layer, holding the hardlink target; copied up from a lower layer when
// that is where it lives.
Result<UniqueFd> LayerApplier::FindLinkTarget(const std::vector<std::string>& target) {
  const std::string target_path = JoinComponents(target, target.size());
  BERTH_ASSIGN_OR_RETURN(LayerLookup here, LookupInLayer(root_, target, options_.opaque_xattr));
  for (size_t i = 0; here.state == LookupState::kMissing && i < options_.lower_dirs.size(); ++i) {
    BERTH_ASSIGN_OR_RETURN(UniqueFd lower_root,
                           OpenFile(options_.lower_dirs[i], O_PATH | O_DIRECTORY));
    BERTH_ASSIGN_OR_RETURN(LayerLookup below,
                           LookupInLayer(lower_root, target, options_.opaque_xattr));
    if (below.state == LookupState::kHidden) break;
    if (below.state != LookupState::kFound) continue;
    if (S_ISDIR(below.st.st_mode))
      return InvalidArgument("hardlink to directory \"" + target_path + "\"");
    const CopyUpOptions copy_options{preserve_ownership_, create_devices_};
    BERTH_ASSIGN_OR_RETURN(UniqueFd copied,
                           CopyUp(root_, below, target, copy_options, stats_.bytes_written));
    ++stats_.copied_up;
    return copied;
  }
  if (here.state != LookupState::kFound) {
    return InvalidArgument("hardlink target \"" + target_path +
                           "\" is not in the layer or in the layers below it");
  }
  if (S_ISDIR(here.st.st_mode))
    return InvalidArgument("hardlink to directory \"" + target_path + "\"");
  return std::move(here.parent);
}

// Order matters: chown clears setuid/setgid and security.capability, so it comes first, then the
// mode, then the xattrs; times last, since every other change touches ctime/mtime.
Result<void> LayerApplier::ApplyMetadata(const UniqueFd& parent, const std::string& name,
                                         const EntryInfo& entry) {
  if (preserve_ownership_ &&
      ::fchownat(parent.get(), name.c_str(), entry.uid, entry.gid, AT_SYMLINK_NOFOLLOW) != 0) {
    return SysError("chown", name);
  }
  // Symlinks have no mode of their own on Linux. For the rest, AT_SYMLINK_NOFOLLOW makes glibc
  // chmod through an O_PATH descriptor, so a final symlink is never followed.
  if (entry.type != AE_IFLNK &&
      ::fchmodat(parent.get(), name.c_str(), entry.permissions, AT_SYMLINK_NOFOLLOW) != 0) {
    return SysError("chmod", name);
  }
  BERTH_TRY(ApplyXattrs(parent, name, entry));
  if (entry.has_times && entry.type != AE_IFDIR &&
      ::utimensat(parent.get(), name.c_str(), entry.times, AT_SYMLINK_NOFOLLOW) != 0) {
    return SysError("set times of", name);
  }
  return Ok();
}

Result<void> LayerApplier::ApplyXattrs(const UniqueFd& parent, const std::string& name,
                                       const EntryInfo& entry) {
  if (entry.xattrs.empty()) return Ok();
  // lsetxattr on the parent's magic link plus the name: the name is never followed.
  const std::string path = ProcPathAt(parent, name);
  for (const Xattr& xattr : entry.xattrs) {
    if (!IsAppliedXattr(xattr.name)) {
      ++stats_.skipped_xattrs;
      continue;
    }
    if (::lsetxattr(path.c_str(), xattr.name.c_str(), xattr.value.data(), xattr.value.size(), 0) ==
        0) {
      continue;
    }
    if (errno != EPERM && errno != ENOTSUP)
      return SysError("set xattr " + xattr.name + " on", name);
    spdlog::debug("layer entry {}: xattr {} not applied: {}", entry.name, xattr.name,
                  std::strerror(errno));
    ++stats_.skipped_xattrs;
  }
  return Ok();
}

Result<void> LayerApplier::Finish() {
  for (const DeferredTimes& deferred : deferred_times_) {
    const std::string& name = deferred.components.back();
    auto parent =
        OpenDirInRoot(root_, JoinComponents(deferred.components, deferred.components.size() - 1));
    if (!parent.ok()) continue;  // replaced or removed by a later entry
    struct stat st {};
    if (::fstatat(parent->get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 ||
        !S_ISDIR(st.st_mode)) {
      continue;
    }
    if (::utimensat(parent->get(), name.c_str(), deferred.times, AT_SYMLINK_NOFOLLOW) != 0) {
      return SysError("set times of", name);
    }
  }
  return Ok();
}

// errno values that a system call only returns here because of what the layer contains (a loop of
// symlinks, a file where a directory must be, a name too long…): the layer is at fault, so the
// caller sees InvalidArgument rather than Internal.
Error AsLayerError(Error error) {
  switch (error.sys_errno()) {
    case ELOOP:
    case ENOTDIR:
    case EISDIR:
    case ENAMETOOLONG:
    case EXDEV:
    case EMLINK:
    case EEXIST:
    case ENOTEMPTY: return InvalidArgument(error.message());
    default: return error;
  }
}

Result<void> ApplyEntries(archive* archive, TarStream& stream, LayerApplier& applier,
                          const ApplyLimits& limits, ExtractStats& stats) {
  while (true) {
    archive_entry* entry = nullptr;
    const int rc = archive_read_next_header(archive, &entry);
    if (rc == ARCHIVE_EOF) return Ok();
    if (rc < ARCHIVE_WARN) return stream.Failure(archive, "read tar header");
    if (++stats.entries > limits.max_entries) {
      return Error(ErrorCode::kResourceExhausted,
                   "layer has more than " + std::to_string(limits.max_entries) + " entries");
    }
    auto info = ReadEntryInfo(entry, limits);
    Result<void> applied =
        info.ok() ? applier.ApplyEntry(archive, *info) : Result<void>(info.error());
    if (!applied.ok()) {
      return AsLayerError(std::move(applied).error())
          .Wrap("entry \"" + EntryName(entry).substr(0, 256) + "\"");
    }
  }
}

Result<ExtractStats> ApplyLayerUnwrapped(ByteSource& layer, const std::string& layer_dir,
                                         const ApplyOptions& options) {
  BERTH_TRY(MakeDirs(layer_dir, 0755));
  BERTH_ASSIGN_OR_RETURN(UniqueFd root, OpenFile(layer_dir, O_PATH | O_DIRECTORY));
  BERTH_ASSIGN_OR_RETURN(DecompressedSource decompressed, OpenDecompressed(layer));
  TarStream stream(*decompressed.source, options.limits.max_tar_bytes);
  ArchivePtr archive(archive_read_new());
  if (!archive) return Internal("allocate libarchive reader");
  // Only tar (and the empty stream, a valid empty layer): decompression is ours, so that the
  // diff_id is computed over exactly the bytes libarchive parses.
  archive_read_support_format_tar(archive.get());
  archive_read_support_format_empty(archive.get());
  if (archive_read_open(archive.get(), &stream, nullptr, &TarStream::Read, nullptr) != ARCHIVE_OK) {
    return stream.Failure(archive.get(), "open tar stream");
  }
  ExtractStats stats;
  stats.compression = decompressed.compression;
  LayerApplier applier(std::move(root), stream, options, stats);
  BERTH_TRY(ApplyEntries(archive.get(), stream, applier, options.limits, stats));
  BERTH_TRY(applier.Finish());
  BERTH_TRY(stream.Drain());
  stats.tar_bytes = stream.bytes();
  stats.diff_id = stream.Finish();
  return stats;
}

}  // namespace

Result<ExtractStats> ApplyLayer(ByteSource& layer, const std::string& layer_dir,
                                const ApplyOptions& options) {
  auto stats = ApplyLayerUnwrapped(layer, layer_dir, options);
  if (!stats.ok()) return std::move(stats).error().Wrap("apply layer to " + layer_dir);
  return stats;
}

Result<ExtractStats> ApplyLayerFile(const std::string& blob_path, const std::string& layer_dir,
                                    const ApplyOptions& options) {
  auto source = FdByteSource::OpenFile(blob_path);
  if (!source.ok()) return std::move(source).error().Wrap("apply layer " + blob_path);
  return ApplyLayer(*source, layer_dir, options);
}

}  // namespace berth::image
