// Exec and attach over SPDY: collects the streams the client opens (identified by their
// `streamType` header), starts the process and hands both to the command runner.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "base/result.h"
#include "cri/streaming/byte_transport.h"
#include "cri/streaming/command_runner.h"
#include "cri/streaming/spdy_session.h"

namespace berth::streaming {

using StartProcess = std::function<Result<std::unique_ptr<ProcessSession>>()>;

// `transport` is the connection after the 101 response. Returns when the session is over and the
// connection closed. `register_abort` receives a function that tears the connection down (for
// the server's Stop()).
void ServeSpdyRemoteCommand(std::unique_ptr<ByteTransport> transport, const CommandOptions& options,
                            const StartProcess& start, std::chrono::milliseconds stream_timeout,
                            const std::function<void(std::function<void()>)>& register_abort);

}  // namespace berth::streaming
