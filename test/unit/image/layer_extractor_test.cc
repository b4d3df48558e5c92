#include "image/layer_extractor.h"

#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstdio>
#include <thread>

#include "base/file_util.h"
#include "test/unit/image/layer_test_util.h"
#include "test/unit/image/tar_builder.h"

namespace berth::image::testing {
namespace {

std::string XattrOf(const std::string& path, const std::string& name) {
  char value[256];
  const ssize_t length = ::lgetxattr(path.c_str(), name.c_str(), value, sizeof(value));
  return length < 0 ? "<none>" : std::string(value, static_cast<size_t>(length));
}

std::string Sha256SumOfFile(const std::string& path) {
  std::string command = "sha256sum '" + path + "'";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return "";
  char buffer[128] = {};
  const size_t got = std::fread(buffer, 1, 64, pipe);
  ::pclose(pipe);
  return "sha256:" + std::string(buffer, got);
}

using LayerApplyTest = LayerTest;

TEST_F(LayerApplyTest, FilesDirectoriesModesAndTimes) {
  TarBuilder tar;
  tar.Add({.path = "etc/", .type = AE_IFDIR, .mode = 0750, .mtime = 1600000000, .mtime_nsec = 5});
  tar.Add({.path = "etc/hosts",
           .mode = 0640,
           .content = "127.0.0.1 localhost\n",
           .mtime = 1500000000,
           .mtime_nsec = 123456789});
  tar.File("bin/su", "#!/bin/sh\n", 04755);
  tar.Dir("tmp", 01777);
  tar.File("./usr/share/doc/readme", "hello", 0444);
  auto stats = Apply(tar.Build());
  ASSERT_TRUE(stats.ok()) << stats.error().ToString();
  EXPECT_EQ(stats->entries, 5u);
  EXPECT_EQ(stats->bytes_written, 20u + 10u + 5u);

  struct stat st {};
  ASSERT_TRUE(Lstat(L("etc"), st));
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0750u);
  // Set after "etc/hosts" was created inside it.
  EXPECT_EQ(st.st_mtim.tv_sec, 1600000000);
  EXPECT_EQ(st.st_mtim.tv_nsec, 5);
  ASSERT_TRUE(Lstat(L("etc/hosts"), st));
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(st.st_mtim.tv_sec, 1500000000);
  EXPECT_EQ(st.st_mtim.tv_nsec, 123456789);
  EXPECT_EQ(ReadAll(L("etc/hosts")), "127.0.0.1 localhost\n");
  ASSERT_TRUE(Lstat(L("bin/su"), st));
  EXPECT_EQ(st.st_mode & 07777, 04755u);
  ASSERT_TRUE(Lstat(L("tmp"), st));
  EXPECT_EQ(st.st_mode & 07777, 01777u);
  // Implicit parents: 0755 directories.
  for (const char* implicit : {"bin", "usr", "usr/share", "usr/share/doc"}) {
    ASSERT_TRUE(Lstat(L(implicit), st)) << implicit;
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 0755u) << implicit;
  }
  EXPECT_EQ(ReadAll(L("usr/share/doc/readme")), "hello");
}

TEST_F(LayerApplyTest, OwnershipIsPreservedWhenRoot) {
  if (!IsRoot()) GTEST_SKIP() << "chown to arbitrary ids needs root";
  TarBuilder tar;
  tar.Add({.path = "home/user/", .type = AE_IFDIR, .mode = 0700, .uid = 1000, .gid = 1000});
  tar.Add({.path = "home/user/.profile", .content = "x", .uid = 1000, .gid = 100});
  tar.Add(
      {.path = "home/user/link", .type = AE_IFLNK, .link = ".profile", .uid = 1001, .gid = 1002});
  tar.Add({.path = "usr/bin/sudo", .mode = 04711, .content = "bin", .uid = 0, .gid = 0});
  ASSERT_TRUE(Apply(tar.Build()).ok());
  struct stat st {};
  ASSERT_TRUE(Lstat(L("home/user"), st));
  EXPECT_EQ(st.st_uid, 1000u);
  ASSERT_TRUE(Lstat(L("home/user/.profile"), st));
  EXPECT_EQ(st.st_uid, 1000u);
  EXPECT_EQ(st.st_gid, 100u);
  ASSERT_TRUE(Lstat(L("home/user/link"), st));
  EXPECT_EQ(st.st_uid, 1001u);
  EXPECT_EQ(st.st_gid, 1002u);
  // chown before chmod: the setuid bit survives.
  ASSERT_TRUE(Lstat(L("usr/bin/sudo"), st));
  EXPECT_EQ(st.st_mode & 07777, 04711u);
}

