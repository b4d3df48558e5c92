// Termination-signal handling for daemons. Kept apart from the CRI headers on purpose: the CRI's
// `enum Signal` names its values SIGKILL, SIGTERM, ... which <signal.h> defines as macros, so no
// file may include both.
#pragma once

namespace berth {

// Blocks SIGTERM and SIGINT in the calling thread and ignores SIGPIPE; call before any other
// thread exists so every thread inherits the mask and only WaitForTerminationSignal sees them.
void BlockTerminationSignals();

// Waits for SIGTERM or SIGINT and returns its name.
const char* WaitForTerminationSignal();

}  // namespace berth
