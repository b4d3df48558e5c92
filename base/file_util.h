// Small filesystem helpers that every layer needs, all reporting failures as berth::Error.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "base/result.h"
#include "base/unique_fd.h"

namespace berth {

// Creates `path` and its missing parents with `mode` (like mkdir -p). An existing directory is
// fine.
Result<void> MakeDirs(const std::string& path, mode_t mode = 0755);

// Writes `content` to a temp file beside `path`, fsyncs it, renames it over `path` and fsyncs the
// directory, so a crash leaves either the old file or the new one, never a torn one.
// Every directory from / down to `path` lets others through (o+x): what a process of a user
// namespace, whose ids are not the owners', needs to reach `path`. FailedPrecondition naming the
// first one that does not.
Result<void> CheckTraversableByOthers(const std::string& path);

Result<void> WriteFileAtomic(const std::string& path, std::string_view content, mode_t mode = 0644);

// Reads a whole regular file, refusing one larger than `max_bytes` (untrusted files must be
// bounded) and anything that is not a regular file (a FIFO would block, a device never end).
Result<std::string> ReadFile(const std::string& path, size_t max_bytes = 16 << 20);
// The same for a file already opened (O_NONBLOCK, so that a FIFO could not block the open);
// `what` names it in errors.
Result<std::string> ReadOpenedFile(const UniqueFd& fd, const std::string& what, size_t max_bytes);

// Opens with O_CLOEXEC always added.
Result<UniqueFd> OpenFile(const std::string& path, int flags, mode_t mode = 0);

// One write of `value` to a kernel file (cgroupfs, /proc/sys, /proc/PID/uid_map...), which takes
// a value whole or not at all. The Error keeps errno.
Result<void> WriteKernelFile(const std::string& path, std::string_view value);

bool PathExists(const std::string& path);

// Joins two path pieces with exactly one '/' between them (no resolution; see image/ and runtime/
// for resolution inside a root).
std::string JoinPath(std::string_view base, std::string_view relative);

}  // namespace berth
