#include "image/byte_source.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/file_util.h"

namespace berth::image {

Result<FdByteSource> FdByteSource::OpenFile(const std::string& path) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, berth::OpenFile(path, O_RDONLY));
  return FdByteSource(std::move(fd));
}

Result<size_t> FdByteSource::Read(void* buffer, size_t size) {
  while (true) {
    const ssize_t got = ::read(fd_.get(), buffer, size);
    if (got >= 0) return static_cast<size_t>(got);
    if (errno != EINTR) return Error::FromErrno(errno, "read layer stream");
  }
}

Result<size_t> MemoryByteSource::Read(void* buffer, size_t size) {
  const size_t count = std::min(size, data_.size());
  if (count > 0) std::memcpy(buffer, data_.data(), count);
  data_.remove_prefix(count);
  return count;
}

}  // namespace berth::image
