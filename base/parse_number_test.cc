#include "base/parse_number.h"

#include "gtest/gtest.h"

namespace berth {
namespace {

TEST(ParseNumberTest, Uint64AcceptsOnlyWholeDecimalText) {
  EXPECT_EQ(ParseUint64("0"), 0u);
  EXPECT_EQ(ParseUint64("18446744073709551615"), UINT64_MAX);
  EXPECT_EQ(ParseUint64("007"), 7u);
  for (const char* bad : {"", "-1", "+1", " 1", "1 ", "1x", "0x10", "18446744073709551616",
                          "99999999999999999999999", "1.5"}) {
    EXPECT_FALSE(ParseUint64(bad).has_value()) << bad;
  }
  EXPECT_EQ(ParseUint64("64", 64), 64u);
  EXPECT_FALSE(ParseUint64("65", 64).has_value());
}

TEST(ParseNumberTest, Int64HonoursSignAndBounds) {
  EXPECT_EQ(ParseInt64("-9223372036854775808"), INT64_MIN);
  EXPECT_EQ(ParseInt64("9223372036854775807"), INT64_MAX);
  EXPECT_EQ(ParseInt64("-15"), -15);
  for (const char* bad :
       {"", "-", "--1", "+5", "9223372036854775808", "-9223372036854775809", "1e3", "\n1"}) {
    EXPECT_FALSE(ParseInt64(bad).has_value()) << bad;
  }
  EXPECT_EQ(ParseInt64("-1000", -1000, 1000), -1000);
  EXPECT_FALSE(ParseInt64("1001", -1000, 1000).has_value());
  EXPECT_FALSE(
      ParseInt64("99999999999", 1, 64).has_value());  // an image STOPSIGNAL seen in the wild
}

TEST(ParseNumberTest, Hex) {
  EXPECT_EQ(ParseHex("ff"), 255u);
  EXPECT_EQ(ParseHex("DeadBeef"), 0xdeadbeefu);
  EXPECT_FALSE(ParseHex("").has_value());
  EXPECT_FALSE(ParseHex("0x1").has_value());
  EXPECT_FALSE(ParseHex("g").has_value());
  EXPECT_FALSE(ParseHex("100", 0xff).has_value());
  EXPECT_FALSE(ParseHex("10000000000000000").has_value());
}

TEST(ParseNumberTest, LinuxIdsStopBelowTheInvalidId) {
  EXPECT_EQ(ParseLinuxId("0"), 0u);
  EXPECT_EQ(ParseLinuxId("4294967294"), 4294967294u);
  // (uid_t)-1 and anything that would truncate to a small id are not ids.
  EXPECT_FALSE(ParseLinuxId("4294967295").has_value());
  EXPECT_FALSE(ParseLinuxId("4294967296").has_value());
  EXPECT_FALSE(ParseLinuxId("-1").has_value());
  EXPECT_FALSE(ParseLinuxId("root").has_value());
}

TEST(ParseNumberTest, IsDecimal) {
  EXPECT_TRUE(IsDecimal("0123456789012345678901234567890"));
  EXPECT_FALSE(IsDecimal(""));
  EXPECT_FALSE(IsDecimal("12a"));
}

TEST(ParseNumberTest, Ports) {
  EXPECT_TRUE(IsPort(1));
  EXPECT_TRUE(IsPort(65535));
  EXPECT_FALSE(IsPort(0));
  EXPECT_TRUE(IsPort(0, /*zero_allowed=*/true));
  EXPECT_FALSE(IsPort(-1, true));
  EXPECT_FALSE(IsPort(65536, true));
  EXPECT_EQ(ParsePortNumber("08080"), 8080);
  EXPECT_EQ(ParsePortNumber("0", true), 0);
  for (const char* bad :
       {"0", "65536", "", "-1", "+80", " 80", "80 ", "1e3", "99999999999999999999"}) {
    EXPECT_FALSE(ParsePortNumber(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace berth
