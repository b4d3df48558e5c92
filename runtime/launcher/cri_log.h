// The CRI container log format kubelet reads: "<RFC3339Nano> <stdout|stderr> <F|P> <text>\n".
// A line longer than kMaxLineBytes is cut into P (partial) records followed by one F record, so a
// container cannot make the monitor buffer without bound. Kept free of iostreams and heavy
// libraries: the monitor links it.
#pragma once

#include <ctime>
#include <string>
#include <string_view>

namespace berth::runtime {

enum class LogStream { kStdout, kStderr };

inline constexpr size_t kMaxLogLineBytes = 16 * 1024;

// "2024-05-01T12:34:56.123456789Z" (UTC, always nine fraction digits; RFC3339Nano parsers accept
// it).
std::string FormatRfc3339Nano(const timespec& time);

std::string FormatCriLogRecord(const timespec& time, LogStream stream, bool partial,
                               std::string_view text);

// Cuts one stream's bytes into log records. `emit(bool partial, std::string_view text)`.
class CriLineSplitter {
 public:
  template <typename Emit>
  void Feed(std::string_view data, Emit&& emit) {
    while (!data.empty()) {
      size_t newline = data.find('\n');
      size_t room = kMaxLogLineBytes - pending_.size();
      if (newline != std::string_view::npos && newline <= room) {
        pending_.append(data.substr(0, newline));
        emit(false, std::string_view(pending_));
        pending_.clear();
        data.remove_prefix(newline + 1);
        continue;
      }
      size_t take = std::min(room, data.size());
      pending_.append(data.substr(0, take));
      data.remove_prefix(take);
      if (pending_.size() == kMaxLogLineBytes) {
        emit(true, std::string_view(pending_));
        pending_.clear();
      }
    }
  }

  // At end of stream, text without a final newline stays a P record: the container never ended
  // that line (kubelet then prints it without adding one).
  template <typename Emit>
  void Finish(Emit&& emit) {
    if (!pending_.empty()) emit(true, std::string_view(pending_));
    pending_.clear();
  }

 private:
  std::string pending_;
};

}  // namespace berth::runtime
