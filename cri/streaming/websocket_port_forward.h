// Port-forward over WebSocket channels, kubelet's older protocol (subprotocol portforward.k8s.io,
// v4.channel.k8s.io or none): one session forwards a fixed list of ports. Every binary message's
// first byte is its channel; for the i-th port, channel 2i carries data both ways and 2i+1 errors
// (server to client only). The server opens each channel by sending the port as 2 bytes, little
// endian, then dials the port in the pod once for the whole session.
#pragma once

#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "cri/streaming/port_forward.h"
#include "cri/streaming/streaming_runtime.h"
#include "cri/streaming/websocket_connection.h"

namespace berth::streaming {

// The ports of a session: the `port` query parameters of `target` (each may be a comma list), or
// the request's ports when there are none. A port the request does not list (when it lists any) is
// refused, as are unparsable ports, no ports at all, and more than `limits.max_connections`.
Result<std::vector<int32_t>> WebSocketPortForwardPorts(std::string_view target,
                                                       const PortForwardRequest& request,
                                                       const PortForwardLimits& limits);

// Serves until the client closes the connection, or every port's forward has ended (as kubelet
// closes the connection when all its PortForward calls returned). `register_abort` as for
// ServeSpdyRemoteCommand.
void ServeWebSocketPortForward(std::unique_ptr<websocket::Connection> connection,
                               const std::vector<int32_t>& ports, const PortForwardRequest& request,
                               StreamingRuntime& runtime,
                               const std::function<void(std::function<void()>)>& register_abort);

}  // namespace berth::streaming
