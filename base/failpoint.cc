#include "base/failpoint.h"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <string>
#include <thread>

#include "base/parse_number.h"

namespace berth {
namespace {

struct Action {
  enum class Kind { kError, kCrash, kDelay } kind = Kind::kError;
  uint64_t delay_ms = 0;
};

std::atomic<bool> g_armed{false};
// Written once by InitFailpoints before any other thread runs, read-only afterwards.
std::map<std::string, Action, std::less<>>* g_failpoints = nullptr;

Result<Action> ParseAction(std::string_view text) {
  if (text == "error") return Action{Action::Kind::kError, 0};
  if (text == "crash") return Action{Action::Kind::kCrash, 0};
  if (text.substr(0, 6) == "delay:") {
    if (auto ms = ParseUint64(text.substr(6), 600000)) return Action{Action::Kind::kDelay, *ms};
  }
  return InvalidArgument("failpoint action \"" + std::string(text) +
                         "\" is not error, crash or delay:MS");
}

}  // namespace

Result<void> InitFailpoints() {
  const char* value = std::getenv("BERTH_FAILPOINTS");
  if (value == nullptr || *value == '\0') return Ok();
  auto failpoints = std::make_unique<std::map<std::string, Action, std::less<>>>();
  std::string_view text(value);
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    size_t equals = item.find('=');
    if (equals == std::string_view::npos || equals == 0) {
      return InvalidArgument("BERTH_FAILPOINTS: \"" + std::string(item) + "\" is not NAME=ACTION");
    }
    BERTH_ASSIGN_OR_RETURN(Action action, ParseAction(item.substr(equals + 1)));
    (*failpoints)[std::string(item.substr(0, equals))] = action;
  }
  for (const auto& [name, action] : *failpoints) spdlog::warn("failpoint {} is armed", name);
  g_failpoints = failpoints.release();
  g_armed.store(true, std::memory_order_release);
  return Ok();
}

Result<void> Failpoint(std::string_view name) {
  if (!g_armed.load(std::memory_order_acquire)) return Ok();
  auto it = g_failpoints->find(name);
  if (it == g_failpoints->end()) return Ok();
  switch (it->second.kind) {
    case Action::Kind::kError:
      spdlog::warn("failpoint {}: failing", name);
      return Internal("failpoint " + std::string(name));
    case Action::Kind::kCrash:
      spdlog::warn("failpoint {}: crashing", name);
      ::kill(::getpid(), SIGKILL);
      ::_exit(137);
    case Action::Kind::kDelay:
      std::this_thread::sleep_for(std::chrono::milliseconds(it->second.delay_ms));
      return Ok();
  }
  return Ok();
}

}  // namespace berth
