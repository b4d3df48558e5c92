#include "cri/streaming/byte_transport.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <algorithm>
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
    BERTH_TRY(WaitUntilDeadline(POLLIN));
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
    bool bounded = deadline_ns_.load() != 0;
    if (bounded) BERTH_TRY(WaitUntilDeadline(POLLOUT));
    ssize_t n = ::send(socket_.get(), data.data(), data.size(),
                       MSG_NOSIGNAL | (bounded ? MSG_DONTWAIT : 0));
    if (n < 0) {
      if (errno == EINTR || (bounded && (errno == EAGAIN || errno == EWOULDBLOCK))) continue;
      return Error::FromErrno(errno, "write to streaming connection");
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Ok();
}

void SocketTransport::CloseWrite() {
  ::shutdown(socket_.get(), SHUT_WR);
}

void SocketTransport::Shutdown() {
  ::shutdown(socket_.get(), SHUT_RDWR);
}

void SocketTransport::SetDeadline(std::optional<std::chrono::steady_clock::time_point> deadline) {
  deadline_ns_ =
      deadline ? std::max<int64_t>(1, deadline->time_since_epoch() / std::chrono::nanoseconds(1))
               : 0;
}

Result<void> SocketTransport::WaitUntilDeadline(short events) {
  while (deadline_ns_.load() != 0) {
    pollfd pfd{socket_.get(), events, 0};
    int rc = ::poll(&pfd, 1, MillisecondsLeft(deadline_ns_.load()));
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) return Error::FromErrno(errno, "poll streaming connection");
    if (rc == 0) return DeadlineExceeded("streaming connection: timed out");
    return Ok();
  }
  return Ok();
}

PrefixedTransport::PrefixedTransport(std::unique_ptr<ByteTransport> inner, std::string initial)
    : inner_(std::move(inner)), initial_(std::move(initial)) {}

Result<size_t> PrefixedTransport::Read(std::span<uint8_t> out) {
  if (initial_offset_ < initial_.size()) {
    size_t n = std::min(out.size(), initial_.size() - initial_offset_);
    std::memcpy(out.data(), initial_.data() + initial_offset_, n);
    initial_offset_ += n;
    if (initial_offset_ == initial_.size()) std::string().swap(initial_), initial_offset_ = 0;
    return n;
  }
  return inner_->Read(out);
}

std::unique_ptr<ByteTransport> WithPrefix(std::unique_ptr<ByteTransport> inner,
                                          std::string initial) {
  if (initial.empty()) return inner;
  return std::make_unique<PrefixedTransport>(std::move(inner), std::move(initial));
}

int MillisecondsLeft(int64_t deadline_ns) {
  if (deadline_ns == 0) return -1;
  int64_t now = std::chrono::steady_clock::now().time_since_epoch() / std::chrono::nanoseconds(1);
  if (deadline_ns <= now) return 0;
  return static_cast<int>(std::min<int64_t>((deadline_ns - now + 999'999) / 1'000'000, 1 << 30));
}

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
