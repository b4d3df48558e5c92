// File descriptors over a unix socket (SCM_RIGHTS): how a container's pty master reaches its
// monitor and how an attach hands its pipes to the monitor.
#pragma once

#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"

namespace berth {

// Sends `data` (at least one byte: a message of fds alone is easy to lose) with `fds` attached.
// Safe in a forked child: no allocation beyond a small stack buffer.
Result<void> SendWithFds(int socket, std::string_view data, const int* fds, size_t fd_count);

// Receives one message into `buffer`; the fds that came with it are appended to `fds` (close on
// exec). Returns the number of bytes; 0 is EOF. More than `max_fds` fds is an error (all closed).
Result<size_t> ReceiveWithFds(int socket, char* buffer, size_t size, std::vector<UniqueFd>& fds,
                              size_t max_fds = 4);

}  // namespace berth
