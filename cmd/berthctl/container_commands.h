// berthctl create | start | stop | rm | ps | inspect | logs.
#pragma once

#include <CLI/CLI.hpp>

#include "cmd/berthctl/client.h"

namespace berthctl {

void AddContainerCommands(CLI::App& app, const GlobalOptions& options, int* exit_code);

}  // namespace berthctl
