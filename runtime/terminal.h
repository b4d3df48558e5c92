// Terminal sizes on ptys: what the client's terminal measures, so that full-screen programs in a
// container (exec with a TTY, an attached container's console) lay themselves out right.
#pragma once

#include <cstdint>

#include "base/result.h"

namespace berth::runtime {

// Sets the window size of the pty whose master (or slave) `pty` is (borrowed); the kernel sends
// SIGWINCH to the terminal's foreground process group.
Result<void> ResizeTerminal(int pty, uint16_t columns, uint16_t rows);

}  // namespace berth::runtime
