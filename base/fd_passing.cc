#include "base/fd_passing.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace berth {
namespace {
constexpr size_t kMaxFds = 8;
}

Result<void> SendWithFds(int socket, std::string_view data, const int* fds, size_t fd_count) {
  if (data.empty() || fd_count > kMaxFds) return InvalidArgument("SendWithFds: bad message");
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)] = {};
  iovec io{const_cast<char*>(data.data()), data.size()};
  msghdr message{};
  message.msg_iov = &io;
  message.msg_iovlen = 1;
  if (fd_count > 0) {
    message.msg_control = control;
    message.msg_controllen = CMSG_SPACE(sizeof(int) * fd_count);
    cmsghdr* header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int) * fd_count);
    std::memcpy(CMSG_DATA(header), fds, sizeof(int) * fd_count);
  }
  ssize_t sent;
  do sent = ::sendmsg(socket, &message, MSG_NOSIGNAL);
  while (sent < 0 && errno == EINTR);
  if (sent < 0) return Error::FromErrno(errno, "send file descriptors");
  if (static_cast<size_t>(sent) != data.size())
    return Internal("send file descriptors: short write");
  return Ok();
}

Result<size_t> ReceiveWithFds(int socket, char* buffer, size_t size, std::vector<UniqueFd>& fds,
                              size_t max_fds) {
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)] = {};
  iovec io{buffer, size};
  msghdr message{};
  message.msg_iov = &io;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof control;
  ssize_t received;
  do received = ::recvmsg(socket, &message, MSG_CMSG_CLOEXEC);
  while (received < 0 && errno == EINTR);
  if (received < 0) return Error::FromErrno(errno, "receive file descriptors");
  std::vector<UniqueFd> got;
  for (cmsghdr* header = CMSG_FIRSTHDR(&message); header != nullptr;
       header = CMSG_NXTHDR(&message, header)) {
    if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(header) + i * sizeof(int), sizeof fd);
      got.emplace_back(fd);
    }
  }
  if ((message.msg_flags & MSG_CTRUNC) != 0 || got.size() > max_fds) {
    return InvalidArgument("receive file descriptors: too many");
  }
  for (auto& fd : got) fds.push_back(std::move(fd));
  return static_cast<size_t>(received);
}

}  // namespace berth
