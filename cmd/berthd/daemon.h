// berthd's life: take the locks, open the store, serve the CRI until SIGTERM/SIGINT.
#pragma once

#include "base/result.h"
#include "config/config.h"

namespace berth {

// Runs until SIGTERM or SIGINT; returns the error that stopped the start-up, if any.
Result<void> RunDaemon(const Config& config);

}  // namespace berth
