// The HTTP/1.1 part of streaming: reading the upgrade request on an accepted socket, answering it
// (101 for SPDY/3.1 or WebSocket, or an error status), and the client's side of the same dance.
// Boost.Beast parses and serializes; bytes read past the header are handed on to the protocol.
#pragma once

#include <boost/beast/http.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "cri/streaming/byte_transport.h"
#include "cri/streaming/tls_transport.h"

namespace berth::streaming {

using HttpRequest = boost::beast::http::request<boost::beast::http::empty_body>;
using HttpResponse = boost::beast::http::response<boost::beast::http::empty_body>;

struct ReceivedRequest {
  HttpRequest request;
  std::string leftover;  // bytes after the header: the first frames of the upgraded protocol
};

// Reads one request header (8 KiB bound, no body) by `deadline`.
Result<ReceivedRequest> ReadRequest(ByteTransport& transport,
                                    std::chrono::steady_clock::time_point deadline);

// Every value of a header that may repeat or carry a comma list (X-Stream-Protocol-Version,
// Sec-WebSocket-Protocol), trimmed, in order.
std::vector<std::string> HeaderValues(const HttpRequest& request, std::string_view name);
bool IsSpdyUpgrade(const HttpRequest& request);
// A complete WebSocket opening handshake: GET, HTTP/1.1, the Upgrade and Connection tokens,
// Sec-WebSocket-Version 13 and a Sec-WebSocket-Key (RFC 6455 section 4.2.1).
bool IsWebSocketUpgrade(const HttpRequest& request);

// Each response write is bounded by 10 seconds.
Result<void> WriteErrorResponse(ByteTransport& transport, unsigned status, std::string_view body);
// 101 naming the chosen X-Stream-Protocol-Version (none when `protocol` is empty).
Result<void> WriteSpdyUpgrade(ByteTransport& transport, std::string_view protocol);
// 101 with Sec-WebSocket-Accept for the request's key and the chosen subprotocol.
Result<void> WriteWebSocketUpgrade(ByteTransport& transport, const HttpRequest& request,
                                   std::string_view protocol);
std::string WebSocketAccept(std::string_view key);

// Client side: connects to an http:// or https:// URL, sends an upgrade request and reads the
// response.
struct UpgradedConnection {
  std::unique_ptr<ByteTransport> transport;  // bytes read past the response come first
  HttpResponse response;
};
struct UpgradeOptions {
  bool websocket = false;              // GET + WebSocket headers; else POST + Upgrade: SPDY/3.1
  std::vector<std::string> protocols;  // X-Stream-Protocol-Version or Sec-WebSocket-Protocol
  std::chrono::milliseconds timeout{10000};  // connect, TLS handshake and the upgrade together
  TlsClientOptions tls;                      // for https:// URLs
};
// Error unless the answer is 101; the error names the status (NotFound for 404).
Result<UpgradedConnection> DialUpgrade(const std::string& url, const UpgradeOptions& options);

}  // namespace berth::streaming
