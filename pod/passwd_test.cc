#include "pod/passwd.h"

#include <string>

#include "gtest/gtest.h"

namespace berth::pod {
namespace {

TEST(UserDatabaseTest, FindsUsersAndGroups) {
  UserDatabase db("root:x:0:0:root:/root:/bin/sh\n# comment\nweb:x:1000:1000::/home/web:/bin/sh\n",
                  "root:x:0:\nwheel:x:10:web,other\nweb:x:1000:\nlate:x:50000:web\n");
  ASSERT_NE(db.UserByName("web"), nullptr);
  EXPECT_EQ(*UserDatabase::Uid(*db.UserByName("web")), 1000u);
  EXPECT_EQ(db.UserById(0)->name, "root");
  EXPECT_EQ(db.UserById(7), nullptr);
  EXPECT_EQ(*db.GroupId("wheel"), 10u);
  EXPECT_EQ(*db.GroupId("4242"), 4242u);  // a number needs no entry
  EXPECT_FALSE(db.GroupId("nogroup").ok());
  EXPECT_EQ(*db.MembershipsOf("web"), (std::vector<uint32_t>{10, 50000}));
  EXPECT_TRUE(db.MembershipsOf("nobody")->empty());
}

TEST(UserDatabaseTest, IdsOutsideTheLinuxRangeAreErrorsWhenUsed) {
  UserDatabase db("big:x:4294967296:0::/:/bin/sh\nneg:x:-1:-1::/:/bin/sh\nmax:x:4294967295:0::/:\n",
                  "huge:x:99999999999:big\nfine:x:5:\n");
  for (const char* name : {"big", "neg", "max"}) {
    auto uid = UserDatabase::Uid(*db.UserByName(name));
    ASSERT_FALSE(uid.ok()) << name;
    EXPECT_EQ(uid.error().code(), ErrorCode::kInvalidArgument);
  }
  // An invalid uid never matches a lookup by number (no truncation to 0).
  EXPECT_EQ(db.UserById(0), nullptr);
  EXPECT_FALSE(db.GroupId("huge").ok());
  EXPECT_FALSE(db.GroupId("4294967295").ok());
  EXPECT_FALSE(db.MembershipsOf("big").ok());
  EXPECT_EQ(*db.GroupId("fine"), 5u);
}

TEST(UserDatabaseTest, HostileTextNeverThrowsOrMisparses) {
  std::string nul("a\0b:x:1:1\n", 10);
  std::string long_line(1 << 20, 'x');
  std::string text = nul + long_line + "\n:::\n::::::::::::\n\r\nshort:x\nok:x:3:4\r\n" +
                     std::string("\xff\xfe:x:9:9\n") + "noeol:x:5:6";
  UserDatabase db(text, text);
  ASSERT_NE(db.UserByName("ok"), nullptr);
  EXPECT_EQ(*UserDatabase::Gid(*db.UserByName("ok")), 4u);  // the CR is not part of the gid
  ASSERT_NE(db.UserByName("noeol"), nullptr);
  EXPECT_EQ(db.UserByName("short"), nullptr);
  EXPECT_EQ(db.UserById(9)->name, "\xff\xfe");
  EXPECT_FALSE(UserDatabase::Uid(*db.UserByName("")).ok());  // ":::" has an empty uid
}

TEST(ParseIdOrErrorTest, NamesWhatWasWrong) {
  auto id = ParseIdOrError("4294967296", "image USER");
  ASSERT_FALSE(id.ok());
  EXPECT_NE(id.error().message().find("image USER \"4294967296\""), std::string::npos);
}

}  // namespace
}  // namespace berth::pod
