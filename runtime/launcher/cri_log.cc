#include "runtime/launcher/cri_log.h"

#include <cstdio>

namespace berth::runtime {

std::string FormatRfc3339Nano(const timespec& time) {
  tm utc{};
  ::gmtime_r(&time.tv_sec, &utc);
  char buffer[64];
  int n = std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ",
                        utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min,
                        utc.tm_sec, time.tv_nsec);
  return std::string(buffer, static_cast<size_t>(n));
}

std::string FormatCriLogRecord(const timespec& time, LogStream stream, bool partial,
                               std::string_view text) {
  std::string record = FormatRfc3339Nano(time);
  record += stream == LogStream::kStdout ? " stdout " : " stderr ";
  record += partial ? "P " : "F ";
  record.append(text);
  record += '\n';
  return record;
}

}  // namespace berth::runtime
