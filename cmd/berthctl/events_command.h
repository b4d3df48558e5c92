// berthctl events: the runtime's container events (GetContainerEvents), as they happen.
#pragma once

#include <CLI/CLI.hpp>

#include "cmd/berthctl/client.h"

namespace berthctl {

void AddEventsCommand(CLI::App& app, const GlobalOptions& options, int* exit_code);

}  // namespace berthctl
