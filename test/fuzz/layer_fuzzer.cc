// Fuzz target: the layer applier (image/layer_extractor). The input is a layer blob as a registry
// serves it (tar, tar+gzip or tar+zstd) and is applied into a scratch root; afterwards nothing
// outside that root may have changed:
//
//   /dev/shm/berth-fuzz-layer/sentinel      shared by all runs, must stay a 1-link file as written
//   /dev/shm/berth-fuzz-layer/<pid>/lower/  the layer below (hardlink targets are copied up from
//   it) /dev/shm/berth-fuzz-layer/<pid>/root/   the layer dir; removed after every input
//
// (/tmp/berth-fuzz-layer without a writable /dev/shm, or $BERTH_FUZZ_LAYER_DIR.)
//
// The checks: <pid>/ holds nothing but lower/ and root/, the parent nothing but the sentinel and
// pid directories, and the sentinel and every file of lower/ have the type, mode, owner, size,
// link count, times and content they had (a hardlink, write, chmod, rename or unlink through an
// escaping path would change one of them). The sentinel's absolute path is in the dictionary, so
// that symlinks to it are tried.
//
// Tar headers carry a checksum that random mutation almost always breaks, so the custom mutator
// recomputes the checksum of every header it can walk to after the default mutation. Inputs stay
// plain layer blobs: a crash file can be applied as it is. BERTH_FUZZ_VERBOSE=1 prints what
// each input did.
#include <fcntl.h>
#include <ftw.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/file_util.h"
#include "image/byte_source.h"
#include "image/layer_extractor.h"

namespace {

// On tmpfs when there is one (five times the executions of ext4); BERTH_FUZZ_LAYER_DIR overrides.
const std::string kParentDir = [] {
  if (const char* dir = std::getenv("BERTH_FUZZ_LAYER_DIR")) return std::string(dir);
  return std::string(::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp") + "/berth-fuzz-layer";
}();
const std::string kSentinelPath = kParentDir + "/sentinel";
constexpr std::string_view kSentinelContent = "berth fuzz sentinel: must never change\n";

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "layer_fuzzer: ESCAPE: %s\n", what.c_str());
  std::abort();
}

// A description of everything about `path` a write through an escaping path could change.
std::string Describe(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return "missing";
  std::string text = std::to_string(st.st_mode) + " " + std::to_string(st.st_uid) + ":" +
                     std::to_string(st.st_gid) + " size " + std::to_string(st.st_size) + " links " +
                     std::to_string(st.st_nlink) + " mtime " + std::to_string(st.st_mtim.tv_sec) +
                     "." + std::to_string(st.st_mtim.tv_nsec);
  if (S_ISREG(st.st_mode)) {
    auto content = berth::ReadFile(path, 1 << 16);
    text += " content " + (content.ok() ? *content : std::string("unreadable"));
  } else if (S_ISLNK(st.st_mode)) {
    char target[4096];
    ssize_t n = ::readlink(path.c_str(), target, sizeof target);
    text += " -> " + std::string(target, n > 0 ? static_cast<size_t>(n) : 0);
  }
  return text;
}

std::map<std::string, std::string>* g_walk = nullptr;

int Record(const char* path, const struct stat*, int, struct FTW*) {
  (*g_walk)[path] = Describe(path);
  return 0;
}

std::map<std::string, std::string> Snapshot(const std::string& dir) {
  std::map<std::string, std::string> tree;
  g_walk = &tree;
  ::nftw(dir.c_str(), Record, 16, FTW_PHYS);
  g_walk = nullptr;
  return tree;
}

std::vector<std::string> List(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    names.push_back(entry.path().filename().string());
  }
  return names;
}

int MakeSearchable(const char* path, const struct stat* st, int type, struct FTW*) {
  if (type == FTW_D || type == FTW_DNR) ::chmod(path, (st->st_mode & 07777) | 0700);
  return 0;
}

void RemoveTree(const std::string& path) {
  // A layer may leave directories without x or w permission: as non-root they must be opened up
  // before their content can be removed.
  if (::geteuid() != 0) ::nftw(path.c_str(), MakeSearchable, 16, FTW_PHYS);
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) Fail("cannot clean " + path + ": " + ec.message());
}

void WriteFileOrDie(const std::string& path, std::string_view content) {
  if (!berth::WriteFileAtomic(path, std::string(content), 0644).ok()) {
    std::fprintf(stderr, "layer_fuzzer: cannot write %s\n", path.c_str());
    std::exit(1);
  }
}

struct Scratch {
  std::string dir;    // <parent>/<pid>
  std::string root;   // dir/root
  std::string lower;  // dir/lower
  std::string sentinel_state;
  std::map<std::string, std::string> lower_state;
  berth::image::ApplyOptions options;
};

Scratch* g_scratch = nullptr;

void RemoveScratch() {
  if (g_scratch != nullptr) RemoveTree(g_scratch->dir);
}