TEST_F(LayerApplyTest, OwnershipIsLeftAloneWhenNotPreserved) {
  TarBuilder tar;
  tar.Add({.path = "f", .content = "x", .uid = 4242, .gid = 4242});
  ApplyOptions options;
  options.preserve_ownership = false;
  ASSERT_TRUE(Apply(tar.Build(), options).ok());
  struct stat st {};
  ASSERT_TRUE(Lstat(L("f"), st));
  EXPECT_EQ(st.st_uid, ::geteuid());
}

TEST_F(LayerApplyTest, SymlinksStaySymlinksWithTheirTimes) {
  TarBuilder tar;
  tar.Add({.path = "bin/sh", .type = AE_IFLNK, .link = "/bin/busybox", .mtime = 1234567890});
  tar.Symlink("lib64", "usr/lib");
  tar.Symlink("dangling", "../../nowhere");
  ASSERT_TRUE(Apply(tar.Build()).ok());
  struct stat st {};
  ASSERT_TRUE(Lstat(L("bin/sh"), st));
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  EXPECT_EQ(st.st_mtim.tv_sec, 1234567890);
  EXPECT_EQ(ReadLink(L("bin/sh")), "/bin/busybox");
  EXPECT_EQ(ReadLink(L("lib64")), "usr/lib");
  EXPECT_EQ(ReadLink(L("dangling")), "../../nowhere");
}

TEST_F(LayerApplyTest, HardlinkInsideTheLayer) {
  TarBuilder tar;
  tar.File("bin/busybox", "BUSYBOX", 0755);
  tar.Hardlink("bin/sh", "bin/busybox");
  tar.Hardlink("usr/bin/ls", "./bin/../bin/busybox");
  ASSERT_TRUE(Apply(tar.Build()).ok());
  struct stat a {
  }, b{}, c{};
  ASSERT_TRUE(Lstat(L("bin/busybox"), a));
  ASSERT_TRUE(Lstat(L("bin/sh"), b));
  ASSERT_TRUE(Lstat(L("usr/bin/ls"), c));
  EXPECT_EQ(a.st_ino, b.st_ino);
  EXPECT_EQ(a.st_ino, c.st_ino);
  EXPECT_EQ(a.st_nlink, 3u);
}

TEST_F(LayerApplyTest, HardlinkToMissingTargetIsRefused) {
  TarBuilder tar;
  tar.Hardlink("bin/sh", "bin/busybox");
  auto stats = Apply(tar.Build());
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(stats.error().message().find("entry \"bin/sh\""), std::string::npos)
      << stats.error().message();
}

TEST_F(LayerApplyTest, HardlinkToDirectoryIsRefused) {
  TarBuilder tar;
  tar.Dir("d");
  tar.Hardlink("h", "d");
  auto stats = Apply(tar.Build());
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.error().code(), ErrorCode::kInvalidArgument);
}

TEST_F(LayerApplyTest, WhiteoutsBecomeCharacterDevices) {
  TarBuilder tar;
  tar.Marker(".wh.gone");
  tar.Dir("etc");
  tar.Marker("etc/.wh.motd");
  tar.Marker("var/lib/.wh.cache");  // parent created on the way
  auto stats = Apply(tar.Build());
  ASSERT_TRUE(stats.ok()) << stats.error().ToString();
  EXPECT_EQ(stats->whiteouts, 3u);
  for (const char* path : {"gone", "etc/motd", "var/lib/cache"}) {
    struct stat st {};
    ASSERT_TRUE(Lstat(L(path), st)) << path;
    EXPECT_TRUE(S_ISCHR(st.st_mode)) << path;
    EXPECT_EQ(st.st_rdev, makedev(0, 0)) << path;
  }
  EXPECT_FALSE(Exists(L(".wh.gone")));
  EXPECT_FALSE(Exists(L("etc/.wh.motd")));
}

TEST_F(LayerApplyTest, WhiteoutReplacesAnEarlierEntry) {
  TarBuilder tar;
  tar.File("a", "content");
  tar.Dir("d");
  tar.File("d/x", "x");
  tar.Marker(".wh.a");
  tar.Marker(".wh.d");
  ASSERT_TRUE(Apply(tar.Build()).ok());
  struct stat st {};
  ASSERT_TRUE(Lstat(L("a"), st));
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  ASSERT_TRUE(Lstat(L("d"), st));
  EXPECT_TRUE(S_ISCHR(st.st_mode));
}

