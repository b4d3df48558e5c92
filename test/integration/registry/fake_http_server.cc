#include "test/integration/registry/fake_http_server.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <sstream>
#include <stdexcept>

namespace berth::testing {
namespace {

constexpr size_t kMaxHead = 64 << 10;

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Appends what the peer sent next; false on EOF, error or 5 s of silence.
bool ReadMore(int fd, std::string& buffer) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 5000) <= 0) return false;
  char chunk[4096];
  ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
  if (n <= 0) return false;
  buffer.append(chunk, static_cast<size_t>(n));
  return true;
}

bool ParseHead(const std::string& head, FakeRequest& request) {
  std::istringstream lines(head);
  std::string line;
  if (!std::getline(lines, line)) return false;
  std::istringstream first(line);
  first >> request.method >> request.target;
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    size_t start = line.find_first_not_of(' ', colon + 1);
    request.headers[name] = start == std::string::npos ? "" : line.substr(start);
  }
  return !request.method.empty();
}

const char* Reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 206: return "Partial Content";
    case 307: return "Temporary Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Whatever";
  }
}

}  // namespace

FakeHttpServer::FakeHttpServer(Handler handler) : handler_(std::move(handler)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(listen_fd_, 16) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    ::close(listen_fd_);
    throw std::runtime_error("fake http server: cannot listen on 127.0.0.1");
  }
  port_ = ntohs(address.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

FakeHttpServer::~FakeHttpServer() {
  stopping_ = true;
  acceptor_.join();
  for (auto& connection : connections_) connection.join();
  ::close(listen_fd_);
}

std::vector<FakeRequest> FakeHttpServer::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

void FakeHttpServer::AcceptLoop() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    connections_.emplace_back([this, fd] {
      Serve(fd);
      ::close(fd);
    });
  }
}

void FakeHttpServer::Serve(int fd) {
  std::string buffer;
  size_t head_end;
  while ((head_end = buffer.find("\r\n\r\n")) == std::string::npos) {
    if (buffer.size() > kMaxHead || !ReadMore(fd, buffer)) return;
    // A TLS ClientHello (the client trying https first): not HTTP, hang up at once.
    if (!std::isupper(static_cast<unsigned char>(buffer[0]))) return;
  }
  FakeRequest request;
  if (!ParseHead(buffer.substr(0, head_end), request)) return;
  size_t body_length = std::strtoul(request.Header("content-length").c_str(), nullptr, 10);
  std::string body = buffer.substr(head_end + 4);
  while (body.size() < body_length && ReadMore(fd, body)) {
  }
  request.body = body.substr(0, body_length);
  {
    std::lock_guard lock(mutex_);
    requests_.push_back(request);
  }
  Answer(fd, handler_(request));
}

void FakeHttpServer::Answer(int fd, const FakeResponse& response) {
  auto until = std::chrono::steady_clock::now() + response.stall;
  while (!stopping_ && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (stopping_ && response.stall.count() > 0) return;
  std::string head =
      "HTTP/1.1 " + std::to_string(response.status) + " " + Reason(response.status) + "\r\n";
  bool has_length = false;
  for (const auto& [name, value] : response.headers) {
    head += name + ": " + value + "\r\n";
    if (name == "Content-Length" || name == "Transfer-Encoding") has_length = true;
  }
  if (!has_length) head += "Content-Length: " + std::to_string(response.body.size()) + "\r\n";
  head += "Connection: close\r\n\r\n";
  if (!WriteAll(fd, head)) return;
  WriteAll(fd, std::string_view(response.body).substr(0, response.truncate_at));
}

}  // namespace berth::testing
