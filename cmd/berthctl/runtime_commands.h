// berthctl version | status | info.
#pragma once

#include <CLI/CLI.hpp>

#include "cmd/berthctl/client.h"

namespace berthctl {

// Adds the subcommands; each sets `*exit_code` when it runs.
void AddRuntimeCommands(CLI::App& app, const GlobalOptions& options, int* exit_code);

}  // namespace berthctl
