// A full-duplex byte stream under a SPDY session: a TCP socket after the HTTP upgrade, or the
// binary messages of a WebSocket (port-forward tunnels SPDY that way). One thread reads while
// others write; Shutdown() from any thread wakes both.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/result.h"
#include "base/unique_fd.h"

namespace berth::streaming {

class ByteTransport {
 public:
  virtual ~ByteTransport() = default;
  // Some bytes, at most out.size(); 0 at end of stream.
  virtual Result<size_t> Read(std::span<uint8_t> out) = 0;
  // All of `data`, or an error. Thread-safe against other writers.
  virtual Result<void> Write(std::string_view data) = 0;
  // No more writes from us (a TCP half-close); reads go on.
  virtual void CloseWrite() = 0;
  // Ends the transport both ways and wakes blocked readers and writers. Idempotent.
  virtual void Shutdown() = 0;
  // Reads and writes after `deadline` fail with DeadlineExceeded (the HTTP upgrade and the TLS
  // handshake are bounded this way); nullopt lifts it. Not for use while another thread reads.
  // Transports that are never the first layer (WebSocket messages) ignore it.
  virtual void SetDeadline(std::optional<std::chrono::steady_clock::time_point> /*deadline*/) {}
};

// A connected stream socket. `initial` holds bytes already read past the HTTP upgrade.
class SocketTransport : public ByteTransport {
 public:
  explicit SocketTransport(UniqueFd socket, std::string initial = {});
  Result<size_t> Read(std::span<uint8_t> out) override;
  Result<void> Write(std::string_view data) override;
  void CloseWrite() override;
  void Shutdown() override;
  void SetDeadline(std::optional<std::chrono::steady_clock::time_point> deadline) override;
  int fd() const { return socket_.get(); }

 private:
  // Waits for `events` until the deadline, when there is one.
  Result<void> WaitUntilDeadline(short events);

  UniqueFd socket_;
  std::string initial_;
  size_t initial_offset_ = 0;
  std::mutex write_mu_;
  std::atomic<int64_t> deadline_ns_{0};  // steady_clock nanoseconds; 0: none
};

// `inner` with `initial` (bytes already read past the HTTP header) served first.
class PrefixedTransport : public ByteTransport {
 public:
  PrefixedTransport(std::unique_ptr<ByteTransport> inner, std::string initial);
  Result<size_t> Read(std::span<uint8_t> out) override;
  Result<void> Write(std::string_view data) override { return inner_->Write(data); }
  void CloseWrite() override { inner_->CloseWrite(); }
  void Shutdown() override { inner_->Shutdown(); }
  void SetDeadline(std::optional<std::chrono::steady_clock::time_point> deadline) override {
    inner_->SetDeadline(deadline);
  }

 private:
  std::unique_ptr<ByteTransport> inner_;
  std::string initial_;
  size_t initial_offset_ = 0;
};

// `inner` itself when `initial` is empty, else a PrefixedTransport.
std::unique_ptr<ByteTransport> WithPrefix(std::unique_ptr<ByteTransport> inner,
                                          std::string initial);

// Milliseconds left until `deadline_ns` (steady_clock nanoseconds; 0: none, giving -1), at
// least 0 once it has passed.
int MillisecondsLeft(int64_t deadline_ns);

// Writes all of `data` to a blocking fd, retrying on EINTR and short writes.
Result<void> WriteAllFd(int fd, std::string_view data);

// Waits until `fd` is readable or `cancel_fd` (an eventfd, may be -1) is signalled. Returns true
// when `fd` is readable, false when cancelled or on `timeout` (-1: none).
bool WaitReadable(int fd, int cancel_fd, int timeout_ms = -1);

// An eventfd that wakes poll() forever once signalled.
class Latch {
 public:
  Latch();
  void Signal();
  bool signalled() const;
  int fd() const { return fd_.get(); }

 private:
  UniqueFd fd_;
};

}  // namespace berth::streaming
