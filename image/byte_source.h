// A pull-style byte stream: what the layer applier reads from, so that the puller can feed it a
// blob while it downloads, a file, or (in tests) memory.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/result.h"
#include "base/unique_fd.h"

namespace berth::image {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to `size` bytes (size > 0) into `buffer`. Returns how many were read, 0 only at the
  // end of the stream (and again on every later call). A short read is not the end.
  virtual Result<size_t> Read(void* buffer, size_t size) = 0;
};

// Reads a file descriptor it owns (file, pipe or socket) until EOF.
class FdByteSource : public ByteSource {
 public:
  explicit FdByteSource(UniqueFd fd) : fd_(std::move(fd)) {}
  static Result<FdByteSource> OpenFile(const std::string& path);

  Result<size_t> Read(void* buffer, size_t size) override;

 private:
  UniqueFd fd_;
};

// Reads bytes it does not own; the memory must outlive the source.
class MemoryByteSource : public ByteSource {
 public:
  explicit MemoryByteSource(std::string_view data) : data_(data) {}
  explicit MemoryByteSource(std::string&&) = delete;  // would dangle

  Result<size_t> Read(void* buffer, size_t size) override;

 private:
  std::string_view data_;
};

}  // namespace berth::image
