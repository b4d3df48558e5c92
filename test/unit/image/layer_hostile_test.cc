// Hostile layers: every test checks that nothing was created or changed outside the layer dir
// (the temp parent holds only what the test put there) and that the applier either confined the
// entry inside the layer or refused the layer with InvalidArgument.
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "base/file_util.h"
#include "image/layer_extractor.h"
#include "test/unit/image/layer_test_util.h"
#include "test/unit/image/tar_builder.h"

namespace berth::image::testing {
namespace {

// A host file whose identity and content must not change.
struct Snapshot {
  explicit Snapshot(const std::string& path) : path(path) {
    Lstat(path, before);
    content = ReadAll(path);
  }
  void ExpectUnchanged() const {
    struct stat after {};
    ASSERT_TRUE(Lstat(path, after)) << path << " disappeared";
    EXPECT_EQ(after.st_ino, before.st_ino) << path;
    EXPECT_EQ(after.st_nlink, before.st_nlink) << path;
    EXPECT_EQ(after.st_mode, before.st_mode) << path;
    EXPECT_EQ(after.st_mtim.tv_sec, before.st_mtim.tv_sec) << path;
    EXPECT_EQ(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec) << path;
    EXPECT_EQ(ReadAll(path), content) << path;
  }
  std::string path;
  struct stat before {};
  std::string content;
};

class HostileLayerTest : public LayerTest {
 protected:
  void SetUp() override {
    LayerTest::SetUp();
    unique_ = "berth-evil-" + std::to_string(::getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name();
    ASSERT_FALSE(Exists("/etc/" + unique_));
    ASSERT_FALSE(Exists("/" + unique_));
  }
  void TearDown() override {
    // Only ever present if the applier escaped; never leave it behind.
    EXPECT_FALSE(Exists("/etc/" + unique_)) << "ESCAPED to /etc";
    EXPECT_FALSE(Exists("/" + unique_)) << "ESCAPED to /";
    ::unlink(("/etc/" + unique_).c_str());
    ::unlink(("/" + unique_).c_str());
    LayerTest::TearDown();
  }

  // Confined or refused with InvalidArgument: both are acceptable for a hostile layer.
  static void ExpectConfinedOrRefused(const Result<ExtractStats>& stats) {
    if (!stats.ok()) {
      EXPECT_EQ(stats.error().code(), ErrorCode::kInvalidArgument) << stats.error().ToString();
    }
  }

  std::string unique_;
};

TEST_F(HostileLayerTest, HostileNamesSurviveTheTarWriter) {
  // The premise of the other tests: the tar really carries these names.
  TarBuilder tar;
  tar.File("../../etc/" + unique_, "x").File("/abs/path", "x").File("a/../../b", "x");
  EXPECT_EQ(ListNames(tar.Build()),
            (std::vector<std::string>{"../../etc/" + unique_, "/abs/path", "a/../../b"}));
}

TEST_F(HostileLayerTest, DotDotStopsAtTheRoot) {
  Snapshot passwd("/etc/passwd");
  TarBuilder tar;
  tar.File("../../etc/" + unique_, "evil");
  tar.File("../" + unique_, "evil");
  tar.File("../../../../../../../../etc/passwd", "root::0:0::/:/bin/sh\n");
  auto stats = Apply(tar.Build());
  ASSERT_TRUE(stats.ok()) << stats.error().ToString();
  EXPECT_EQ(ReadAll(L("etc/" + unique_)), "evil");
  EXPECT_EQ(ReadAll(L(unique_)), "evil");
  EXPECT_EQ(ReadAll(L("etc/passwd")), "root::0:0::/:/bin/sh\n");
  passwd.ExpectUnchanged();
  ExpectParentHolds({"layer"});
}

TEST_F(HostileLayerTest, AbsolutePathsAreRelativeToTheLayer) {
  TarBuilder tar;
  tar.File("/abs/path", "a");
  tar.File(parent_ + "/outside", "b");  // the parent's real absolute path
  tar.Dir("/");
  auto stats = Apply(tar.Build());
  ASSERT_TRUE(stats.ok()) << stats.error().ToString();
  EXPECT_EQ(ReadAll(L("abs/path")), "a");
  EXPECT_EQ(ReadAll(layer_ + parent_ + "/outside"), "b");
  ExpectParentHolds({"layer"});
}

TEST_F(HostileLayerTest, DotDotInTheMiddle) {
  TarBuilder tar;
  tar.File("a/../../b", "b");
  tar.File("a/b/../../../../c", "c");
  tar.Dir("x/../../../y");
  auto stats = Apply(tar.Build());
  ASSERT_TRUE(stats.ok()) << stats.error().ToString();
  EXPECT_EQ(ReadAll(L("b")), "b");
  EXPECT_EQ(ReadAll(L("c")), "c");
  EXPECT_TRUE(Exists(L("y")));
  ExpectParentHolds({"layer"});
}

TEST_F(HostileLayerTest, SymlinkToHostRootThenWriteThroughIt) {
  Snapshot passwd("/etc/passwd");
  TarBuilder tar;
  tar.Symlink("x", "/");
  tar.File("x/etc/" + unique_, "evil");
  tar.File("x/etc/passwd", "pwned");
  tar.Symlink("p", parent_);  // the host path of the parent, absolute
  tar.File("p/escaped", "evil");
  tar.Dir("p/escaped-dir", 0777);
  auto stats = Apply(tar.Build());
  ExpectConfinedOrRefused(stats);
  ASSERT_TRUE(stats.ok()) << stats.error().ToString();
  EXPECT_EQ(ReadAll(L("etc/" + unique_)), "evil");
  EXPECT_EQ(ReadAll(L("etc/passwd")), "pwned");
  EXPECT_EQ(ReadAll(layer_ + parent_ + "/escaped"), "evil");
  EXPECT_EQ(ReadLink(L("x")), "/");
  passwd.ExpectUnchanged();
  ExpectParentHolds({"layer"});
}

TEST_F(HostileLayerTest, RelativeSymlinkClimbingOutThenWriteThroughIt) {
  TarBuilder tar;
  tar.Symlink("y", "../../..");
  tar.File("y/evil", "evil");
  tar.Dir("d");
  tar.Symlink("d/up", "../../../../../../tmp");
  tar.File("d/up/" + unique_, "evil");
  auto stats = Apply(tar.Build());
  ExpectConfinedOrRefused(stats);
  ASSERT_TRUE(stats.ok()) << stats.error().ToString();
  EXPECT_EQ(ReadAll(L("evil")), "evil");
  EXPECT_EQ(ReadAll(L("tmp/" + unique_)), "evil");
  EXPECT_FALSE(Exists("/tmp/" + unique_));
  ExpectParentHolds({"layer"});
}

TEST_F(HostileLayerTest, SymlinkChains) {
  TarBuilder tar;
  tar.Symlink("a", "b");
  tar.Symlink("b", "c/../../..");
  tar.Dir("c");
  tar.Symlink("c/d", "/../../a");
  tar.File("a/evil1", "1");
  tar.File("c/d/evil2", "2");
  tar.Symlink("e", "f");
  tar.Symlink("f", parent_);
  tar.File("e/evil3", "3");
  auto stats = Apply(tar.Build());
  ExpectConfinedOrRefused(stats);
  ASSERT_TRUE(stats.ok()) << stats.error().ToString();
  EXPECT_EQ(ReadAll(L("evil1")), "1");
  EXPECT_EQ(ReadAll(L("evil2")), "2");
  EXPECT_EQ(ReadAll(layer_ + parent_ + "/evil3"), "3");
  ExpectParentHolds({"layer"});
}

TEST_F(HostileLayerTest, SymlinkLoopIsRefused) {
  TarBuilder tar;
  tar.Symlink("a", "b");
  tar.Symlink("b", "a");
  tar.File("a/evil", "x");
  auto stats = Apply(tar.Build());
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.error().code(), ErrorCode::kInvalidArgument) << stats.error().ToString();
  ExpectParentHolds({"layer"});
}

TEST_F(HostileLayerTest, HardlinkToHostPasswdIsRefused) {
  Snapshot passwd("/etc/passwd");
  for (const std::string target : {"/etc/passwd", "../../../../etc/passwd", "etc/passwd"}) {
    SCOPED_TRACE(target);
    layer_ = parent_ + "/layer";
    std::filesystem::remove_all(layer_);
    TarBuilder tar;
    tar.Hardlink("stolen", target);
    auto stats = Apply(tar.Build());
    ASSERT_FALSE(stats.ok());
    EXPECT_EQ(stats.error().code(), ErrorCode::kInvalidArgument) << stats.error().ToString();
    EXPECT_NE(stats.error().message().find("\"stolen\""), std::string::npos)
        << stats.error().message();
    EXPECT_FALSE(Exists(L("stolen")));
  }
  passwd.ExpectUnchanged();
  ExpectParentHolds({"layer"});
}

TEST_F(HostileLayerTest, HardlinkToFileBesideTheLayerIsRefused) {
  ASSERT_TRUE(WriteFileAtomic(parent_ + "/outside", "secret").ok());
  Snapshot outside(parent_ + "/outside");
  for (const std::string& target :
       std::vector<std::string>{"../outside", "../../outside", parent_ + "/outside"}) {
    SCOPED_TRACE(target);
    std::filesystem::remove_all(layer_);
    TarBuilder tar;
    tar.Hardlink("h", target);
    auto stats = Apply(tar.Build());
    ASSERT_FALSE(stats.ok());
    EXPECT_EQ(stats.error().code(), ErrorCode::kInvalidArgument) << stats.error().ToString();
  }
  outside.ExpectUnchanged();
  ExpectParentHolds({"layer", "outside"});
}

TEST_F(HostileLayerTest, HardlinkThroughSymlinkToHostIsRefused) {
  Snapshot passwd("/etc/passwd");
  TarBuilder tar;
  tar.Symlink("hostetc", "/etc");
  tar.Symlink("up", "../..");
  tar.Hardlink("h1", "hostetc/passwd");
  auto stats = Apply(tar.Build());
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.error().code(), ErrorCode::kInvalidArgument);

