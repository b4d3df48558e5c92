// A SPDY/3.1 session over a ByteTransport, for either end: the server side accepts the streams a
// Kubernetes client opens; the client side (our test client, berthctl) opens them. Blocking
// stream reads and writes, one reader thread per session.
//
// Flow control: we send WINDOW_UPDATE as our readers consume, and bound what we buffer per stream.
// We honour the peer's send window once the peer shows it does flow control (a WINDOW_UPDATE or
// SETTINGS_INITIAL_WINDOW_SIZE): moby/spdystream, which kubectl, crictl and kubelet use, never
// sends either, and holding it to 64 KiB would stall every exec after 64 KiB of output.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>

#include "base/result.h"
#include "cri/streaming/byte_transport.h"
#include "cri/streaming/spdy_frame.h"
#include "cri/streaming/spdy_header_block.h"

namespace berth::streaming::spdy {

inline constexpr int64_t kInitialWindow = 64 * 1024;

class SpdySession;

class SpdyStream {
 public:
  uint32_t id() const { return id_; }
  const HeaderList& headers() const { return headers_; }
  std::string Header(std::string_view name) const { return FindHeader(headers_, name); }

  // Some bytes the peer sent; 0 once the peer finished the stream (FIN). Error when the stream
  // was reset or the session ended first.
  Result<size_t> Read(std::span<uint8_t> out);
  // Reads until FIN, at most `limit` bytes (InvalidArgument past it).
  Result<std::string> ReadAll(size_t limit);
  // Sends all of `data`, waiting for send window when the peer does flow control.
  Result<void> Write(std::string_view data);
  // Our half is done: an empty DATA frame with FIN. Idempotent.
  Result<void> CloseWrite();
  // Aborts the stream both ways (RST_STREAM).
  void Reset(uint32_t status = kCancel);
  // Client side: waits for the peer's SYN_REPLY (or a reset).
  Result<void> WaitReply(std::chrono::milliseconds timeout);

 private:
  friend class SpdySession;
  SpdyStream(SpdySession* session, uint32_t id, HeaderList headers, int64_t send_window)
      : session_(session), id_(id), headers_(std::move(headers)), send_window_(send_window) {}

  SpdySession* session_;
  const uint32_t id_;
  const HeaderList headers_;
  // Guarded by the session's mutex.
  std::string recv_buffer_;
  size_t recv_offset_ = 0;
  uint32_t unacked_ = 0;
  int64_t send_window_;
  bool remote_fin_ = false;
  bool local_fin_ = false;
  bool reset_ = false;
  bool replied_ = false;
};

class SpdySession {
 public:
  enum class Role { kClient, kServer };
  struct Options {
    size_t max_streams = 256;                // concurrently open streams the peer may start
    size_t max_stream_buffer = 1 << 20;      // bytes buffered per stream before we stop reading
    std::chrono::milliseconds linger{2000};  // Close(): how long to wait for the peer's close
  };

  SpdySession(std::unique_ptr<ByteTransport> transport, Role role, Options options);
  SpdySession(std::unique_ptr<ByteTransport> transport, Role role)
      : SpdySession(std::move(transport), role, Options()) {}
  ~SpdySession();
  SpdySession(const SpdySession&) = delete;
  SpdySession& operator=(const SpdySession&) = delete;

  // Called once, from the reader thread, when the connection ends (EOF, error or Abort()).
  void SetOnClose(std::function<void()> on_close);
  // Starts the reader thread.
  void Start();

  // Client side: a new stream with these headers (SYN_STREAM).
  Result<std::shared_ptr<SpdyStream>> OpenStream(const HeaderList& headers, bool fin = false);
  // Server side: the next stream the peer opened; nullptr when the session ended, the peer sent
  // GOAWAY, or the deadline passed.
  std::shared_ptr<SpdyStream> AcceptStream(std::chrono::steady_clock::time_point deadline);

  // Graceful end: GOAWAY, half-close, wait up to `linger` for the peer to close, then Abort().
  void Close();
  // Ends the transport now; blocked reads and writes on every stream fail. Idempotent.
  void Abort();
  bool closed() const;

 private:
  friend class SpdyStream;

  Result<void> SendFrame(const Frame& frame);
  Result<void> SendHeadersFrame(Frame frame, const HeaderList& headers);
  void ReaderLoop();
  Result<bool> ReadExact(std::string& out, size_t n);
  // False ends the session (after a GOAWAY for protocol errors).
  bool HandleFrame(Frame frame);
  bool HandleSynStream(Frame& frame);
  bool HandleData(Frame& frame);
  void ForgetIfDone(const std::shared_ptr<SpdyStream>& stream);  // mu_ held
  std::shared_ptr<SpdyStream> FindStream(uint32_t id);           // mu_ held
  void SendWindowUpdates(uint32_t stream_id, uint32_t delta);

  std::unique_ptr<ByteTransport> transport_;
  const Role role_;
  const Options options_;

  std::mutex send_mu_;  // orders compression and frame writes; taken before mu_
  HeaderCompressor compressor_;
  uint32_t next_stream_id_;

  HeaderDecompressor decompressor_;  // reader thread only
  std::string read_buffer_;          // reader thread only
  size_t read_offset_ = 0;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<uint32_t, std::shared_ptr<SpdyStream>> streams_;
  std::deque<std::shared_ptr<SpdyStream>> pending_accept_;
  uint32_t last_peer_stream_id_ = 0;
  int64_t peer_initial_window_ = kInitialWindow;
  bool flow_control_enforced_ = false;
  bool closed_ = false;
  bool goaway_received_ = false;
  bool goaway_sent_ = false;
  bool aborted_ = false;
  std::function<void()> on_close_;

  std::thread reader_;
};

}  // namespace berth::streaming::spdy
