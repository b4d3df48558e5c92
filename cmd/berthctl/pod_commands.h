// berthctl runp | pods | inspectp | stopp | rmp.
#pragma once

#include <CLI/CLI.hpp>

#include "cmd/berthctl/client.h"

namespace berthctl {

void AddPodCommands(CLI::App& app, const GlobalOptions& options, int* exit_code);

}  // namespace berthctl
