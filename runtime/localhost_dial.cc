#include "runtime/localhost_dial.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>

#include <cerrno>
#include <string>

#include "base/namespaces.h"

namespace berth::runtime {
namespace {

// A stream socket of `family` connected to `address`, or the error of the call that failed.
Result<UniqueFd> Connect(int family, const void* address, socklen_t length, uint16_t port) {
  UniqueFd sock(::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!sock) return Error::FromErrno(errno, "socket");
  if (::connect(sock.get(), static_cast<const sockaddr*>(address), length) != 0) {
    return Error::FromErrno(errno, "connect to localhost:" + std::to_string(port));
  }
  return sock;
}

}  // namespace

Result<UniqueFd> DialLocalhost(uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  auto v4 = Connect(AF_INET, &address, sizeof address, port);
  if (v4) return v4;
  sockaddr_in6 address6{};
  address6.sin6_family = AF_INET6;
  address6.sin6_port = htons(port);
  address6.sin6_addr = in6addr_loopback;
  auto v6 = Connect(AF_INET6, &address6, sizeof address6, port);
  if (v6) return v6;
  // The IPv4 error: a pod without IPv6 would otherwise always report EADDRNOTAVAIL.
  return v4.error();
}

Result<UniqueFd> DialLocalhostInNetworkNamespace(const std::string& netns_path, uint16_t port) {
  UniqueFd connected;
  BERTH_TRY(RunInNamespace(netns_path, CLONE_NEWNET, [&]() -> Result<void> {
    BERTH_ASSIGN_OR_RETURN(connected, DialLocalhost(port));
    return Ok();
  }));
  return connected;
}

}  // namespace berth::runtime
