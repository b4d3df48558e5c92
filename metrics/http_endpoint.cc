#include "metrics/http_endpoint.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/parse_number.h"

namespace berth::metrics {
namespace {

constexpr size_t kMaxRequestBytes = 8 << 10;
constexpr int kIoTimeoutSeconds = 5;

void SetTimeouts(int fd) {
  timeval timeout{kIoTimeoutSeconds, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
}

void WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the client went away or timed out: nothing more to do for it
    done += static_cast<size_t>(n);
  }
}

std::string Response(const std::string& status, const std::string& content_type,
                     const std::string& body) {
  return "HTTP/1.1 " + status + "\r\nContent-Type: " + content_type +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" +
         body;
}

}  // namespace

Result<std::pair<std::string, int>> SplitHostPort(const std::string& address) {
  std::string host, port;
  if (!address.empty() && address.front() == '[') {
    size_t close = address.find("]:");
    if (close == std::string::npos)
      return InvalidArgument("\"" + address + "\" is not [host]:port");
    host = address.substr(1, close - 1);
    port = address.substr(close + 2);
  } else {
    size_t colon = address.rfind(':');
    if (colon == std::string::npos || address.find(':') != colon) {
      return InvalidArgument("\"" + address + "\" is not host:port");
    }
    host = address.substr(0, colon);
    port = address.substr(colon + 1);
  }
  auto number = ParseInt64(port, 0, 65535);
  if (host.empty() || !number) return InvalidArgument("\"" + address + "\" is not host:port");
  return std::pair{host, static_cast<int>(*number)};
}

Result<std::unique_ptr<HttpEndpoint>> HttpEndpoint::Start(const std::string& address,
                                                          Registry& registry) {
  BERTH_ASSIGN_OR_RETURN(auto host_port, SplitHostPort(address));
  auto [host, port] = host_port;
  sockaddr_storage storage{};
  socklen_t length = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
  if (::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    length = sizeof *v4;
  } else if (::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    length = sizeof *v6;
  } else {
    return InvalidArgument("metrics.address \"" + address + "\": the host must be an IP address");
  }
  UniqueFd listener(::socket(storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!listener) return Error::FromErrno(errno, "metrics endpoint socket");
  int one = 1;
  ::setsockopt(listener.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(listener.get(), reinterpret_cast<sockaddr*>(&storage), length) != 0) {
    return Error::FromErrno(errno, "metrics endpoint: bind " + address);
  }
  if (::listen(listener.get(), 16) != 0) return Error::FromErrno(errno, "metrics endpoint listen");
  socklen_t bound_length = sizeof storage;
  ::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&storage), &bound_length);
  int bound_port = ntohs(storage.ss_family == AF_INET ? v4->sin_port : v6->sin6_port);
  UniqueFd stop(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!stop) return Error::FromErrno(errno, "metrics endpoint eventfd");
  std::string shown = storage.ss_family == AF_INET ? host : "[" + host + "]";
  std::string url = "http://" + shown + ":" + std::to_string(bound_port) + "/metrics";
  return std::unique_ptr<HttpEndpoint>(
      new HttpEndpoint(std::move(listener), std::move(stop), std::move(url), registry));
}

HttpEndpoint::HttpEndpoint(UniqueFd listener, UniqueFd stop, std::string url, Registry& registry)
    : listener_(std::move(listener)),
      stop_(std::move(stop)),
      url_(std::move(url)),
      registry_(registry) {
  thread_ = std::thread([this] { Serve(); });
}

HttpEndpoint::~HttpEndpoint() {
  uint64_t one = 1;
  [[maybe_unused]] ssize_t written = ::write(stop_.get(), &one, sizeof one);
  if (thread_.joinable()) thread_.join();
}

void HttpEndpoint::Serve() {
  for (;;) {
    pollfd fds[2] = {{listener_.get(), POLLIN, 0}, {stop_.get(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      spdlog::error("metrics endpoint: poll: {}", std::strerror(errno));
      return;
    }
    if (fds[1].revents != 0) return;
    if ((fds[0].revents & POLLIN) == 0) continue;
    UniqueFd connection(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!connection) continue;
    SetTimeouts(connection.get());
    Answer(connection.get());
  }
}

void HttpEndpoint::Answer(int connection) {
  std::string request;
  char buffer[1024];
  while (request.find("\r\n\r\n") == std::string::npos) {
    if (request.size() >= kMaxRequestBytes) {
      WriteAll(connection,
               Response("431 Request Header Fields Too Large", "text/plain", "too large\n"));
      return;
    }
    ssize_t n = ::recv(connection, buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    request.append(buffer, static_cast<size_t>(n));
  }
  std::string line = request.substr(0, request.find("\r\n"));
  size_t space = line.find(' ');
  size_t second = space == std::string::npos ? std::string::npos : line.find(' ', space + 1);
  if (second == std::string::npos) {
    WriteAll(connection, Response("400 Bad Request", "text/plain", "bad request\n"));
    return;
  }
  std::string method = line.substr(0, space);
  std::string target = line.substr(space + 1, second - space - 1);
  std::string path = target.substr(0, target.find('?'));
  if (path != "/metrics") {
    WriteAll(connection, Response("404 Not Found", "text/plain", "only /metrics is served\n"));
    return;
  }
  if (method != "GET" && method != "HEAD") {
    WriteAll(connection, Response("405 Method Not Allowed", "text/plain", "GET only\n"));
    return;
  }
  std::string body = registry_.Render();
  std::string response = Response("200 OK", "text/plain; version=0.0.4; charset=utf-8", body);
  if (method == "HEAD") response.resize(response.size() - body.size());
  WriteAll(connection, response);
}

}  // namespace berth::metrics
