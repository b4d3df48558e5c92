// Hardlinks whose targets live in lower layers: copied up into the layer being applied.
#include <archive_entry.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "image/layer_extractor.h"
#include "test/unit/image/layer_test_util.h"
#include "test/unit/image/tar_builder.h"

namespace berth::image::testing {
namespace {

class LowerLayerTest : public LayerTest {
 protected:
  // Applies `tar` as a lower layer named `name` beside the layer under test.
  std::string MakeLower(const std::string& name, const TarBuilder& tar) {
    const std::string dir = parent_ + "/" + name;
    const std::string blob = tar.Build();
    MemoryByteSource source(blob);
    auto stats = ApplyLayer(source, dir);
    EXPECT_TRUE(stats.ok()) << stats.error().ToString();
    return dir;
  }
};

TEST_F(LowerLayerTest, TargetInLowerLayerIsCopiedUpThenLinked) {
  TarBuilder base;
  base.Add({.path = "bin/busybox",
            .mode = 04755,
            .content = "BUSYBOX",
            .mtime = 1111111111,
            .xattrs = {{"user.note", "base"}}});
  const std::string lower = MakeLower("lower", base);

  TarBuilder upper;
  upper.Hardlink("bin/sh", "bin/busybox");
  upper.Hardlink("usr/bin/env", "/bin/busybox");
  ApplyOptions options;
  options.lower_dirs = {lower};
  auto stats = Apply(upper.Build(), options);
  ASSERT_TRUE(stats.ok()) << stats.error().ToString();
  EXPECT_EQ(stats->copied_up, 1u);
  EXPECT_EQ(stats->bytes_written, 7u);

  struct stat copy {
  }, sh{}, env{}, original{};
  ASSERT_TRUE(Lstat(L("bin/busybox"), copy));
  ASSERT_TRUE(Lstat(L("bin/sh"), sh));
  ASSERT_TRUE(Lstat(L("usr/bin/env"), env));
  EXPECT_EQ(copy.st_ino, sh.st_ino);
  EXPECT_EQ(copy.st_ino, env.st_ino);
  EXPECT_EQ(copy.st_mode & 07777, 04755u);
  EXPECT_EQ(copy.st_mtim.tv_sec, 1111111111);
  EXPECT_EQ(ReadAll(L("bin/sh")), "BUSYBOX");
  char value[16];
  ASSERT_EQ(::lgetxattr(L("bin/busybox").c_str(), "user.note", value, sizeof(value)), 4);
  // The lower layer is read, never written.
  ASSERT_TRUE(Lstat(lower + "/bin/busybox", original));
  EXPECT_EQ(original.st_nlink, 1u);
  EXPECT_NE(original.st_ino, copy.st_ino);
}

TEST_F(LowerLayerTest, NearestLowerLayerWins) {
  const std::string bottom = MakeLower("bottom", TarBuilder().File("f", "bottom"));
  const std::string middle = MakeLower("middle", TarBuilder().File("f", "middle"));
  ApplyOptions options;
  options.lower_dirs = {middle, bottom};
  ASSERT_TRUE(Apply(TarBuilder().Hardlink("g", "f").Build(), options).ok());
  EXPECT_EQ(ReadAll(L("g")), "middle");
}

TEST_F(LowerLayerTest, SymlinkTargetIsCopiedAsASymlink) {
  const std::string lower = MakeLower("lower", TarBuilder().Symlink("lib/ld.so", "ld-2.36.so"));
  ApplyOptions options;
  options.lower_dirs = {lower};
  ASSERT_TRUE(Apply(TarBuilder().Hardlink("lib/ld-linux.so", "lib/ld.so").Build(), options).ok());
  EXPECT_EQ(ReadLink(L("lib/ld-linux.so")), "ld-2.36.so");
  EXPECT_EQ(ReadLink(L("lib/ld.so")), "ld-2.36.so");
}

TEST_F(LowerLayerTest, WhiteoutInBetweenHidesTheTarget) {
  const std::string bottom = MakeLower("bottom", TarBuilder().File("etc/f", "bottom"));
  const std::string middle = MakeLower("middle", TarBuilder().Marker("etc/.wh.f"));
  ApplyOptions options;
  options.lower_dirs = {middle, bottom};
  auto stats = Apply(TarBuilder().Hardlink("g", "etc/f").Build(), options);
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.error().code(), ErrorCode::kInvalidArgument);
}

TEST_F(LowerLayerTest, DeletedParentInBetweenHidesTheTarget) {
  const std::string bottom = MakeLower("bottom", TarBuilder().File("etc/f", "bottom"));
  const std::string middle = MakeLower("middle", TarBuilder().Marker(".wh.etc"));
  ApplyOptions options;
  options.lower_dirs = {middle, bottom};
  auto stats = Apply(TarBuilder().Hardlink("g", "etc/f").Build(), options);
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.error().code(), ErrorCode::kInvalidArgument);
}

TEST_F(LowerLayerTest, OpaqueDirectoryInBetweenHidesTheTarget) {
  if (!IsRoot()) GTEST_SKIP() << "trusted.overlay.opaque needs CAP_SYS_ADMIN";
  const std::string bottom = MakeLower("bottom", TarBuilder().File("etc/f", "bottom"));
  const std::string middle = MakeLower("middle", TarBuilder().Marker("etc/.wh..wh..opq"));
  ApplyOptions options;
  options.lower_dirs = {middle, bottom};
  auto stats = Apply(TarBuilder().Hardlink("g", "etc/f").Build(), options);
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.error().code(), ErrorCode::kInvalidArgument);
}

TEST_F(LowerLayerTest, OpaqueDirectoryInThisLayerHidesLowerTargets) {
  if (!IsRoot()) GTEST_SKIP() << "trusted.overlay.opaque needs CAP_SYS_ADMIN";
  const std::string lower = MakeLower("lower", TarBuilder().File("etc/f", "lower"));
  ApplyOptions options;
  options.lower_dirs = {lower};
  TarBuilder tar;
  tar.Marker("etc/.wh..wh..opq");
  tar.Hardlink("g", "etc/f");
  auto stats = Apply(tar.Build(), options);
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.error().code(), ErrorCode::kInvalidArgument);
}

TEST_F(LowerLayerTest, TargetInThisLayerIsPreferred) {
  const std::string lower = MakeLower("lower", TarBuilder().File("f", "lower"));
  ApplyOptions options;
  options.lower_dirs = {lower};
  TarBuilder tar;
  tar.File("f", "upper");
  tar.Hardlink("g", "f");
  auto stats = Apply(tar.Build(), options);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->copied_up, 0u);
  EXPECT_EQ(ReadAll(L("g")), "upper");
}

TEST_F(LowerLayerTest, LowerSymlinksDoNotLeadOutside) {
  // A lower layer's symlink is resolved inside that lower layer only.
  const std::string lower = MakeLower("lower", TarBuilder().Symlink("hostetc", "/etc"));
  ApplyOptions options;
  options.lower_dirs = {lower};
  auto stats = Apply(TarBuilder().Hardlink("stolen", "hostetc/passwd").Build(), options);
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(Exists(L("stolen")));
  ExpectParentHolds({"layer", "lower"});
}

}  // namespace
}  // namespace berth::image::testing
