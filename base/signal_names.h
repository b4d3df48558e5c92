// Signal names as images (STOPSIGNAL) and the CRI write them: "SIGTERM", "TERM", "15",
// "SIGRTMIN+3". One table for the whole daemon; no name is ever turned into a number elsewhere.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace berth {

// The signal's number, or std::nullopt when the text names no Linux signal (1..64).
std::optional<int> ParseSignal(std::string_view text);

// "SIGTERM" for 15, "SIGRTMIN+3" for 37; "" for no signal.
std::string SignalName(int number);

}  // namespace berth
