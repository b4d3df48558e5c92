// Checks and escapes for text that comes from outside (CRI requests, images, registries) before
// it reaches a file with a line format (/etc/hosts, resolv.conf), a JSON record or the log.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace berth {

// Whether `text` holds a byte below 0x20 or DEL (newline, tab, NUL, escape...).
bool HasControlCharacter(std::string_view text);

// Whether `text` is well-formed UTF-8 (no overlong forms, surrogates or values past U+10FFFF).
bool IsValidUtf8(std::string_view text);

// InvalidArgument naming `what` unless `text` is valid UTF-8 without control characters.
Result<void> CheckPrintable(std::string_view text, std::string_view what);

// `text` with control characters written as \n, \t, \r or \xNN and backslashes doubled, so that
// no logged value can start a line of its own.
std::string EscapeControlCharacters(std::string_view text);

}  // namespace berth
