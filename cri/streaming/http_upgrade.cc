#include "cri/streaming/http_upgrade.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <cerrno>

#include "base/random.h"
#include "cri/streaming/tls_transport.h"

namespace berth::streaming {
namespace http = boost::beast::http;
namespace {

// A ByteTransport as a Beast SyncStream. Every operation is bounded by the deadline set on the
// transport for as long as this stream lives.
class TransportStream {
 public:
  TransportStream(ByteTransport& transport, std::chrono::steady_clock::time_point deadline)
      : transport_(transport) {
    transport_.SetDeadline(deadline);
  }
  ~TransportStream() { transport_.SetDeadline(std::nullopt); }
  TransportStream(const TransportStream&) = delete;
  TransportStream& operator=(const TransportStream&) = delete;

  template <class Buffers>
  size_t read_some(const Buffers& buffers, boost::system::error_code& ec) {
    auto buffer = *boost::asio::buffer_sequence_begin(buffers);
    auto n = transport_.Read({static_cast<uint8_t*>(buffer.data()), buffer.size()});
    if (!n.ok()) {
      ec = n.error().code() == ErrorCode::kDeadlineExceeded ? boost::asio::error::timed_out
                                                            : boost::asio::error::connection_reset;
      return 0;
    }
    if (*n == 0) ec = boost::asio::error::eof;
    return *n;
  }
  template <class Buffers>
  size_t read_some(const Buffers& buffers) {
    boost::system::error_code ec;
    size_t n = read_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }
  template <class Buffers>
  size_t write_some(const Buffers& buffers, boost::system::error_code& ec) {
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers); ++it) {
      boost::asio::const_buffer buffer = *it;
      if (buffer.size() == 0) continue;
      auto written = transport_.Write({static_cast<const char*>(buffer.data()), buffer.size()});
      if (!written.ok()) {
        ec = written.error().code() == ErrorCode::kDeadlineExceeded
                 ? boost::asio::error::timed_out
                 : boost::asio::error::broken_pipe;
        return 0;
      }
      return buffer.size();
    }
    return 0;
  }
  template <class Buffers>
  size_t write_some(const Buffers& buffers) {
    boost::system::error_code ec;
    size_t n = write_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }

 private:
  ByteTransport& transport_;
};

std::string Trim(std::string_view text) {
  size_t begin = text.find_first_not_of(" \t");
  if (begin == std::string_view::npos) return {};
  size_t end = text.find_last_not_of(" \t");
  return std::string(text.substr(begin, end - begin + 1));
}

std::string Base64(const unsigned char* data, size_t size) {
  std::string out(4 * ((size + 2) / 3) + 1, '\0');
  int written =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
  out.resize(written > 0 ? static_cast<size_t>(written) : 0);
  return out;
}

// 16 bytes in base64: 22 characters of the alphabet, then "==".
bool IsWebSocketKey(std::string_view key) {
  auto base64_char = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
  };
  return key.size() == 24 && key.substr(22) == "==" &&
         std::all_of(key.begin(), key.begin() + 22, base64_char);
}

std::string_view HeaderText(const HttpRequest& request, http::field field) {
  auto value = request[field];
  return {value.data(), value.size()};
}

bool ContainsToken(std::string_view list, std::string_view token) {
  return boost::beast::http::token_list(boost::beast::string_view(list.data(), list.size()))
      .exists(boost::beast::string_view(token.data(), token.size()));
}

Result<void> WriteResponse(ByteTransport& transport, HttpResponse& response) {
  TransportStream stream(transport, std::chrono::steady_clock::now() + std::chrono::seconds(10));
  boost::system::error_code ec;
  response.prepare_payload();
  http::write(stream, response, ec);
  if (ec) return Unavailable("write HTTP response: " + ec.message());
  return Ok();
}

}  // namespace

Result<ReceivedRequest> ReadRequest(ByteTransport& transport,
                                    std::chrono::steady_clock::time_point deadline) {
  TransportStream stream(transport, deadline);
  boost::beast::flat_buffer buffer(16 * 1024);
  http::request_parser<http::empty_body> parser;
  parser.header_limit(8 * 1024);
  boost::system::error_code ec;
  http::read_header(stream, buffer, parser, ec);
  if (ec) return InvalidArgument("read HTTP request: " + ec.message());
  if (!parser.is_done()) return InvalidArgument("HTTP request with a body");
  ReceivedRequest received;
  received.request = parser.release();
  auto data = buffer.data();
  received.leftover.assign(static_cast<const char*>(data.data()), data.size());
  return received;
}

