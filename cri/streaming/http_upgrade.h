// The HTTP/1.1 part of streaming: reading the upgrade request on an accepted socket, answering it
// (101 for SPDY/3.1 or WebSocket, or an error status), and the client's side of the same dance.
// Boost.Beast parses and serializes; bytes read past the header are handed on to the protocol.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <boost/beast/http.hpp>

#include "base/result.h"
#include "base/unique_fd.h"

namespace berth::streaming {

using HttpRequest = boost::beast::http::request<boost::beast::http::empty_body>;
using HttpResponse = boost::beast::http::response<boost::beast::http::empty_body>;

struct ReceivedRequest {
  HttpRequest request;
  std::string leftover;  // bytes after the header: the first frames of the upgraded protocol
};

// Reads one request header (8 KiB bound, no body) within `timeout`.
Result<ReceivedRequest> ReadRequest(int fd, std::chrono::milliseconds timeout);

// Every value of a header that may repeat or carry a comma list (X-Stream-Protocol-Version,
// Sec-WebSocket-Protocol), trimmed, in order.
std::vector<std::string> HeaderValues(const HttpRequest& request, std::string_view name);
bool IsSpdyUpgrade(const HttpRequest& request);
bool IsWebSocketUpgrade(const HttpRequest& request);

Result<void> WriteErrorResponse(int fd, unsigned status, std::string_view body);
// 101 naming the chosen X-Stream-Protocol-Version (none when `protocol` is empty).
Result<void> WriteSpdyUpgrade(int fd, std::string_view protocol);
// 101 with Sec-WebSocket-Accept for the request's key and the chosen subprotocol.
Result<void> WriteWebSocketUpgrade(int fd, const HttpRequest& request, std::string_view protocol);
std::string WebSocketAccept(std::string_view key);

// Client side: connects to an http:// URL, sends an upgrade request and reads the response.
struct UpgradedConnection {
  UniqueFd socket;
  HttpResponse response;
  std::string leftover;
};
struct UpgradeOptions {
  bool websocket = false;               // GET + WebSocket headers; else POST + Upgrade: SPDY/3.1
  std::vector<std::string> protocols;  // X-Stream-Protocol-Version or Sec-WebSocket-Protocol
  std::chrono::milliseconds timeout{10000};
};
// Error unless the answer is 101; the error names the status (NotFound for 404).
Result<UpgradedConnection> DialUpgrade(const std::string& url, const UpgradeOptions& options);

}  // namespace berth::streaming
