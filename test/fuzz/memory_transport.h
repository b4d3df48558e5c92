// A ByteTransport over fuzz input for the streaming targets: reads hand out the input in pieces
// of varying size (so parsers see frames and headers split anywhere), writes are kept.
#pragma once

#include <algorithm>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "cri/streaming/byte_transport.h"

namespace berth::fuzz {

class MemoryTransport : public streaming::ByteTransport {
 public:
  explicit MemoryTransport(std::string_view input) : input_(input) {}

  Result<size_t> Read(std::span<uint8_t> out) override {
    static constexpr size_t kPieces[] = {1, 7, 512, 3, 64 * 1024, 100};
    size_t n = std::min({out.size(), input_.size(), kPieces[reads_++ % std::size(kPieces)]});
    if (n > 0) std::memcpy(out.data(), input_.data(), n);
    input_.remove_prefix(n);
    return n;
  }
  Result<void> Write(std::string_view data) override {
    written_.append(data.substr(0, 1 << 20 > written_.size() ? (1 << 20) - written_.size() : 0));
    return Ok();
  }
  void CloseWrite() override {}
  void Shutdown() override { input_ = {}; }

  const std::string& written() const { return written_; }

 private:
  std::string_view input_;
  size_t reads_ = 0;
  std::string written_;
};

}  // namespace berth::fuzz
