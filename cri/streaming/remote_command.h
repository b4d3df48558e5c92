// The Kubernetes remote command protocol (exec/attach) independent of its transport: protocol
// versions and their negotiation, the Status JSON on the error stream, and resize messages.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "cri/streaming/streaming_runtime.h"

namespace berth::streaming {

enum class RemoteCommandProtocol { kV1, kV2, kV3, kV4, kV5 };

inline constexpr std::string_view kProtocolV1 = "channel.k8s.io";
inline constexpr std::string_view kProtocolV2 = "v2.channel.k8s.io";
inline constexpr std::string_view kProtocolV3 = "v3.channel.k8s.io";
inline constexpr std::string_view kProtocolV4 = "v4.channel.k8s.io";
inline constexpr std::string_view kProtocolV5 = "v5.channel.k8s.io";
inline constexpr std::string_view kPortForwardProtocol = "portforward.k8s.io";
inline constexpr std::string_view kTunnelledPortForwardProtocol = "SPDY/3.1+portforward.k8s.io";

std::string_view ProtocolName(RemoteCommandProtocol protocol);

// Over SPDY: the client's first offer we speak, but v4 in place of v5 when both are offered (v5
// over SPDY adds nothing). No offer at all means v1, as kubelet does. nullopt: nothing in common.
std::optional<RemoteCommandProtocol> NegotiateSpdyProtocol(const std::vector<std::string>& offered);
// Over WebSocket: v5 or v4 (the binary channel protocols), the client's first.
std::optional<RemoteCommandProtocol> NegotiateWebSocketProtocol(
    const std::vector<std::string>& offered);

// The error stream's content at the end of a session. v4/v5: a metav1.Status JSON (Success, the
// NonZeroExitCode failure with the exit code as cause, or InternalError with the message). v1-v3:
// plain text on failure, nothing on success.
std::string FinalStatus(RemoteCommandProtocol protocol, const Result<int>& exit_code);

// Client side: exit code from the error stream's content. 0 for empty (v1-v3 success) or Success;
// N for NonZeroExitCode; an Error carrying the message for any other failure.
Result<int> ParseFinalStatus(RemoteCommandProtocol protocol, std::string_view content);

// Resize messages: JSON objects {"Width":w,"Height":h} back to back, split anywhere by the
// transport. Bounded: an object over 4 KiB is an error.
class ResizeDecoder {
 public:
  Result<std::vector<TerminalSize>> Feed(std::string_view bytes);

 private:
  std::string pending_;
};

std::string EncodeResize(TerminalSize size);

}  // namespace berth::streaming
