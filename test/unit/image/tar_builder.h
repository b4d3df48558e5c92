// Test helper: builds layer tarballs in memory with libarchive's write API, so that the tests can
// feed the applier exactly the (hostile or not) headers they want, and compresses them.
#pragma once

#include <sys/types.h>

#include <ctime>
#include <string>
#include <utility>
#include <vector>

namespace berth::image::testing {

struct TarEntry {
  std::string path{};
  mode_t type = 0100000;  // AE_IFREG
  mode_t mode = 0644;
  std::string content{};   // regular files
  std::string link{};      // symlink target
  std::string hardlink{};  // when set, the entry is a hardlink to this path
  int64_t uid = 0;
  int64_t gid = 0;
  time_t mtime = 1700000000;
  long mtime_nsec = 0;
  unsigned dev_major = 0;
  unsigned dev_minor = 0;
  std::vector<std::pair<std::string, std::string>> xattrs{};
  // Sparse regular file: `content` is the whole file, holes included; only the `sparse` data
  // regions (offset, length) are stored in the tar.
  std::vector<std::pair<int64_t, int64_t>> sparse{};
};

class TarBuilder {
 public:
  TarBuilder& Add(TarEntry entry);
  TarBuilder& File(const std::string& path, const std::string& content, mode_t mode = 0644);
  TarBuilder& Dir(const std::string& path, mode_t mode = 0755);
  TarBuilder& Symlink(const std::string& path, const std::string& target);
  TarBuilder& Hardlink(const std::string& path, const std::string& target);
  TarBuilder& Fifo(const std::string& path);
  TarBuilder& Device(const std::string& path, mode_t type, unsigned major, unsigned minor);
  // An empty regular file: what whiteout markers (".wh.x", ".wh..wh..opq") are in a layer.
  TarBuilder& Marker(const std::string& path);

  // The pax tar (a pax header on every entry, as Go's archive/tar writes for sub-second times),
  // padded to libarchive's 10240-byte records like most tar writers.
  std::string Build() const;

 private:
  std::vector<TarEntry> entries_;
};

std::string Gzip(const std::string& data);
std::string Zstd(const std::string& data);
// Entry names as a tar reader sees them (to check that hostile names survive the writer).
std::vector<std::string> ListNames(const std::string& tar);

}  // namespace berth::image::testing
