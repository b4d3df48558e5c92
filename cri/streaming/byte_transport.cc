#include "cri/streaming/byte_transport.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace berth::streaming {

SocketTransport::SocketTransport(UniqueFd socket, std::string initial)
    : socket_(std::move(socket)), initial_(std::move(initial)) {}

Result<size_t> SocketTransport::Read(std::span<uint8_t> out) {
  if (initial_offset_ < initial_.size()) {
    size_t n = std::min(out.size(), initial_.size() - initial_offset_);
    std::memcpy(out.data(), initial_.data() + initial_offset_, n);
    initial_offset_ += n;
    return n;
  }
  while (true) {
    ssize_t n = ::recv(socket_.get(), out.data(), out.size(), 0);
    if (n >= 0) return static_cast<size_t>(n);
    if (errno == EINTR) continue;
    if (errno == ECONNRESET) return size_t{0};
    return Error::FromErrno(errno, "read from streaming connection");
  }
}

Result<void> SocketTransport::Write(std::string_view data) {
  std::lock_guard lock(write_mu_);
  while (!data.empty()) {
    ssize_t n = ::send(socket_.get(), data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::FromErrno(errno, "write to streaming connection");
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Ok();
}

void SocketTransport::CloseWrite() { ::shutdown(socket_.get(), SHUT_WR); }

void SocketTransport::Shutdown() { ::shutdown(socket_.get(), SHUT_RDWR); }

Result<void> WriteAllFd(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::FromErrno(errno, "write");
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Ok();
}

bool WaitReadable(int fd, int cancel_fd, int timeout_ms) {
  while (true) {
    pollfd fds[2] = {{fd, POLLIN, 0}, {cancel_fd, POLLIN, 0}};
    int rc = ::poll(fds, cancel_fd >= 0 ? 2 : 1, timeout_ms);
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) return false;
    if (cancel_fd >= 0 && (fds[1].revents & POLLIN)) return false;
    return fds[0].revents != 0;
  }
}

Latch::Latch() : fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

void Latch::Signal() {
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(fd_.get(), &one, sizeof(one));
}

bool Latch::signalled() const {
  pollfd pfd{fd_.get(), POLLIN, 0};
  return ::poll(&pfd, 1, 0) > 0;
}

}  // namespace berth::streaming
