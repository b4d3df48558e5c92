// Where a container's CRI log goes: the pod's log_directory joined with the container's log_path
// (CreateContainer). The monitor writes there as root, so the joined path must stay inside the
// log directory: log_path is relative, has no "..", no control characters, and no component of
// it (existing or made here) is a symlink or, at the end, anything but a regular file.
#pragma once

#include <string>

#include "base/result.h"

namespace berth::pod {

// Checks `log_path` against `log_directory` (absolute, kubelet's), creates the directories
// between them, and returns the absolute path of the log file. InvalidArgument for any escape.
Result<std::string> PrepareContainerLogPath(const std::string& log_directory,
                                            const std::string& log_path);

}  // namespace berth::pod
