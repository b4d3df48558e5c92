// berthctl output: aligned tables for people, JSON for scripts.
#pragma once

#include <google/protobuf/message.h>

#include <string>
#include <vector>

namespace berthctl {

// Prints rows as columns separated by at least two spaces; the first row is the header.
void PrintTable(const std::vector<std::vector<std::string>>& rows);

// Prints a CRI message as indented JSON (proto field names in lowerCamelCase, defaults shown),
// the shape crictl uses for -o json.
void PrintJson(const google::protobuf::Message& message);

}  // namespace berthctl
