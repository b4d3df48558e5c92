// The content store: blobs (manifests, configs, compressed layers) by digest under
// <root>/content/blobs/<algorithm>/<hex>, shared by every image. A blob is written to a private
// temp file under <root>/content/ingest, hashed and counted as it streams, checked against the
// expected digest and size, fsynced and renamed into place: a blob in the store is always whole
// and correct, and a failed or interrupted write leaves nothing behind but a temp file that the
// next start removes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "image/digest.h"

namespace berth::image {

// Streams one blob into the store. Destroying it without Commit discards everything.
class ContentWriter {
 public:
  ~ContentWriter();
  ContentWriter(const ContentWriter&) = delete;
  ContentWriter& operator=(const ContentWriter&) = delete;

  // Fails (and the writer is spent) once more bytes than the expected size arrive.
  Result<void> Write(std::string_view chunk);
  // Checks size and digest, fsyncs and moves the blob into place. A mismatch is InvalidArgument
  // naming both digests, and nothing is stored.
  Result<void> Commit();
  int64_t written() const { return written_; }

 private:
  friend class ContentStore;
  ContentWriter(std::string temp_path, std::string final_path, UniqueFd fd, Digest expected,
                int64_t expected_size);

  std::string temp_path_;
  std::string final_path_;
  UniqueFd fd_;
  Digest expected_;
  int64_t expected_size_;
  int64_t written_ = 0;
  DigestHasher hasher_;
  bool done_ = false;
};

struct DiskUsage {
  uint64_t bytes = 0;
  uint64_t inodes = 0;
};

class ContentStore {
 public:
  // Creates the folders and removes temp files a crash left in ingest/.
  static Result<std::unique_ptr<ContentStore>> Open(const std::string& root);

  bool Has(const Digest& digest) const;
  std::string BlobPath(const Digest& digest) const;
  // A blob's bytes, refusing one larger than `max_bytes`.
  Result<std::string> Read(const Digest& digest, size_t max_bytes) const;
  // `expected_size` < 0 means unknown (no size check).
  Result<std::unique_ptr<ContentWriter>> Writer(const Digest& expected, int64_t expected_size);
  // Writes a whole blob held in memory (manifests, configs).
  Result<void> WriteBlob(const Digest& expected, std::string_view content);
  // Removing an absent blob is fine.
  Result<void> Delete(const Digest& digest);
  Result<std::vector<Digest>> List() const;
  DiskUsage Usage() const;
  const std::string& root() const { return root_; }

 private:
  explicit ContentStore(std::string root) : root_(std::move(root)) {}
  std::string root_;
};

// Bytes and inodes under `path` (`path` itself included), counted as du(1) counts them: bytes
// are the blocks allocated (st_blocks * 512, not the files' apparent sizes: a sparse file counts
// what it holds, a small file a whole block), and a file with several hard links under `path`
// is one inode whose blocks count once. Symlinks are not followed, other mounts not entered.
DiskUsage MeasureDiskUsage(const std::string& path);

}  // namespace berth::image
