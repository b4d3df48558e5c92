#include "cmd/berthctl/output.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cstdio>

namespace berthctl {

void PrintTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    std::printf("%s\n", line.c_str());
  }
}

namespace {

void PrintMessage(const google::protobuf::Message& message, bool indent) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = indent;
  options.always_print_primitive_fields = true;
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  std::printf("%s", json.c_str());
  if (json.empty() || json.back() != '\n') std::printf("\n");
}

}  // namespace

void PrintJson(const google::protobuf::Message& message) {
  PrintMessage(message, true);
}

void PrintJsonLine(const google::protobuf::Message& message) {
  PrintMessage(message, false);
}

std::string HumanSize(uint64_t bytes, int digits) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1000 && unit < 4) {
    value /= 1000;
    ++unit;
  }
  char text[32];
  if (unit == 0) {
    std::snprintf(text, sizeof text, "%.0f%s", value, units[unit]);
  } else {
    std::snprintf(text, sizeof text, "%.*g%s", digits, value, units[unit]);
  }
  return text;
}

}  // namespace berthctl
