#include "runtime/terminal.h"

#include <sys/ioctl.h>
#include <termios.h>

#include <cerrno>

namespace berth::runtime {

Result<void> ResizeTerminal(int pty, uint16_t columns, uint16_t rows) {
  winsize window{};
  window.ws_col = columns;
  window.ws_row = rows;
  if (::ioctl(pty, TIOCSWINSZ, &window) != 0) return Error::FromErrno(errno, "resize terminal");
  return Ok();
}

}  // namespace berth::runtime