  std::filesystem::remove_all(layer_);
  ASSERT_TRUE(WriteFileAtomic(parent_ + "/outside", "secret").ok());
  Snapshot outside(parent_ + "/outside");
  TarBuilder tar2;
  tar2.Symlink("up", "..");
  tar2.Hardlink("h2", "up/outside");
  stats = Apply(tar2.Build());
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.error().code(), ErrorCode::kInvalidArgument);
  passwd.ExpectUnchanged();
  outside.ExpectUnchanged();
  ExpectParentHolds({"layer", "outside"});
}

TEST_F(HostileLayerTest, ReplacingSymlinkToOutsideDirReplacesTheLinkOnly) {
  ASSERT_TRUE(MakeDirs(parent_ + "/outside_dir").ok());
  ASSERT_TRUE(WriteFileAtomic(parent_ + "/outside_dir/keep", "keep").ok());
  ASSERT_TRUE(WriteFileAtomic(parent_ + "/target_file", "original").ok());
  Snapshot keep(parent_ + "/outside_dir/keep");
  Snapshot target_file(parent_ + "/target_file");
  TarBuilder tar;
  tar.Symlink("esc", parent_ + "/outside_dir");
  tar.File("esc/new", "through the link");  // resolved inside the layer
  tar.File("esc", "now a file");            // replaces the link, not the directory
  tar.Symlink("esc2", parent_ + "/outside_dir");
  tar.Dir("esc2", 0777);  // a directory over a symlink: the link goes
  tar.Symlink("f", parent_ + "/target_file");
  tar.File("f", "overwritten?");
  tar.Symlink("g", parent_ + "/target_file");
  tar.Marker(".wh.g");
  auto stats = Apply(tar.Build());
  ASSERT_TRUE(stats.ok()) << stats.error().ToString();
  struct stat st {};
  ASSERT_TRUE(Lstat(L("esc"), st));
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(ReadAll(L("esc")), "now a file");
  EXPECT_EQ(ReadAll(layer_ + parent_ + "/outside_dir/new"), "through the link");
  ASSERT_TRUE(Lstat(L("esc2"), st));
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(ReadAll(L("f")), "overwritten?");
  ASSERT_TRUE(Lstat(L("g"), st));
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(ListDir(parent_ + "/outside_dir"), std::set<std::string>{"keep"});
  struct stat dir {};
  ASSERT_TRUE(Lstat(parent_ + "/outside_dir", dir));
  EXPECT_EQ(dir.st_mode & 07777, 0755u);
  keep.ExpectUnchanged();
  target_file.ExpectUnchanged();
  ExpectParentHolds({"layer", "outside_dir", "target_file"});
}

