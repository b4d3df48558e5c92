// berthctl pull | images | rmi | inspecti | import.
#pragma once

#include <CLI/CLI.hpp>

#include "cmd/berthctl/client.h"

namespace berthctl {

void AddImageCommands(CLI::App& app, const GlobalOptions& options, int* exit_code);

}  // namespace berthctl
