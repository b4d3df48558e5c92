// CRI log records and the cutting of long lines into P...F.
#include "runtime/launcher/cri_log.h"

#include <vector>

#include "gtest/gtest.h"

namespace berth {
namespace {

TEST(CriLogTest, FormatsRecords) {
  timespec time{1714566896, 5};  // 2024-05-01T12:34:56Z
  EXPECT_EQ(runtime::FormatRfc3339Nano(time), "2024-05-01T12:34:56.000000005Z");
  EXPECT_EQ(runtime::FormatCriLogRecord(time, runtime::LogStream::kStdout, false, "hello"),
            "2024-05-01T12:34:56.000000005Z stdout F hello\n");
  EXPECT_EQ(runtime::FormatCriLogRecord(time, runtime::LogStream::kStderr, true, ""),
            "2024-05-01T12:34:56.000000005Z stderr P \n");
}

std::vector<std::string> Split(const std::vector<std::string>& chunks, bool finish = true) {
  runtime::CriLineSplitter splitter;
  std::vector<std::string> records;
  auto emit = [&](bool partial, std::string_view text) {
    records.push_back((partial ? "P:" : "F:") +
                      std::string(text.size() > 20 ? std::to_string(text.size()) : text));
  };
  for (const auto& chunk : chunks) splitter.Feed(chunk, emit);
  if (finish) splitter.Finish(emit);
  return records;
}

TEST(CriLogTest, LinesAcrossReadsAreJoined) {
  EXPECT_EQ(Split({"he", "llo\nwor", "ld\n", "\n"}),
            (std::vector<std::string>{"F:hello", "F:world", "F:"}));
}

TEST(CriLogTest, LongLinesBecomePartialsThenFull) {
  std::string line(40000, 'a');
  EXPECT_EQ(Split({line + "\n"}), (std::vector<std::string>{"P:16384", "P:16384", "F:7232"}));
  // Exactly 16 KiB then the newline: one full P, then an empty F ends the line.
  EXPECT_EQ(Split({std::string(16384, 'b'), "\n"}), (std::vector<std::string>{"P:16384", "F:"}));
}

TEST(CriLogTest, UnterminatedTailStaysPartial) {
  EXPECT_EQ(Split({"a\nb"}), (std::vector<std::string>{"F:a", "P:b"}));
  EXPECT_EQ(Split({"a\nb"}, false), (std::vector<std::string>{"F:a"}));
}

}  // namespace
}  // namespace berth
