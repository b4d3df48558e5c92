#include "base/logging.h"

#include <spdlog/sinks/stdout_sinks.h>

#include <string>

namespace berth {

Result<spdlog::level::level_enum> ParseLogLevel(std::string_view name) {
  if (name == "trace") return spdlog::level::trace;
  if (name == "debug") return spdlog::level::debug;
  if (name == "info") return spdlog::level::info;
  if (name == "warn" || name == "warning") return spdlog::level::warn;
  if (name == "error") return spdlog::level::err;
  return InvalidArgument("unknown log level \"" + std::string(name) +
                         "\" (want trace, debug, info, warn or error)");
}

void InitLogging(spdlog::level::level_enum level) {
  auto logger = spdlog::stderr_logger_mt("berth");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%fZ level=%l %v", spdlog::pattern_time_type::utc);
  logger->set_level(level);
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

}  // namespace berth
