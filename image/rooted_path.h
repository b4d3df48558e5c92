// Path resolution confined to a root directory, the way a chroot sees it: ".." stops at the root
// and every symlink, absolute or relative, is resolved inside it. The layer applier builds on this
// so that no tar entry, and no symlink an earlier entry planted, can reach outside the layer dir.
//
// Resolution is done by the kernel (openat2 with RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS); final
// components are only ever touched with *at() calls relative to a resolved parent, never followed.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"

namespace berth::image {

// Symlinks followed while creating missing directories, as the kernel's own limit (MAXSYMLINKS).
inline constexpr int kMaxSymlinkDepth = 40;

// Splits a tar entry name into clean components: empty and "." parts are dropped, ".." removes the
// previous component and stops at the root ("../../etc/x" -> {"etc", "x"}, "/a/./b" -> {"a", "b"}).
// This is lexical, as containerd cleans entry names before resolving them in the root.
std::vector<std::string> CleanEntryPath(std::string_view name);

// Joins the first `count` components with '/' ("" for none, meaning the root itself).
std::string JoinComponents(const std::vector<std::string>& components, size_t count);

// Opens `path` inside `root` (empty: the root) with `flags` (O_CLOEXEC added). Fails like
// openat(2); the Error keeps errno (sys_errno) so callers can tell ENOENT from the rest.
Result<UniqueFd> OpenInRoot(const UniqueFd& root, const std::string& path, int flags);

// Reads the regular file `path` inside `root` (an image's /etc/passwd, say): resolved inside the
// root, opened without blocking, refused unless it is a regular file, bounded by `max_bytes`.
// A missing file (or a missing directory on the way) is std::nullopt, not an error.
Result<std::optional<std::string>> ReadFileInRoot(const UniqueFd& root, const std::string& path,
                                                  size_t max_bytes);

// Opens the directory `path` inside `root` as an O_PATH fd usable as a dirfd for *at() calls.
Result<UniqueFd> OpenDirInRoot(const UniqueFd& root, const std::string& path);

// Like OpenDirInRoot, but creates missing directories (mode 0755, owned by the caller) on the way.
// A dangling symlink on the way is resolved inside the root and its target directories are
// created, as containerd does when it resolves a parent path before MkdirAll. A non-directory on
// the way is InvalidArgument.
Result<UniqueFd> MakeDirsInRoot(const UniqueFd& root, const std::string& path);

// Removes `name` in `dir`: a directory with all its content, anything else with unlink. Never
// follows a symlink. Missing is fine.
Result<void> RemovePathAt(const UniqueFd& dir, const std::string& name);

// "/proc/self/fd/<dir>/<name>": reaches `name` in an fd's directory for calls that have no *at()
// form (lsetxattr, lgetxattr). Only the parent is reached through the magic link; use it with the
// l*() calls so that a final symlink is not followed.
std::string ProcPathAt(const UniqueFd& dir, const std::string& name);

}  // namespace berth::image
