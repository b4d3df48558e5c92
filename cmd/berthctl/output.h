// berthctl output: aligned tables for people, JSON for scripts.
#pragma once

#include <google/protobuf/message.h>

#include <cstdint>
#include <string>
#include <vector>

namespace berthctl {

// Prints rows as columns separated by at least two spaces; the first row is the header.
void PrintTable(const std::vector<std::vector<std::string>>& rows);

// Prints a CRI message as indented JSON (proto field names in lowerCamelCase, defaults shown),
// the shape crictl uses for -o json.
void PrintJson(const google::protobuf::Message& message);

// The same JSON on one line, for streams of messages (one JSON document a line).
void PrintJsonLine(const google::protobuf::Message& message);

// Bytes in decimal units with `digits` significant digits, like docker's units.HumanSize
// (crictl uses 3 for image sizes, 4 for stats): "1.234MB", "512B".
std::string HumanSize(uint64_t bytes, int digits);

}  // namespace berthctl