TEST_F(LayerApplyTest, OpaqueDirectoryGetsTheOverlayXattr) {
  if (!IsRoot()) GTEST_SKIP() << "trusted.* xattrs need CAP_SYS_ADMIN";
  TarBuilder tar;
  tar.Dir("etc/app");
  tar.Marker("etc/app/.wh..wh..opq");
  tar.File("etc/app/conf", "new");
  tar.Marker("created/by/marker/.wh..wh..opq");
  auto stats = Apply(tar.Build());
  ASSERT_TRUE(stats.ok()) << stats.error().ToString();
  EXPECT_EQ(stats->opaque_dirs, 2u);
  EXPECT_EQ(XattrOf(L("etc/app"), "trusted.overlay.opaque"), "y");
  EXPECT_EQ(XattrOf(L("created/by/marker"), "trusted.overlay.opaque"), "y");
  EXPECT_EQ(XattrOf(L("etc"), "trusted.overlay.opaque"), "<none>");
  EXPECT_FALSE(Exists(L("etc/app/.wh..wh..opq")));
  EXPECT_EQ(ReadAll(L("etc/app/conf")), "new");
}

TEST_F(LayerApplyTest, OpaqueXattrNameIsConfigurable) {
  TarBuilder tar;
  tar.Marker("d/.wh..wh..opq");
  ApplyOptions options;
  options.opaque_xattr = "user.overlay.opaque";
  auto stats = Apply(tar.Build(), options);
  ASSERT_TRUE(stats.ok()) << stats.error().ToString();
  EXPECT_EQ(XattrOf(L("d"), "user.overlay.opaque"), "y");
}

TEST_F(LayerApplyTest, AufsMetadataIsIgnored) {
  TarBuilder tar;
  tar.Marker(".wh..wh.aufs");
  tar.Dir(".wh..wh.plnk");
  tar.File("keep", "k");
  auto stats = Apply(tar.Build());
  ASSERT_TRUE(stats.ok()) << stats.error().ToString();
  EXPECT_EQ(stats->skipped_entries, 2u);
  EXPECT_EQ(ListDir(layer_), std::set<std::string>{"keep"});
}

TEST_F(LayerApplyTest, LaterEntriesReplaceEarlierOnes) {
  TarBuilder tar;
  tar.File("x", "file first");
  tar.Dir("x", 0711);  // a directory over a file
  tar.Dir("y");
  tar.File("y/child", "c");
  tar.File("y", "file over dir");  // removes the directory and its content
  tar.Dir("z", 0755);
  tar.File("z/keep", "k");
  tar.Dir("z", 0700);  // a directory over a directory merges
  tar.File("w", "old");
  tar.File("w", "new");
  tar.Symlink("s", "target");
  tar.File("s", "file over symlink");
  ASSERT_TRUE(Apply(tar.Build()).ok());
  struct stat st {};
  ASSERT_TRUE(Lstat(L("x"), st));
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0711u);
  EXPECT_EQ(ReadAll(L("y")), "file over dir");
  ASSERT_TRUE(Lstat(L("z"), st));
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  EXPECT_EQ(ReadAll(L("z/keep")), "k");
  EXPECT_EQ(ReadAll(L("w")), "new");
  ASSERT_TRUE(Lstat(L("s"), st));
  EXPECT_TRUE(S_ISREG(st.st_mode));
}

TEST_F(LayerApplyTest, FifosAndDevices) {
  TarBuilder tar;
  tar.Fifo("run/pipe");
  tar.Device("dev/null", AE_IFCHR, 1, 3);
  tar.Device("dev/loop9", AE_IFBLK, 7, 9);
  auto stats = Apply(tar.Build());
  ASSERT_TRUE(stats.ok()) << stats.error().ToString();
  struct stat st {};
  ASSERT_TRUE(Lstat(L("run/pipe"), st));
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  if (!IsRoot()) {
    EXPECT_FALSE(Exists(L("dev/null")));
    EXPECT_EQ(stats->skipped_entries, 2u);
    GTEST_SKIP() << "device nodes are only created as root";
  }
  ASSERT_TRUE(Lstat(L("dev/null"), st));
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(1, 3));
  EXPECT_EQ(st.st_mode & 07777, 0666u);
  ASSERT_TRUE(Lstat(L("dev/loop9"), st));
  EXPECT_TRUE(S_ISBLK(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(7, 9));
}

