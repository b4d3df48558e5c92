// Logging: spdlog to stderr, one logger for the whole process. Use spdlog::info(...) etc.
// directly; this only owns set-up and the mapping of level names.
#pragma once

#include <spdlog/spdlog.h>

#include <string_view>

#include "base/result.h"

namespace berth {

// "trace", "debug", "info", "warn", "error"; anything else is InvalidArgument.
Result<spdlog::level::level_enum> ParseLogLevel(std::string_view name);

// Structured single-line format: time, level, message (key=value pairs written by the caller).
void InitLogging(spdlog::level::level_enum level);

}  // namespace berth