std::vector<std::string> HeaderValues(const HttpRequest& request, std::string_view name) {
  std::vector<std::string> values;
  auto range = request.equal_range(boost::beast::string_view(name.data(), name.size()));
  for (auto it = range.first; it != range.second; ++it) {
    std::string_view value(it->value().data(), it->value().size());
    while (!value.empty()) {
      size_t comma = value.find(',');
      std::string item = Trim(value.substr(0, comma));
      if (!item.empty()) values.push_back(item);
      if (comma == std::string_view::npos) break;
      value.remove_prefix(comma + 1);
    }
  }
  return values;
}

bool IsSpdyUpgrade(const HttpRequest& request) {
  auto connection = request[http::field::connection];
  auto upgrade = request[http::field::upgrade];
  return ContainsToken({connection.data(), connection.size()}, "upgrade") &&
         boost::beast::iequals(upgrade, "SPDY/3.1");
}

bool IsWebSocketUpgrade(const HttpRequest& request) {
  // Beast's is_upgrade checks the method, version and Upgrade/Connection tokens only. RFC 6455
  // section 4.2.1 also requires version 13 and a key that is 16 bytes in base64.
  return boost::beast::websocket::is_upgrade(request) &&
         Trim(HeaderText(request, http::field::sec_websocket_version)) == "13" &&
         IsWebSocketKey(Trim(HeaderText(request, http::field::sec_websocket_key)));
}

Result<void> WriteErrorResponse(ByteTransport& transport, unsigned status, std::string_view body) {
  http::response<http::string_body> response{static_cast<http::status>(status), 11};
  response.set(http::field::content_type, "text/plain; charset=utf-8");
  response.set(http::field::connection, "close");
  response.body() = std::string(body);
  response.prepare_payload();
  TransportStream stream(transport, std::chrono::steady_clock::now() + std::chrono::seconds(10));
  boost::system::error_code ec;
  http::write(stream, response, ec);
  if (ec) return Unavailable("write HTTP response: " + ec.message());
  return Ok();
}

Result<void> WriteSpdyUpgrade(ByteTransport& transport, std::string_view protocol) {
  HttpResponse response{http::status::switching_protocols, 11};
  response.set(http::field::connection, "Upgrade");
  response.set(http::field::upgrade, "SPDY/3.1");
  if (!protocol.empty())
    response.set("X-Stream-Protocol-Version",
                 boost::beast::string_view(protocol.data(), protocol.size()));
  return WriteResponse(transport, response);
}

std::string WebSocketAccept(std::string_view key) {
  // Hashed here rather than with Beast's detail::make_sec_ws_accept, which asserts a key of at
  // most 24 bytes: the key is the client's.
  const std::string text = std::string(key) + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_size = 0;
  if (EVP_Digest(text.data(), text.size(), digest, &digest_size, EVP_sha1(), nullptr) != 1)
    return {};
  return Base64(digest, digest_size);
}

Result<void> WriteWebSocketUpgrade(ByteTransport& transport, const HttpRequest& request,
                                   std::string_view protocol) {
  auto key = request[http::field::sec_websocket_key];
  HttpResponse response{http::status::switching_protocols, 11};
  response.set(http::field::connection, "Upgrade");
  response.set(http::field::upgrade, "websocket");
  response.set(http::field::sec_websocket_accept, WebSocketAccept({key.data(), key.size()}));
  if (!protocol.empty()) {
    response.set(http::field::sec_websocket_protocol,
                 boost::beast::string_view(protocol.data(), protocol.size()));
  }
  return WriteResponse(transport, response);
}

namespace {

// "http[s]://host[:port]/target" and "http[s]://[v6]:port/target", split.
struct StreamingUrl {
  bool tls = false;
  std::string authority, host, port, target;
};

Result<StreamingUrl> ParseStreamingUrl(const std::string& url) {
  constexpr std::string_view kHttp = "http://", kHttps = "https://";
  StreamingUrl out;
  out.tls = url.rfind(kHttps, 0) == 0;
  if (!out.tls && url.rfind(kHttp, 0) != 0) {
    return InvalidArgument("streaming URL \"" + url + "\" is neither http:// nor https://");
  }
  std::string rest = url.substr(out.tls ? kHttps.size() : kHttp.size());
  size_t slash = rest.find('/');
  out.authority = rest.substr(0, slash);
  out.target = slash == std::string::npos ? "/" : rest.substr(slash);
  out.host = out.authority;
  out.port = out.tls ? "443" : "80";
  const std::string& authority = out.authority;
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string::npos) return InvalidArgument("bad host in \"" + url + "\"");
    out.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size() && authority[close + 1] == ':')
      out.port = authority.substr(close + 2);
  } else if (size_t colon = authority.rfind(':'); colon != std::string::npos) {
    out.host = authority.substr(0, colon);
    out.port = authority.substr(colon + 1);
  }
  return out;
}