TEST_F(LayerApplyTest, DevicesSkippedWhenDisabled) {
  TarBuilder tar;
  tar.Device("dev/null", AE_IFCHR, 1, 3);
  ApplyOptions options;
  options.create_devices = false;
  auto stats = Apply(tar.Build(), options);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->skipped_entries, 1u);
  EXPECT_FALSE(Exists(L("dev/null")));
}

TEST_F(LayerApplyTest, XattrsAppliedAndOverlayOnesFiltered) {
  TarBuilder tar;
  tar.Add({.path = "f",
           .content = "x",
           .xattrs = {{"user.origin", "layer"},
                      {"trusted.overlay.redirect", "/etc"},
                      {"user.overlay.metacopy", ""},
                      {"system.weird", "v"}}});
  tar.Add({.path = "d/", .type = AE_IFDIR, .xattrs = {{"trusted.overlay.opaque", "y"}}});
  auto stats = Apply(tar.Build());
  ASSERT_TRUE(stats.ok()) << stats.error().ToString();
  EXPECT_EQ(XattrOf(L("f"), "user.origin"), "layer");
  EXPECT_EQ(XattrOf(L("f"), "trusted.overlay.redirect"), "<none>");
  EXPECT_EQ(XattrOf(L("d"), "trusted.overlay.opaque"), "<none>");
  EXPECT_EQ(stats->skipped_xattrs, 4u);
}

TEST_F(LayerApplyTest, SecurityCapabilitySurvivesOwnershipChange) {
  if (!IsRoot()) GTEST_SKIP() << "security.capability needs root";
  // VFS_CAP_REVISION_2 with CAP_NET_BIND_SERVICE (bit 10) permitted and effective.
  const std::string capability(
      "\x01\x00\x00\x02\x00\x04\x00\x00\x00\x00\x00\x00"
      "\x00\x00\x00\x00\x00\x00\x00\x00",
      20);
  TarBuilder tar;
  tar.Add({.path = "bin/ping",
           .mode = 0755,
           .content = "elf",
           .uid = 0,
           .gid = 0,
           .xattrs = {{"security.capability", capability}}});
  ASSERT_TRUE(Apply(tar.Build()).ok());
  char value[64];
  const ssize_t length =
      ::lgetxattr(L("bin/ping").c_str(), "security.capability", value, sizeof(value));
  ASSERT_EQ(length, 20);
  EXPECT_EQ(std::string(value, 20), capability);
}

TEST_F(LayerApplyTest, RootEntriesAreIgnored) {
  TarBuilder tar;
  tar.Dir("./", 0700);
  tar.Dir("/", 0700);
  tar.File("f", "x");
  auto stats = Apply(tar.Build());
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->skipped_entries, 2u);
  struct stat st {};
  ASSERT_TRUE(Lstat(layer_, st));
  EXPECT_EQ(st.st_mode & 07777, 0755u);
}

TEST_F(LayerApplyTest, DanglingSymlinkParentIsFollowedInsideTheRoot) {
  TarBuilder tar;
  tar.Symlink("var/run", "../run/sub");  // "run/sub" does not exist yet
  tar.File("var/run/app.pid", "42");
  ASSERT_TRUE(Apply(tar.Build()).ok());
  EXPECT_EQ(ReadLink(L("var/run")), "../run/sub");
  EXPECT_EQ(ReadAll(L("run/sub/app.pid")), "42");
}