TEST_F(HostileLayerTest, WhiteoutsAndOpaqueMarkersThroughSymlinksStayInside) {
  ASSERT_TRUE(MakeDirs(parent_ + "/victim").ok());
  ASSERT_TRUE(WriteFileAtomic(parent_ + "/victim/file", "v").ok());
  Snapshot victim(parent_ + "/victim/file");
  TarBuilder tar;
  tar.Symlink("x", parent_);
  tar.Marker("x/.wh.victim");  // must not delete the real parent/victim
  tar.Symlink("y", parent_ + "/victim");
  tar.Marker("y/.wh.file");
  tar.Marker("y/.wh..wh..opq");
  tar.Symlink("z", "../../..");
  tar.Marker("z/.wh..wh..opq");
  auto stats = Apply(tar.Build());
  ExpectConfinedOrRefused(stats);
  if (stats.ok()) {
    struct stat st {};
    ASSERT_TRUE(Lstat(layer_ + parent_ + "/victim", st));
    EXPECT_TRUE(S_ISCHR(st.st_mode) || S_ISDIR(st.st_mode));
  }
  char value[8];
  EXPECT_LT(
      ::lgetxattr((parent_ + "/victim").c_str(), "trusted.overlay.opaque", value, sizeof(value)),
      0);
  EXPECT_LT(::lgetxattr(parent_.c_str(), "trusted.overlay.opaque", value, sizeof(value)), 0);
  victim.ExpectUnchanged();
  ExpectParentHolds({"layer", "victim"});
}

