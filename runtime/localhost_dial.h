// TCP connections to a port on localhost, for CRI PortForward: "dial localhost:<port> inside the
// pod's network namespace (the host's for host-network pods)". 127.0.0.1 is tried first, then
// ::1, as kubelet's own port-forwarding does.
#pragma once

#include <cstdint>
#include <string>

#include "base/result.h"
#include "base/unique_fd.h"

namespace berth::runtime {

// In the caller's network namespace (a host-network pod's).
Result<UniqueFd> DialLocalhost(uint16_t port);

// In the network namespace pinned at `netns_path`. The socket is made on a short-lived thread
// that entered the namespace (base/namespaces.h, RunInNamespace); a socket belongs to the
// namespace it was made in, whichever thread uses it later.
Result<UniqueFd> DialLocalhostInNetworkNamespace(const std::string& netns_path, uint16_t port);

}  // namespace berth::runtime