TEST_F(LayerApplyTest, CompressionVariantsGiveSameTreeAndDiffId) {
  TarBuilder tar;
  tar.Dir("a", 0700);
  tar.File("a/big", std::string(300000, 'z') + "end", 0600);
  tar.Symlink("a/link", "big");
  tar.Hardlink("a/hard", "a/big");
  const std::string plain = tar.Build();
  const std::string plain_path = parent_ + "/plain.tar";
  ASSERT_TRUE(WriteFileAtomic(plain_path, plain).ok());
  const std::string expected_diff_id = Sha256SumOfFile(plain_path);
  ASSERT_EQ(expected_diff_id.size(), 71u);
  ASSERT_EQ(expected_diff_id, ComputeDigest(plain).String());

  const std::string half1 = plain.substr(0, plain.size() / 2);
  const std::string half2 = plain.substr(plain.size() / 2);
  const std::vector<std::pair<std::string, Compression>> variants = {
      {plain, Compression::kNone},
      {Gzip(plain), Compression::kGzip},
      {Zstd(plain), Compression::kZstd},
      {Gzip(half1) + Gzip(half2), Compression::kGzip},  // a multi-member gzip file
      {Zstd(half1) + Zstd(half2), Compression::kZstd},  // two zstd frames
  };
  for (size_t i = 0; i < variants.size(); ++i) {
    SCOPED_TRACE("variant " + std::to_string(i));
    layer_ = parent_ + "/layer" + std::to_string(i);
    auto stats = Apply(variants[i].first);
    ASSERT_TRUE(stats.ok()) << stats.error().ToString();
    EXPECT_EQ(stats->compression, variants[i].second);
    EXPECT_EQ(stats->diff_id.String(), expected_diff_id);
    EXPECT_EQ(stats->tar_bytes, plain.size());
    EXPECT_EQ(stats->entries, 4u);
    EXPECT_EQ(ReadAll(L("a/big")), std::string(300000, 'z') + "end");
    EXPECT_EQ(ReadLink(L("a/link")), "big");
    struct stat big {
    }, hard{};
    ASSERT_TRUE(Lstat(L("a/big"), big));
    ASSERT_TRUE(Lstat(L("a/hard"), hard));
    EXPECT_EQ(big.st_ino, hard.st_ino);
  }
}

TEST_F(LayerApplyTest, EmptyLayers) {
  auto stats = Apply(TarBuilder().Build());
  ASSERT_TRUE(stats.ok()) << stats.error().ToString();
  EXPECT_EQ(stats->entries, 0u);
  EXPECT_EQ(stats->tar_bytes, 10240u);
  layer_ = parent_ + "/layer2";
  stats = Apply("");
  ASSERT_TRUE(stats.ok()) << stats.error().ToString();
  EXPECT_EQ(stats->diff_id, ComputeDigest(""));
}

TEST_F(LayerApplyTest, StreamsFromAPipe) {
  TarBuilder tar;
  tar.File("data", std::string(1 << 20, 'p'));
  const std::string blob = Gzip(tar.Build());
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  std::thread writer([&blob, fd = fds[1]] {
    size_t done = 0;
    while (done < blob.size()) {
      const ssize_t wrote =
          ::write(fd, blob.data() + done, std::min<size_t>(4096, blob.size() - done));
      if (wrote <= 0) break;
      done += static_cast<size_t>(wrote);
    }
    ::close(fd);
  });
  FdByteSource source{UniqueFd(fds[0])};
  auto stats = ApplyLayer(source, layer_);
  writer.join();
  ASSERT_TRUE(stats.ok()) << stats.error().ToString();
  EXPECT_EQ(stats->bytes_written, 1u << 20);
  EXPECT_EQ(stats->compression, Compression::kGzip);
}

TEST_F(LayerApplyTest, ApplyLayerFileReadsABlob) {
  TarBuilder tar;
  tar.File("x", "from file");
  const std::string blob_path = parent_ + "/blob";
  ASSERT_TRUE(WriteFileAtomic(blob_path, Zstd(tar.Build())).ok());
  auto stats = ApplyLayerFile(blob_path, layer_);
  ASSERT_TRUE(stats.ok()) << stats.error().ToString();
  EXPECT_EQ(ReadAll(L("x")), "from file");
  EXPECT_FALSE(ApplyLayerFile(parent_ + "/missing", parent_ + "/other").ok());
}

TEST_F(LayerApplyTest, CorruptStreamsFail) {
  TarBuilder tar;
  tar.File("x", std::string(100000, 'q'));
  const std::string plain = tar.Build();
  const std::string gzip = Gzip(plain);
  const std::string zstd = Zstd(plain);
  const std::vector<std::string> bad = {
      "this is not a tar archive at all, just some text that is long enough" +
          std::string(600, 'x'),
      gzip.substr(0, gzip.size() / 2),
      zstd.substr(0, zstd.size() / 2),
      gzip + "trailing garbage",
      plain.substr(0, 5000),
  };
  for (size_t i = 0; i < bad.size(); ++i) {
    layer_ = parent_ + "/bad" + std::to_string(i);
    auto stats = Apply(bad[i]);
    ASSERT_FALSE(stats.ok()) << "variant " << i;
    EXPECT_EQ(stats.error().code(), ErrorCode::kInvalidArgument)
        << "variant " << i << ": " << stats.error().ToString();
  }
}

