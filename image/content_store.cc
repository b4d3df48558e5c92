#include "image/content_store.h"

#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <set>
#include <utility>

#include "base/file_util.h"
#include "base/random.h"

namespace berth::image {
namespace {

Result<void> FsyncDirectory(const std::string& path) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(path, O_RDONLY | O_DIRECTORY));
  if (::fsync(fd.get()) != 0) return Error::FromErrno(errno, "fsync " + path);
  return Ok();
}

}  // namespace

ContentWriter::ContentWriter(std::string temp_path, std::string final_path, UniqueFd fd,
                             Digest expected, int64_t expected_size)
    : temp_path_(std::move(temp_path)),
      final_path_(std::move(final_path)),
      fd_(std::move(fd)),
      expected_(std::move(expected)),
      expected_size_(expected_size),
      hasher_(expected_.algorithm()) {}

ContentWriter::~ContentWriter() {
  if (!done_) ::unlink(temp_path_.c_str());
}

Result<void> ContentWriter::Write(std::string_view chunk) {
  if (done_) return FailedPrecondition("blob " + expected_.String() + ": writer already closed");
  if (expected_size_ >= 0 && written_ + static_cast<int64_t>(chunk.size()) > expected_size_) {
    return InvalidArgument("blob " + expected_.String() + " is larger than the " +
                           std::to_string(expected_size_) + " bytes its descriptor says");
  }
  hasher_.Update(chunk.data(), chunk.size());
  while (!chunk.empty()) {
    ssize_t n = ::write(fd_.get(), chunk.data(), chunk.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::FromErrno(errno, "write blob " + expected_.String());
    }
    chunk.remove_prefix(static_cast<size_t>(n));
    written_ += n;
  }
  return Ok();
}

Result<void> ContentWriter::Commit() {
  if (done_) return FailedPrecondition("blob " + expected_.String() + ": writer already closed");
  done_ = true;
  auto fail = [this](Error error) {
    ::unlink(temp_path_.c_str());
    return error;
  };
  if (expected_size_ >= 0 && written_ != expected_size_) {
    return fail(InvalidArgument("blob " + expected_.String() + " is " + std::to_string(written_) +
                                " bytes, its descriptor says " + std::to_string(expected_size_)));
  }
  Digest actual = hasher_.Finish();
  if (!(actual == expected_)) {
    return fail(InvalidArgument("blob digest mismatch: expected " + expected_.String() + ", got " +
                                actual.String()));
  }
  if (::fsync(fd_.get()) != 0) return fail(Error::FromErrno(errno, "fsync " + temp_path_));
  fd_.reset();
  if (::rename(temp_path_.c_str(), final_path_.c_str()) != 0) {
    return fail(Error::FromErrno(errno, "store blob " + expected_.String()));
  }
  return FsyncDirectory(final_path_.substr(0, final_path_.find_last_of('/')));
}

Result<std::unique_ptr<ContentStore>> ContentStore::Open(const std::string& root) {
  for (const char* dir : {"/blobs/sha256", "/blobs/sha512", "/ingest"}) {
    BERTH_TRY(MakeDirs(root + dir, 0700));
  }
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(root + "/ingest", error)) {
    std::filesystem::remove_all(entry.path(), error);
  }
  return std::unique_ptr<ContentStore>(new ContentStore(root));
}

std::string ContentStore::BlobPath(const Digest& digest) const {
  return root_ + "/blobs/" + std::string(digest.algorithm_name()) + "/" + digest.encoded();
}

bool ContentStore::Has(const Digest& digest) const {
  return PathExists(BlobPath(digest));
}

Result<std::string> ContentStore::Read(const Digest& digest, size_t max_bytes) const {
  auto content = ReadFile(BlobPath(digest), max_bytes);
  if (!content) return std::move(content).error().Wrap("read blob " + digest.String());
  return content;
}

Result<std::unique_ptr<ContentWriter>> ContentStore::Writer(const Digest& expected,
                                                            int64_t expected_size) {
  std::string temp = root_ + "/ingest/" + expected.encoded().substr(0, 16) + "-" + RandomHex(12);
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(temp, O_WRONLY | O_CREAT | O_EXCL, 0600));
  // Blobs are read by the importer's users and nobody else; 0644 lets tools inspect them.
  ::fchmod(fd.get(), 0644);
  return std::unique_ptr<ContentWriter>(
      new ContentWriter(temp, BlobPath(expected), std::move(fd), expected, expected_size));
}

Result<void> ContentStore::WriteBlob(const Digest& expected, std::string_view content) {
  if (Has(expected)) return Ok();
  BERTH_ASSIGN_OR_RETURN(auto writer, Writer(expected, static_cast<int64_t>(content.size())));
  BERTH_TRY(writer->Write(content));
  return writer->Commit();
}

Result<void> ContentStore::Delete(const Digest& digest) {
  if (::unlink(BlobPath(digest).c_str()) != 0 && errno != ENOENT) {
    return Error::FromErrno(errno, "remove blob " + digest.String());
  }
  return Ok();
}

Result<std::vector<Digest>> ContentStore::List() const {
  std::vector<Digest> digests;
  for (const char* algorithm : {"sha256", "sha512"}) {
    std::error_code error;
    for (const auto& entry :
         std::filesystem::directory_iterator(root_ + "/blobs/" + algorithm, error)) {
      auto digest = Digest::Parse(std::string(algorithm) + ":" + entry.path().filename().string());
      if (digest) digests.push_back(*digest);
    }
  }
  return digests;
}

DiskUsage ContentStore::Usage() const {
  return MeasureDiskUsage(root_);
}

namespace {

struct UsageWalk {
  DiskUsage usage;
  // The files with more than one link met so far (directories are met once anyway).
  std::set<std::pair<dev_t, ino_t>> linked;
};

// nftw passes no user pointer: the walk in progress on this thread.
thread_local UsageWalk* g_walk = nullptr;

int CountEntry(const char*, const struct stat* st, int type, struct FTW*) {
  if (type == FTW_NS) return 0;
  // An image's hard links (busybox's applets: one binary, hundreds of names) are one inode and
  // one set of blocks, as du counts them.
  if (!S_ISDIR(st->st_mode) && st->st_nlink > 1 &&
      !g_walk->linked.emplace(st->st_dev, st->st_ino).second) {
    return 0;
  }
  g_walk->usage.inodes += 1;
  g_walk->usage.bytes += static_cast<uint64_t>(st->st_blocks) * 512;
  return 0;
}

}  // namespace

DiskUsage MeasureDiskUsage(const std::string& path) {
  UsageWalk walk;
  g_walk = &walk;
  // FTW_PHYS: never follow symlinks; FTW_MOUNT: stay on this filesystem.
  ::nftw(path.c_str(), CountEntry, 64, FTW_PHYS | FTW_MOUNT);
  g_walk = nullptr;
  return walk.usage;
}

}  // namespace berth::image
