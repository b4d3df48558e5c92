// Fuzz target: a server-side SPDY/3.1 session (cri/streaming/spdy_session) as exec, attach and
// port-forward run it: the input is everything a client sends after the upgrade. The session's
// reader thread handles the frames (stream opening and ids, flow control, SETTINGS, PING,
// GOAWAY, resets); this thread accepts each stream the client opens, answers on it, reads it to
// its end and closes its half, as the remote-command and port-forward servers do.
//
// The per-stream buffer bound is raised above any input: at the real bound the reader waits for
// this thread to read, and this thread reads the streams one at a time.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>

#include "cri/streaming/byte_transport.h"
#include "cri/streaming/spdy_session.h"
#include "test/fuzz/fuzz_check.h"

namespace {

using namespace berth;
using namespace berth::streaming;
using namespace berth::streaming::spdy;

// The input as the client's side of the connection; what the session writes is dropped. Reads
// come from the session's reader thread, Shutdown from any.
class InputTransport : public ByteTransport {
 public:
  explicit InputTransport(std::string_view input) : input_(input) {}
  Result<size_t> Read(std::span<uint8_t> out) override {
    std::lock_guard lock(mu_);
    static constexpr size_t kPieces[] = {8, 3, 4096, 1, 100};
    size_t n = std::min({out.size(), input_.size(), kPieces[reads_++ % std::size(kPieces)]});
    if (n > 0) std::memcpy(out.data(), input_.data(), n);
    input_.remove_prefix(n);
    return n;
  }
  Result<void> Write(std::string_view) override { return Ok(); }
  void CloseWrite() override {}
  void Shutdown() override {
    std::lock_guard lock(mu_);
    input_ = {};
  }

 private:
  std::mutex mu_;
  std::string_view input_;
  size_t reads_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  SpdySession::Options options;
  options.max_streams = 16;
  options.max_stream_buffer = 16 << 20;
  options.linger = std::chrono::milliseconds(0);
  SpdySession session(
      std::make_unique<InputTransport>(std::string_view(reinterpret_cast<const char*>(data), size)),
      SpdySession::Role::kServer, options);
  session.Start();
  while (auto stream =
             session.AcceptStream(std::chrono::steady_clock::now() + std::chrono::seconds(5))) {
    BERTH_FUZZ_CHECK(stream->id() % 2 == 1, "the server accepted a stream id of its own parity");
    (void)stream->Header("streamtype");
    (void)stream->Write("reply");
    auto content = stream->ReadAll(1 << 20);
    if (content.ok() && content->empty()) stream->Reset();
    (void)stream->CloseWrite();
  }
  session.Close();
  return 0;
}