TEST_F(LayerApplyTest, LimitsAreEnforced) {
  TarBuilder tar;
  tar.File("a", "1").File("b", "2").File("c", std::string(50000, 'c'));
  const std::string blob = tar.Build();

  ApplyOptions few_entries;
  few_entries.limits.max_entries = 2;
  auto stats = Apply(blob, few_entries);
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.error().code(), ErrorCode::kResourceExhausted);

  ApplyOptions small_stream;
  small_stream.limits.max_tar_bytes = 20000;
  layer_ = parent_ + "/layer2";
  stats = Apply(Gzip(blob), small_stream);
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.error().code(), ErrorCode::kResourceExhausted);

  ApplyOptions short_paths;
  short_paths.limits.max_path_length = 10;
  layer_ = parent_ + "/layer3";
  stats = Apply(TarBuilder().File("a/very/long/name", "x").Build(), short_paths);
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.error().code(), ErrorCode::kInvalidArgument);

  ApplyOptions small_xattrs;
  small_xattrs.limits.max_xattr_value_size = 4;
  layer_ = parent_ + "/layer4";
  stats = Apply(TarBuilder().Add({.path = "f", .xattrs = {{"user.big", "12345"}}}).Build(),
                small_xattrs);
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.error().code(), ErrorCode::kInvalidArgument);
}

TEST_F(LayerApplyTest, StreamLimitStopsADecompressionBomb) {
  TarBuilder tar;
  tar.File("zeros", std::string(8 << 20, '\0'));
  const std::string bomb = Gzip(tar.Build());
  ASSERT_LT(bomb.size(), 100000u);
  ApplyOptions options;
  options.limits.max_tar_bytes = 1 << 20;
  auto stats = Apply(bomb, options);
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.error().code(), ErrorCode::kResourceExhausted) << stats.error().ToString();
  struct stat st {};
  ASSERT_TRUE(Lstat(L("zeros"), st));
  EXPECT_LE(st.st_size, 2 << 20);
}

TEST_F(LayerApplyTest, DiffIdCoversBytesAfterTheEndOfArchive) {
  const std::string padded = TarBuilder().File("f", "x").Build() + std::string(4096, '\0');
  auto stats = Apply(Zstd(padded));
  ASSERT_TRUE(stats.ok()) << stats.error().ToString();
  EXPECT_EQ(stats->tar_bytes, padded.size());
  EXPECT_EQ(stats->diff_id, ComputeDigest(padded));
}

TEST_F(LayerApplyTest, NonAsciiNamesAreKeptAsBytes) {
  const std::string name =
      "donn\xc3\xa9"
      "es/\xe3\x83\x95\xe3\x82\xa1\xe3\x82\xa4\xe3\x83\xab";
  TarBuilder tar;
  tar.File(name, "utf8");
  tar.Symlink("lien", name);
  auto stats = Apply(tar.Build());
  ASSERT_TRUE(stats.ok()) << stats.error().ToString();
  EXPECT_EQ(ReadAll(L(name)), "utf8");
  EXPECT_EQ(ReadLink(L("lien")), name);
}

TEST_F(LayerApplyTest, SparseFilesKeepTheirHoles) {
  std::string content(8 << 20, '\0');
  content.replace(0, 4096, std::string(4096, 'a'));
  content.replace(4 << 20, 4096, std::string(4096, 'b'));
  TarBuilder tar;
  tar.Add({.path = "sparse", .content = content, .sparse = {{0, 4096}, {4 << 20, 4096}}});
  const std::string blob = tar.Build();
  EXPECT_LT(blob.size(), 100000u);
  auto stats = Apply(blob);
  ASSERT_TRUE(stats.ok()) << stats.error().ToString();
  EXPECT_EQ(stats->bytes_written, 8192u);
  EXPECT_TRUE(ReadAll(L("sparse")) == content);
  struct stat st {};
  ASSERT_TRUE(Lstat(L("sparse"), st));
  EXPECT_EQ(st.st_size, 8 << 20);
  EXPECT_LT(st.st_blocks * 512, 1 << 20);  // the holes stayed holes
}

TEST_F(LayerApplyTest, LongNamesThroughPaxHeaders) {
  const std::string deep =
      std::string(200, 'd') + "/" + std::string(200, 'e') + "/" + std::string(150, 'f');
  TarBuilder tar;
  tar.File(deep, "deep");
  tar.Symlink("to-deep", deep);
  ASSERT_TRUE(Apply(tar.Build()).ok());
  EXPECT_EQ(ReadAll(L(deep)), "deep");
  EXPECT_EQ(ReadLink(L("to-deep")), deep);
}

}  // namespace
}  // namespace berth::image::testing
