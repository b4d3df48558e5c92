// Exec and attach over WebSocket (v4/v5.channel.k8s.io): binary messages whose first byte is the
// channel (0 stdin, 1 stdout, 2 stderr, 3 error, 4 resize); v5 adds [255, channel] to close one.
#pragma once

#include <functional>
#include <memory>

#include "cri/streaming/command_runner.h"
#include "cri/streaming/spdy_remote_command.h"
#include "cri/streaming/websocket_connection.h"

namespace berth::streaming {

enum Channel : uint8_t {
  kStdin = 0,
  kStdout = 1,
  kStderr = 2,
  kError = 3,
  kResize = 4,
  kCloseChannel = 255
};

void ServeWebSocketRemoteCommand(std::unique_ptr<websocket::Connection> connection,
                                 const CommandOptions& options, const StartProcess& start,
                                 const std::function<void(std::function<void()>)>& register_abort);

}  // namespace berth::streaming
