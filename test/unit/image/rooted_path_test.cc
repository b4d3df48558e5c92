#include "image/rooted_path.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/file_util.h"
#include "test/unit/image/layer_test_util.h"

namespace berth::image {
namespace {

using Components = std::vector<std::string>;

TEST(CleanEntryPathTest, Cases) {
  EXPECT_EQ(CleanEntryPath("a/b/c"), (Components{"a", "b", "c"}));
  EXPECT_EQ(CleanEntryPath("./a//b/"), (Components{"a", "b"}));
  EXPECT_EQ(CleanEntryPath("/abs/path"), (Components{"abs", "path"}));
  EXPECT_EQ(CleanEntryPath("../../etc/passwd"), (Components{"etc", "passwd"}));
  EXPECT_EQ(CleanEntryPath("a/../../b"), (Components{"b"}));
  EXPECT_EQ(CleanEntryPath("a/b/../c/./d/.."), (Components{"a", "c"}));
  EXPECT_EQ(CleanEntryPath(".."), Components{});
  EXPECT_EQ(CleanEntryPath("./"), Components{});
  EXPECT_EQ(CleanEntryPath(""), Components{});
  EXPECT_EQ(CleanEntryPath("..."), (Components{"..."}));
  EXPECT_EQ(CleanEntryPath(".wh..wh..opq"), (Components{".wh..wh..opq"}));
  EXPECT_EQ(JoinComponents({"a", "b", "c"}, 2), "a/b");
  EXPECT_EQ(JoinComponents({"a"}, 0), "");
}

class RootedPathTest : public testing::LayerTest {
 protected:
  void SetUp() override {
    LayerTest::SetUp();
    ASSERT_TRUE(MakeDirs(layer_).ok());
    auto root = OpenFile(layer_, O_PATH | O_DIRECTORY);
    ASSERT_TRUE(root.ok());
    root_ = std::move(root).value();
  }
  UniqueFd root_;
};

TEST_F(RootedPathTest, MakeDirsCreatesInsideThroughSymlinks) {
  ASSERT_EQ(::symlink("/", L("up").c_str()), 0);
  ASSERT_EQ(::symlink("../../../x/y", L("dangling").c_str()), 0);
  ASSERT_TRUE(MakeDirsInRoot(root_, "up/a/b").ok());
  ASSERT_TRUE(MakeDirsInRoot(root_, "dangling/z").ok());
  ASSERT_TRUE(MakeDirsInRoot(root_, "/../../c").ok());
  EXPECT_TRUE(testing::Exists(L("a/b")));
  EXPECT_TRUE(testing::Exists(L("x/y/z")));
  EXPECT_TRUE(testing::Exists(L("c")));
  ExpectParentHolds({"layer"});
}

TEST_F(RootedPathTest, OpenInRootKeepsErrno) {
  auto missing = OpenDirInRoot(root_, "nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().sys_errno(), ENOENT);
  ASSERT_TRUE(WriteFileAtomic(L("file"), "x").ok());
  auto not_dir = OpenDirInRoot(root_, "file/below");
  ASSERT_FALSE(not_dir.ok());
  EXPECT_EQ(not_dir.error().sys_errno(), ENOTDIR);
}

TEST_F(RootedPathTest, RemovePathRemovesTreesButNotSymlinkTargets) {
  ASSERT_TRUE(MakeDirs(L("tree/a/b")).ok());
  ASSERT_TRUE(WriteFileAtomic(L("tree/a/b/f"), "x").ok());
  ASSERT_TRUE(MakeDirs(parent_ + "/outside").ok());
  ASSERT_TRUE(WriteFileAtomic(parent_ + "/outside/keep", "k").ok());
  ASSERT_EQ(::symlink((parent_ + "/outside").c_str(), L("tree/link").c_str()), 0);
  ASSERT_TRUE(RemovePathAt(root_, "tree").ok());
  EXPECT_FALSE(testing::Exists(L("tree")));
  EXPECT_TRUE(testing::Exists(parent_ + "/outside/keep"));
  EXPECT_TRUE(RemovePathAt(root_, "never-existed").ok());
}

}  // namespace
}  // namespace berth::image