// A TCP connection to the first address of the URL's host that answers.
Result<UniqueFd> ConnectTo(const StreamingUrl& url) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(url.host.c_str(), url.port.c_str(), &hints, &found); rc != 0) {
    return Unavailable("resolve " + url.authority + ": " + gai_strerror(rc));
  }
  UniqueFd socket;
  int last_errno = 0;
  for (addrinfo* ai = found; ai != nullptr && !socket.valid(); ai = ai->ai_next) {
    UniqueFd candidate(::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol));
    if (!candidate.valid()) continue;
    if (::connect(candidate.get(), ai->ai_addr, ai->ai_addrlen) == 0) {
      // Small frames back to back (SYN_STREAMs, then data): Nagle would hold each until an ACK.
      int one = 1;
      ::setsockopt(candidate.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      socket = std::move(candidate);
    } else {
      last_errno = errno;
    }
  }
  ::freeaddrinfo(found);
  if (!socket.valid()) return Error::FromErrno(last_errno, "connect to " + url.authority);
  return socket;
}

// The upgrade request: WebSocket (GET, a fresh key in `websocket_key`) or SPDY (POST).
HttpRequest UpgradeRequest(const StreamingUrl& url, const UpgradeOptions& options,
                           std::string& websocket_key) {
  HttpRequest request{options.websocket ? http::verb::get : http::verb::post, url.target, 11};
  request.set(http::field::host, url.authority);
  request.set(http::field::connection, "Upgrade");
  if (options.websocket) {
    request.set(http::field::upgrade, "websocket");
    request.set(http::field::sec_websocket_version, "13");
    std::string raw = RandomHex(16);
    websocket_key = Base64(reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
    request.set(http::field::sec_websocket_key, websocket_key);
    std::string list;
    for (const auto& protocol : options.protocols) list += (list.empty() ? "" : ", ") + protocol;
    if (!list.empty()) request.set(http::field::sec_websocket_protocol, list);
  } else {
    request.set(http::field::upgrade, "SPDY/3.1");
    for (const auto& protocol : options.protocols)
      request.insert("X-Stream-Protocol-Version", protocol);
  }
  return request;
}

}  // namespace

Result<UpgradedConnection> DialUpgrade(const std::string& url, const UpgradeOptions& options) {
  BERTH_ASSIGN_OR_RETURN(StreamingUrl parsed, ParseStreamingUrl(url));
  auto deadline = std::chrono::steady_clock::now() + options.timeout;
  const std::string& authority = parsed.authority;
  BERTH_ASSIGN_OR_RETURN(UniqueFd socket, ConnectTo(parsed));
  std::unique_ptr<ByteTransport> transport;
  if (parsed.tls) {
    auto secured = TlsTransport::Connect(std::move(socket), options.tls, parsed.host, deadline);
    if (!secured.ok()) return std::move(secured).error().Wrap("connect to " + authority);
    transport = std::move(*secured);
  } else {
    transport = std::make_unique<SocketTransport>(std::move(socket));
  }

  std::string websocket_key;
  HttpRequest request = UpgradeRequest(parsed, options, websocket_key);
  auto stream = std::make_unique<TransportStream>(*transport, deadline);
  boost::system::error_code ec;
  http::write(*stream, request, ec);
  if (ec) return Unavailable("send upgrade request to " + authority + ": " + ec.message());
  boost::beast::flat_buffer buffer(16 * 1024);
  http::response_parser<http::empty_body> parser;
  parser.skip(true);  // a 101 has no body; for an error we only need the status
  http::read_header(*stream, buffer, parser, ec);
  stream.reset();
  if (ec) return Unavailable("read upgrade response from " + authority + ": " + ec.message());
  UpgradedConnection connection;
  connection.response = parser.release();
  unsigned status = connection.response.result_int();
  if (status == 404) return NotFound("streaming URL " + url + ": 404 Not Found");
  if (status != 101)
    return Unavailable("streaming URL " + url + ": HTTP " + std::to_string(status));
  if (options.websocket) {
    auto accept = connection.response[http::field::sec_websocket_accept];
    if (std::string(accept.data(), accept.size()) != WebSocketAccept(websocket_key)) {
      return Unavailable("streaming URL " + url + ": wrong Sec-WebSocket-Accept");
    }
  }
  auto data = buffer.data();
  connection.transport = WithPrefix(
      std::move(transport), std::string(static_cast<const char*>(data.data()), data.size()));
  return connection;
}

}  // namespace berth::streaming