Scratch& SetUp() {
  static Scratch scratch;
  ::mkdir(kParentDir.c_str(), 0755);
  // Shared with concurrent runs: created once, only ever read afterwards.
  int fd = ::open(kSentinelPath.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd >= 0) {
    (void)::write(fd, kSentinelContent.data(), kSentinelContent.size());
    ::close(fd);
  }
  auto sentinel = berth::ReadFile(kSentinelPath, 4096);
  if (!sentinel.ok() || *sentinel != kSentinelContent) Fail("the sentinel is not as written");
  scratch.sentinel_state = Describe(kSentinelPath);

  scratch.dir = kParentDir + "/" + std::to_string(::getpid());
  RemoveTree(scratch.dir);
  scratch.root = scratch.dir + "/root";
  scratch.lower = scratch.dir + "/lower";
  ::mkdir(scratch.dir.c_str(), 0755);
  for (const char* sub : {"", "/bin", "/etc", "/usr", "/usr/lib", "/hidden"}) {
    ::mkdir((scratch.lower + sub).c_str(), 0755);
  }
  WriteFileOrDie(scratch.lower + "/bin/busybox", "#!/bin/sh\n");
  WriteFileOrDie(scratch.lower + "/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
  WriteFileOrDie(scratch.lower + "/usr/lib/libc.so", "libc\n");
  WriteFileOrDie(scratch.lower + "/hidden/file", "hidden\n");
  ::symlink("usr/lib", (scratch.lower + "/lib").c_str());
  ::symlink(kSentinelPath.c_str(), (scratch.lower + "/sentinel-link").c_str());
  scratch.lower_state = Snapshot(scratch.lower);

  scratch.options.lower_dirs = {scratch.lower};
  const bool root = ::geteuid() == 0;
  // trusted.* needs CAP_SYS_ADMIN; rootless appliers mark opaque dirs in user.*.
  scratch.options.opaque_xattr = root ? "trusted.overlay.opaque" : "user.overlay.opaque";
  // Ownership as a root pull applies it, but no device nodes on the fuzzing host.
  scratch.options.preserve_ownership = root;
  scratch.options.create_devices = false;
  // Small enough that a decompression bomb costs milliseconds, not seconds.
  scratch.options.limits.max_tar_bytes = 16 << 20;
  g_scratch = &scratch;
  std::atexit(RemoveScratch);
  return scratch;
}

void CheckNothingEscaped(const Scratch& scratch) {
  for (const std::string& name : List(scratch.dir)) {
    if (name != "root" && name != "lower") Fail("created " + scratch.dir + "/" + name);
  }
  for (const std::string& name : List(kParentDir)) {
    bool pid_dir = !name.empty() && name.find_first_not_of("0123456789") == std::string::npos;
    if (name != "sentinel" && !pid_dir) Fail("created " + kParentDir + "/" + name);
  }
  if (Describe(kSentinelPath) != scratch.sentinel_state) {
    Fail("the sentinel changed: " + Describe(kSentinelPath));
  }
  auto lower = Snapshot(scratch.lower);
  if (lower != scratch.lower_state) {
    for (const auto& [path, state] : lower) {
      auto was = scratch.lower_state.find(path);
      if (was == scratch.lower_state.end()) Fail("created " + path);
      if (was->second != state) Fail("changed " + path + ": " + was->second + " -> " + state);
    }
    Fail("removed something from " + scratch.lower);
  }
}

// Tar headers: 512-byte blocks, the size in octal (or base-256) at 124, the checksum at 148.
uint64_t HeaderSize(const uint8_t* header) {
  if (header[124] & 0x80) {
    uint64_t size = 0;
    for (int i = 125; i < 136; ++i) size = (size << 8) | header[i];
    return size;
  }
  uint64_t size = 0;
  for (int i = 124; i < 136 && header[i] >= '0' && header[i] <= '7'; ++i)
    size = size * 8 + (header[i] - '0');
  return size;
}

void FixTarChecksums(uint8_t* data, size_t size) {
  if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b) return;  // gzip
  if (size >= 4 && data[0] == 0x28 && data[1] == 0xb5 && data[2] == 0x2f && data[3] == 0xfd) return;
  size_t pos = 0;
  while (pos + 512 <= size) {
    uint8_t* header = data + pos;
    bool zero = true;
    for (size_t i = 0; i < 512 && zero; ++i) zero = header[i] == 0;
    if (zero) {
      pos += 512;
      continue;
    }
    unsigned sum = 0;
    for (size_t i = 0; i < 512; ++i) sum += (i >= 148 && i < 156) ? ' ' : header[i];
    std::snprintf(reinterpret_cast<char*>(header + 148), 8, "%06o", sum & 0777777);
    header[155] = ' ';
    uint64_t entry_size = HeaderSize(header);
    if (entry_size > size) return;
    pos += 512 + (entry_size + 511) / 512 * 512;
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  return 0;
}

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size,
                                          unsigned int) {
  size = LLVMFuzzerMutate(data, size, max_size);
  FixTarChecksums(data, size);
  return size;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Scratch& scratch = SetUp();
  berth::image::MemoryByteSource source(
      std::string_view(reinterpret_cast<const char*>(data), size));
  auto applied = berth::image::ApplyLayer(source, scratch.root, scratch.options);
  static const bool verbose = std::getenv("BERTH_FUZZ_VERBOSE") != nullptr;
  if (verbose) {
    std::fprintf(stderr, "layer_fuzzer: %s\n",
                 applied.ok() ? ("applied " + std::to_string(applied->entries) + " entries").c_str()
                              : applied.error().message().c_str());
  }
  if (applied.ok() && applied->tar_bytes > scratch.options.limits.max_tar_bytes) {
    Fail("tar_bytes above the limit");
  }
  CheckNothingEscaped(scratch);
  RemoveTree(scratch.root);
  return 0;
}
