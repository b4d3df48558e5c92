// The one way berth turns text into a number: images, files under /proc and /sys, requests and
// config all go through these. They never throw and never wrap: the whole text must be a number
// in range, or the answer is std::nullopt (no sign, space or suffix is skipped).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace berth {

// Decimal digits only ("0".."18446744073709551615"); `max` bounds the accepted value.
std::optional<uint64_t> ParseUint64(std::string_view text, uint64_t max = UINT64_MAX);
// An optional leading '-', then decimal digits, within [min, max].
std::optional<int64_t> ParseInt64(std::string_view text, int64_t min = INT64_MIN,
                                  int64_t max = INT64_MAX);
// Hexadecimal digits only (either case), at most `max`.
std::optional<uint64_t> ParseHex(std::string_view text, uint64_t max = UINT64_MAX);

// A Linux uid or gid from untrusted text: 0..4294967294 (4294967295 is (uid_t)-1, "no id").
inline constexpr uint32_t kMaxLinuxId = 4294967294U;
std::optional<uint32_t> ParseLinuxId(std::string_view text);

// A TCP/UDP port number: 1..65535, or 0 too where `zero_allowed` (a listener's "any port", a
// mapping without a host port). Every port berth reads goes through these.
inline constexpr int64_t kMaxPort = 65535;
bool IsPort(int64_t value, bool zero_allowed = false);
std::optional<uint16_t> ParsePortNumber(std::string_view text, bool zero_allowed = false);

// Whether `text` is one or more decimal digits (whatever its size).
bool IsDecimal(std::string_view text);

}  // namespace berth
