#include "base/signal_names.h"

#include <signal.h>

#include "gtest/gtest.h"

namespace berth {
namespace {

TEST(SignalNamesTest, ParsesTheFormsImagesUse) {
  EXPECT_EQ(ParseSignal("SIGTERM"), SIGTERM);
  EXPECT_EQ(ParseSignal("TERM"), SIGTERM);
  EXPECT_EQ(ParseSignal("15"), 15);
  EXPECT_EQ(ParseSignal("SIGQUIT"), SIGQUIT);
  EXPECT_EQ(ParseSignal("SIGRTMIN+3"), 37);
  EXPECT_EQ(ParseSignal("RTMAX-1"), 63);
  EXPECT_EQ(ParseSignal("64"), 64);
  // The CRI's Signal enum names the aliases too (SIGCLD, SIGPOLL, SIGIOT).
  EXPECT_EQ(ParseSignal("SIGCLD"), SIGCHLD);
  EXPECT_EQ(ParseSignal("SIGPOLL"), SIGIO);
  EXPECT_EQ(SignalName(SIGCHLD), "SIGCHLD");
}

TEST(SignalNamesTest, RefusesWhatNamesNoSignal) {
  for (const char* bad : {"", "0", "65", "99999999999", "-9", "SIGFOO", "sigterm", "SIG",
                          "SIGRTMIN+31", "SIGRTMIN+", "RTMAX-x", " 9"}) {
    EXPECT_FALSE(ParseSignal(bad).has_value()) << bad;
  }
}

TEST(SignalNamesTest, NamesRoundTrip) {
  for (int number = 1; number <= 64; ++number) {
    if (number == 32 || number == 33) continue;  // glibc's own, no name
    std::string name = SignalName(number);
    ASSERT_FALSE(name.empty()) << number;
    EXPECT_EQ(ParseSignal(name), number) << name;
  }
  EXPECT_EQ(SignalName(SIGKILL), "SIGKILL");
  EXPECT_EQ(SignalName(0), "");
}

}  // namespace
}  // namespace berth