TEST_F(HostileLayerTest, WritingAHardlinkedPathDoesNotWriteThroughTheLink) {
  TarBuilder tar;
  tar.File("original", "original");
  tar.Hardlink("alias", "original");
  tar.File("alias", "replacement");
  ASSERT_TRUE(Apply(tar.Build()).ok());
  EXPECT_EQ(ReadAll(L("original")), "original");
  EXPECT_EQ(ReadAll(L("alias")), "replacement");
}

TEST_F(HostileLayerTest, WhiteoutWithoutANameIsRefused) {
  for (const std::string marker : {".wh..", ".wh...", "d/.wh."}) {
    SCOPED_TRACE(marker);
    std::filesystem::remove_all(layer_);
    auto stats = Apply(TarBuilder().Marker(marker).Build());
    ASSERT_FALSE(stats.ok());
    EXPECT_EQ(stats.error().code(), ErrorCode::kInvalidArgument);
  }
  ExpectParentHolds({"layer"});
}

TEST_F(HostileLayerTest, FileWhereADirectoryIsNeededIsRefused) {
  TarBuilder tar;
  tar.File("f", "file");
  tar.File("f/child", "x");
  auto stats = Apply(tar.Build());
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.error().code(), ErrorCode::kInvalidArgument) << stats.error().ToString();
  ExpectParentHolds({"layer"});
}

TEST_F(HostileLayerTest, OversizedNamesAreRefused) {
  TarBuilder tar;
  tar.File(std::string(300, 'n'), "x");  // one component longer than NAME_MAX
  auto stats = Apply(tar.Build());
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.error().code(), ErrorCode::kInvalidArgument);
  std::filesystem::remove_all(layer_);
  std::string long_path;
  while (long_path.size() < 5000) long_path += "abcdefgh/";
  stats = Apply(TarBuilder().File(long_path + "f", "x").Build());
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.error().code(), ErrorCode::kInvalidArgument);
  std::filesystem::remove_all(layer_);
  stats = Apply(TarBuilder().Symlink("s", std::string(5000, 's')).Build());
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.error().code(), ErrorCode::kInvalidArgument);
  ExpectParentHolds({"layer"});
}

TEST_F(HostileLayerTest, OutOfRangeOwnerIsRefused) {
  TarBuilder tar;
  tar.Add({.path = "f", .content = "x", .uid = 0xffffffffLL, .gid = 0});
  auto stats = Apply(tar.Build());
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.error().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace berth::image::testing
