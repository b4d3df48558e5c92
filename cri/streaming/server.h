// The streaming server: the CRI Exec/Attach/PortForward RPCs get a single-use URL here
// (GetExecUrl, ...); the client connects to it and upgrades to SPDY/3.1 or WebSocket. One thread
// accepts; every connection runs on threads of its own, bounded in number.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "base/result.h"
#include "base/unique_fd.h"
#include "cri/streaming/byte_transport.h"
#include "cri/streaming/streaming_runtime.h"
#include "cri/streaming/tls_transport.h"
#include "cri/streaming/token_store.h"

namespace berth::streaming {

struct StreamingServerConfig {
  std::string address = "127.0.0.1";
  uint16_t port = 0;  // 0: any free port
  std::chrono::seconds token_ttl{60};
  // Both (PEM: the certificate chain, the private key) or neither: with them every connection
  // is TLS 1.2+ and the URLs are https://. Start() fails on a bad file or a key that does not fit.
  std::optional<std::string> tls_cert_file;
  std::optional<std::string> tls_key_file;
  size_t max_pending_tokens = 1024;
  size_t max_connections = 128;
  std::chrono::milliseconds handshake_timeout{10000};        // the HTTP request header
  std::chrono::milliseconds stream_creation_timeout{30000};  // the client opening its streams
  TokenStore::Clock clock = std::chrono::steady_clock::now;  // injectable for tests
};

class StreamingServer {
 public:
  StreamingServer(StreamingServerConfig config, StreamingRuntime& runtime);
  ~StreamingServer();
  StreamingServer(const StreamingServer&) = delete;
  StreamingServer& operator=(const StreamingServer&) = delete;

  // Binds and starts accepting.
  Result<void> Start();
  // Closes the listener and every connection (exec'd processes are cancelled), joins all threads.
  void Stop();
  // "http://127.0.0.1:PORT" ("https://" with TLS; IPv6 addresses in brackets); valid after Start().
  std::string BaseUrl() const;

  Result<std::string> GetExecUrl(const ExecRequest& request);
  Result<std::string> GetAttachUrl(const AttachRequest& request);
  Result<std::string> GetPortForwardUrl(const PortForwardRequest& request);

  // Connections being served right now (for tests and metrics).
  size_t active_connections() const;

 private:
  struct Connection {
    UniqueFd socket;
    std::thread thread;
    bool done = false;            // mu_
    std::function<void()> abort;  // mu_: tears down the upgraded protocol
  };

  Result<std::string> MakeUrl(std::string_view kind, StreamingRequest request);
  void AcceptLoop();
  void Serve(Connection& connection);
  void ReapFinished();  // mu_ not held

  const StreamingServerConfig config_;
  StreamingRuntime& runtime_;
  TokenStore tokens_;
  std::shared_ptr<TlsServerContext> tls_;  // set by Start() when TLS is configured
  UniqueFd listener_;
  uint16_t bound_port_ = 0;
  Latch stop_latch_;
  std::thread accept_thread_;

  mutable std::mutex mu_;
  std::list<Connection> connections_;
  bool stopping_ = false;
};

}  // namespace berth::streaming
