// Fuzz target: the streaming server's HTTP/1.1 upgrade request (cri/streaming/http_upgrade), the
// first bytes any client sends. The input is the client's byte stream, read in pieces of varying
// size; what parses goes through what the server then does with a request: the upgrade checks,
// the protocol headers and their negotiation, the port-forward query, and the 101 responses
// (Sec-WebSocket-Accept computed from the client's key).
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "cri/streaming/http_upgrade.h"
#include "cri/streaming/remote_command.h"
#include "cri/streaming/websocket_port_forward.h"
#include "test/fuzz/fuzz_check.h"
#include "test/fuzz/memory_transport.h"

using namespace berth::streaming;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  berth::fuzz::MemoryTransport transport(input);
  auto received =
      ReadRequest(transport, std::chrono::steady_clock::now() + std::chrono::seconds(10));
  if (!received.ok()) {
    (void)WriteErrorResponse(transport, 400, received.error().message() + "\n");
    return 0;
  }
  BERTH_FUZZ_CHECK(received->leftover.size() <= size, "leftover larger than the input");
  const HttpRequest& request = received->request;
  const std::string_view target(request.target().data(), request.target().size());
  const auto spdy_offers = HeaderValues(request, "X-Stream-Protocol-Version");
  const auto websocket_offers = HeaderValues(request, "Sec-WebSocket-Protocol");
  for (const auto& offers : {spdy_offers, websocket_offers}) {
    for (const std::string& offer : offers) BERTH_FUZZ_CHECK(!offer.empty(), "an empty offer");
  }
  for (const PortForwardRequest& forward :
       {PortForwardRequest{"pod", {}}, PortForwardRequest{"pod", {80, 8080}}}) {
    auto ports = WebSocketPortForwardPorts(target, forward, PortForwardLimits());
    if (!ports.ok()) continue;
    BERTH_FUZZ_CHECK(!ports->empty(), "no ports");
    for (int32_t port : *ports) BERTH_FUZZ_CHECK(port >= 1 && port <= 65535, "a port out of range");
  }
  if (IsSpdyUpgrade(request)) {
    auto protocol = NegotiateSpdyProtocol(spdy_offers);
    (void)WriteSpdyUpgrade(transport, protocol ? ProtocolName(*protocol) : "");
  }
  if (IsWebSocketUpgrade(request)) {
    auto protocol = NegotiateWebSocketProtocol(websocket_offers);
    (void)WriteWebSocketUpgrade(transport, request, protocol ? ProtocolName(*protocol) : "");
  }
  return 0;
}
