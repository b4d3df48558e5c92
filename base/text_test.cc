#include "base/text.h"

#include <string>

#include "gtest/gtest.h"

namespace berth {
namespace {

TEST(TextTest, ControlCharacters) {
  EXPECT_FALSE(HasControlCharacter("web-1.example"));
  EXPECT_FALSE(HasControlCharacter("caf\xc3\xa9"));
  for (std::string bad : {std::string("a\nb"), std::string("a\0b", 3), std::string("\t"),
                          std::string("x\x7f"), std::string("\x1b[31m")}) {
    EXPECT_TRUE(HasControlCharacter(bad)) << EscapeControlCharacters(bad);
  }
}

TEST(TextTest, Utf8) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"));  // é € 😀
  for (const char* bad : {"\xff", "\xc3", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80",
                          "\xf4\x90\x80\x80", "\xf8\x88\x80\x80\x80", "a\x80"}) {
    EXPECT_FALSE(IsValidUtf8(bad)) << EscapeControlCharacters(bad);
  }
}

TEST(TextTest, CheckPrintableNamesTheField) {
  EXPECT_TRUE(CheckPrintable("ok", "pod name").ok());
  auto newline = CheckPrintable("a\nb", "pod name");
  ASSERT_FALSE(newline.ok());
  EXPECT_EQ(newline.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(newline.error().message(), "pod name \"a\\nb\" has a control character");
  EXPECT_FALSE(CheckPrintable("\xff", "env FOO").ok());
}

TEST(TextTest, EscapeKeepsEveryValueOnOneLine) {
  EXPECT_EQ(EscapeControlCharacters("a\nb\r\tc\\d\x01"), "a\\nb\\r\\tc\\\\d\\x01");
  EXPECT_EQ(EscapeControlCharacters("caf\xc3\xa9"), "caf\xc3\xa9");
}

}  // namespace
}  // namespace berth
