// TLS under the streaming protocols: the server's certificate and key (loaded once at Start()),
// the client's verification choices, and a TlsTransport that is a ByteTransport like a plain
// socket, so HTTP upgrade, SPDY and WebSocket run over it unchanged. OpenSSL (TLS 1.2 and up).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "base/result.h"
#include "base/unique_fd.h"
#include "cri/streaming/byte_transport.h"

struct ssl_st;
struct ssl_ctx_st;

namespace berth::streaming {

// A server certificate chain and its private key, both PEM.
class TlsServerContext {
 public:
  // Fails, naming the file and OpenSSL's reason, on a missing or unreadable file, a bad PEM, or a
  // key that does not belong to the certificate.
  static Result<std::shared_ptr<TlsServerContext>> Load(const std::string& cert_file,
                                                        const std::string& key_file);
  ~TlsServerContext();
  TlsServerContext(const TlsServerContext&) = delete;
  TlsServerContext& operator=(const TlsServerContext&) = delete;
  ssl_ctx_st* get() const { return ctx_; }

 private:
  explicit TlsServerContext(ssl_ctx_st* ctx) : ctx_(ctx) {}
  ssl_ctx_st* ctx_;
};

struct TlsClientOptions {
  // PEM file of the CA certificates to trust; empty: the system's store.
  std::string ca_file;
  // Accept any certificate and name (tests, berthctl --insecure): no protection against a
  // man in the middle.
  bool insecure_skip_verify = false;
};

// One TLS connection over a connected TCP socket. As with SocketTransport, one thread reads
// while others write: every OpenSSL call on the connection is made under one lock, with the
// socket driven non-blocking (MSG_DONTWAIT) and poll() between attempts, so a blocked reader
// never holds the lock a writer needs.
class TlsTransport : public ByteTransport {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  // The server's handshake on an accepted socket, finished by `deadline`.
  static Result<std::unique_ptr<TlsTransport>> Accept(UniqueFd socket,
                                                      const TlsServerContext& context,
                                                      TimePoint deadline);
  // The client's handshake; `host` (a DNS name or an IP address) is verified against the
  // certificate unless options.insecure_skip_verify.
  static Result<std::unique_ptr<TlsTransport>> Connect(UniqueFd socket,
                                                       const TlsClientOptions& options,
                                                       const std::string& host, TimePoint deadline);
  ~TlsTransport() override;

  Result<size_t> Read(std::span<uint8_t> out) override;
  Result<void> Write(std::string_view data) override;
  // Sends close_notify; reads go on.
  void CloseWrite() override;
  void Shutdown() override;
  void SetDeadline(std::optional<TimePoint> deadline) override;

 private:
  TlsTransport(UniqueFd socket, ssl_st* ssl, ssl_ctx_st* owned_ctx);
  Result<void> Handshake(bool server, TimePoint deadline);
  // Waits until the socket is ready for `events`, the transport is shut down (error) or the
  // deadline passes (DeadlineExceeded). `max_wait_ms` caps one wait (-1: none).
  Result<void> Wait(short events, int max_wait_ms = -1);

  UniqueFd socket_;
  ssl_st* ssl_;
  ssl_ctx_st* owned_ctx_;  // the client's own context; nullptr on the server
  std::mutex ssl_mu_;      // every SSL_* call on ssl_
  std::mutex write_mu_;    // one writer at a time (a partial SSL_write must be retried as is)
  Latch shut_down_;
  std::atomic<int64_t> deadline_ns_{0};  // steady_clock nanoseconds; 0: none
};

}  // namespace berth::streaming
