#include "base/signal_names.h"

#include <signal.h>

#include <tuple>
#include <utility>

#include "base/parse_number.h"

namespace berth {
namespace {

constexpr std::pair<std::string_view, int> kSignals[] = {
    {"HUP", SIGHUP},       {"INT", SIGINT},     {"QUIT", SIGQUIT}, {"ILL", SIGILL},
    {"TRAP", SIGTRAP},     {"ABRT", SIGABRT},   {"IOT", SIGIOT},   {"BUS", SIGBUS},
    {"FPE", SIGFPE},       {"KILL", SIGKILL},   {"USR1", SIGUSR1}, {"SEGV", SIGSEGV},
    {"USR2", SIGUSR2},     {"PIPE", SIGPIPE},   {"ALRM", SIGALRM}, {"TERM", SIGTERM},
    {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD},   {"CLD", SIGCHLD},  {"CONT", SIGCONT},
    {"STOP", SIGSTOP},     {"TSTP", SIGTSTP},   {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},
    {"URG", SIGURG},       {"XCPU", SIGXCPU},   {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM},
    {"PROF", SIGPROF},     {"WINCH", SIGWINCH}, {"IO", SIGIO},     {"POLL", SIGPOLL},
    {"PWR", SIGPWR},       {"SYS", SIGSYS},
};

// The kernel's real-time range; glibc reserves the first few, but images name them by the
// kernel's numbering ("SIGRTMIN+3" = 37), as runc and containerd read them.
constexpr int kRtMin = 34;
constexpr int kRtMax = 64;

std::optional<int> ParseRealtime(std::string_view name) {
  if (name == "RTMIN") return kRtMin;
  if (name == "RTMAX") return kRtMax;
  for (auto [prefix, base, sign] : {std::tuple{std::string_view("RTMIN+"), kRtMin, 1},
                                    std::tuple{std::string_view("RTMAX-"), kRtMax, -1}}) {
    if (name.substr(0, prefix.size()) != prefix) continue;
    auto offset = ParseUint64(name.substr(prefix.size()), kRtMax - kRtMin);
    if (!offset) return std::nullopt;
    return base + sign * static_cast<int>(*offset);
  }
  return std::nullopt;
}

}  // namespace

std::optional<int> ParseSignal(std::string_view text) {
  if (IsDecimal(text)) {
    auto number = ParseUint64(text, kRtMax);
    if (!number || *number == 0) return std::nullopt;
    return static_cast<int>(*number);
  }
  std::string_view name = text.substr(0, 3) == "SIG" ? text.substr(3) : text;
  for (const auto& [signal_name, number] : kSignals) {
    if (name == signal_name) return number;
  }
  return ParseRealtime(name);
}

std::string SignalName(int number) {
  for (const auto& [signal_name, value] : kSignals) {
    if (value == number) return "SIG" + std::string(signal_name);
  }
  if (number == kRtMin) return "SIGRTMIN";
  if (number > kRtMin && number < kRtMax) return "SIGRTMIN+" + std::to_string(number - kRtMin);
  if (number == kRtMax) return "SIGRTMAX";
  return "";
}

}  // namespace berth
