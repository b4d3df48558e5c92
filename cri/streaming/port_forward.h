// Port-forward over SPDY (raw, or tunnelled in WebSocket binary messages): every client
// connection opens an `error` and a `data` stream with the same `requestID` and `port`; once both
// are there we dial the port in the pod and copy both ways. Failures go as text on the error
// stream.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "base/result.h"
#include "cri/streaming/byte_transport.h"
#include "cri/streaming/streaming_runtime.h"

namespace berth::streaming {

// A port a client names (the SPDY `port` header, a WebSocket `port` query value): decimal
// digits only, 1-65535.
Result<int32_t> ParsePort(std::string_view text);

struct PortForwardLimits {
  size_t max_connections = 128;  // concurrent forwarded connections per client session
  std::chrono::milliseconds pair_timeout{30000};  // how long half of a pair may wait for the other
};

// Serves until the client closes the session. `register_abort` as for ServeSpdyRemoteCommand.
void ServeSpdyPortForward(std::unique_ptr<ByteTransport> transport,
                          const PortForwardRequest& request, StreamingRuntime& runtime,
                          const PortForwardLimits& limits,
                          const std::function<void(std::function<void()>)>& register_abort);

}  // namespace berth::streaming
