// berthctl stats | statsp: containers' and pods' resource use, like crictl's.
#pragma once

#include <CLI/CLI.hpp>

#include "cmd/berthctl/client.h"

namespace berthctl {

void AddStatsCommands(CLI::App& app, const GlobalOptions& options, int* exit_code);

}  // namespace berthctl
