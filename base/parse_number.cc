#include "base/parse_number.h"

#include <charconv>

namespace berth {

bool IsDecimal(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::optional<uint64_t> ParseUint64(std::string_view text, uint64_t max) {
  if (!IsDecimal(text)) return std::nullopt;
  uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, 10);
  if (error != std::errc() || end != text.data() + text.size() || value > max) return std::nullopt;
  return value;
}

std::optional<int64_t> ParseInt64(std::string_view text, int64_t min, int64_t max) {
  bool negative = !text.empty() && text.front() == '-';
  std::string_view digits = negative ? text.substr(1) : text;
  if (!IsDecimal(digits)) return std::nullopt;
  int64_t value = 0;
  // from_chars parses the sign itself; the digit check above keeps "+1", " 1" and "--1" out.
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, 10);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  if (value < min || value > max) return std::nullopt;
  return value;
}

std::optional<uint64_t> ParseHex(std::string_view text, uint64_t max) {
  if (text.empty()) return std::nullopt;
  for (char c : text) {
    bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!hex) return std::nullopt;
  }
  uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, 16);
  if (error != std::errc() || end != text.data() + text.size() || value > max) return std::nullopt;
  return value;
}

std::optional<uint32_t> ParseLinuxId(std::string_view text) {
  auto value = ParseUint64(text, kMaxLinuxId);
  if (!value) return std::nullopt;
  return static_cast<uint32_t>(*value);
}

bool IsPort(int64_t value, bool zero_allowed) {
  return value <= kMaxPort && (value > 0 || (zero_allowed && value == 0));
}

std::optional<uint16_t> ParsePortNumber(std::string_view text, bool zero_allowed) {
  auto value = ParseUint64(text, kMaxPort);
  if (!value || !IsPort(static_cast<int64_t>(*value), zero_allowed)) return std::nullopt;
  return static_cast<uint16_t>(*value);
}

}  // namespace berth
