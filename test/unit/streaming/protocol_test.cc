#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cri/streaming/http_upgrade.h"
#include "cri/streaming/port_forward.h"
#include "cri/streaming/remote_command.h"
#include "cri/streaming/token_store.h"
#include "cri/streaming/websocket_port_forward.h"

namespace berth::streaming {
namespace {

TEST(TokenStoreTest, SingleUseAndExpiry) {
  auto now = std::chrono::steady_clock::time_point(std::chrono::seconds(100));
  TokenStore store(std::chrono::seconds(60), 2, [&] { return now; });
  auto token = store.Insert(ExecRequest{"c", {"ls"}, false, false, true, false});
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(token->size(), 32u);
  auto taken = store.Take(*token);
  ASSERT_TRUE(taken.has_value());
  EXPECT_EQ(std::get<ExecRequest>(*taken).cmd, std::vector<std::string>{"ls"});
  EXPECT_FALSE(store.Take(*token).has_value());  // used
  EXPECT_FALSE(store.Take("nope").has_value());

  auto expiring = store.Insert(AttachRequest{"c"});
  ASSERT_TRUE(expiring.ok());
  now += std::chrono::seconds(60);
  EXPECT_FALSE(store.Take(*expiring).has_value());
}

TEST(TokenStoreTest, BoundedPending) {
  auto now = std::chrono::steady_clock::time_point(std::chrono::seconds(100));
  TokenStore store(std::chrono::seconds(60), 2, [&] { return now; });
  ASSERT_TRUE(store.Insert(PortForwardRequest{"p", {80}}).ok());
  ASSERT_TRUE(store.Insert(PortForwardRequest{"p", {81}}).ok());
  auto third = store.Insert(PortForwardRequest{"p", {82}});
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.error().code(), ErrorCode::kResourceExhausted);
  now += std::chrono::seconds(61);  // the first two expire and make room
  EXPECT_TRUE(store.Insert(PortForwardRequest{"p", {82}}).ok());
  EXPECT_EQ(store.size(), 1u);
}

TEST(RemoteCommandTest, StatusJson) {
  EXPECT_EQ(FinalStatus(RemoteCommandProtocol::kV4, 0), R"({"metadata":{},"status":"Success"})");
  auto failure = nlohmann::json::parse(FinalStatus(RemoteCommandProtocol::kV4, 7));
  EXPECT_EQ(failure["status"], "Failure");
  EXPECT_EQ(failure["reason"], "NonZeroExitCode");
  EXPECT_EQ(failure["details"]["causes"][0]["reason"], "ExitCode");
  EXPECT_EQ(failure["details"]["causes"][0]["message"], "7");
  auto internal =
      nlohmann::json::parse(FinalStatus(RemoteCommandProtocol::kV5, Internal("container gone")));
  EXPECT_EQ(internal["reason"], "InternalError");
  EXPECT_EQ(internal["message"], "container gone");
  EXPECT_EQ(FinalStatus(RemoteCommandProtocol::kV2, 0), "");
  EXPECT_NE(FinalStatus(RemoteCommandProtocol::kV2, 3), "");

  EXPECT_EQ(
      *ParseFinalStatus(RemoteCommandProtocol::kV4, FinalStatus(RemoteCommandProtocol::kV4, 0)), 0);
  EXPECT_EQ(
      *ParseFinalStatus(RemoteCommandProtocol::kV4, FinalStatus(RemoteCommandProtocol::kV4, 42)),
      42);
  EXPECT_FALSE(ParseFinalStatus(RemoteCommandProtocol::kV4, "{not json").ok());
  EXPECT_FALSE(ParseFinalStatus(RemoteCommandProtocol::kV1, "boom").ok());
}

// The peer's Status is untrusted: fields of another type than expected must not throw
// (json::value() does), and the exit code is parsed whole (std::stoi took "12abc" for 12).
TEST(RemoteCommandTest, HostileStatusJson) {
  using P = RemoteCommandProtocol;
  for (
      const char* text :
      {R"({"status":1})", R"({"message":[]})", R"({"reason":{}})",
       R"({"reason":"NonZeroExitCode","details":"x"})",
       R"({"reason":"NonZeroExitCode","details":{"causes":7}})",
       R"({"reason":"NonZeroExitCode","details":{"causes":[1,{"reason":2}]}})",
       R"({"reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":3}]}})"}) {
    EXPECT_FALSE(ParseFinalStatus(P::kV4, text).ok()) << text;
  }
  auto cause = [](const char* code) {
    return std::string(
               R"({"reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":")") +
           code + "\"}]}}";
  };
  EXPECT_EQ(*ParseFinalStatus(P::kV5, cause("3")), 3);
  EXPECT_FALSE(ParseFinalStatus(P::kV5, cause("12abc")).ok());
  EXPECT_FALSE(ParseFinalStatus(P::kV5, cause("99999999999")).ok());
  EXPECT_FALSE(ParseFinalStatus(P::kV5, cause(" 1")).ok());
}

// Ports from a client (SPDY `port` header, WebSocket `port` query values): one parser, decimal
// 1-65535 only.
TEST(PortForwardTest, ParsePort) {
  EXPECT_EQ(*ParsePort("1"), 1);
  EXPECT_EQ(*ParsePort("65535"), 65535);
  EXPECT_EQ(*ParsePort("08080"), 8080);
  for (const char* bad :
       {"", "0", "65536", "-1", "+80", " 80", "80 ", "0x50", "80abc", "99999999999999999999"}) {
    EXPECT_FALSE(ParsePort(bad).ok()) << bad;
  }
  PortForwardRequest any{"pod", {}};
  EXPECT_EQ(*WebSocketPortForwardPorts("/portforward/t?port=80,8080&port=%34%34%33", any,
                                       PortForwardLimits()),
            (std::vector<int32_t>{80, 8080, 443}));
  EXPECT_FALSE(WebSocketPortForwardPorts("/portforward/t?port=80x", any, PortForwardLimits()).ok());
  EXPECT_FALSE(WebSocketPortForwardPorts("/portforward/t?port=80,", any, PortForwardLimits()).ok());
}

// An error message is not always UTF-8 (a path from a container); FinalStatus threw from dump().
TEST(RemoteCommandTest, StatusOfAMessageThatIsNotUtf8) {
  auto status = nlohmann::json::parse(
      FinalStatus(RemoteCommandProtocol::kV5, Internal("exec /bin/\xff: not found")), nullptr,
      false);
  ASSERT_FALSE(status.is_discarded());
  EXPECT_EQ(status["message"], "exec /bin/\xef\xbf\xbd: not found");
}

TEST(RemoteCommandTest, Negotiation) {
  using P = RemoteCommandProtocol;
  EXPECT_EQ(NegotiateSpdyProtocol({"v5.channel.k8s.io", "v4.channel.k8s.io", "v3.channel.k8s.io"}),
            P::kV4);
  EXPECT_EQ(NegotiateSpdyProtocol({"v5.channel.k8s.io"}), P::kV5);
  EXPECT_EQ(NegotiateSpdyProtocol({"v3.channel.k8s.io", "v2.channel.k8s.io"}), P::kV3);
  EXPECT_EQ(NegotiateSpdyProtocol({}), P::kV1);
  EXPECT_EQ(NegotiateSpdyProtocol({"v9.channel.k8s.io"}), std::nullopt);
  EXPECT_EQ(NegotiateWebSocketProtocol({"base64.channel.k8s.io", "v4.channel.k8s.io"}), P::kV4);
  EXPECT_EQ(NegotiateWebSocketProtocol({"v5.channel.k8s.io", "v4.channel.k8s.io"}), P::kV5);
  EXPECT_EQ(NegotiateWebSocketProtocol({"channel.k8s.io"}), std::nullopt);
}

TEST(RemoteCommandTest, ResizeMessagesSplitAndJoined) {
  ResizeDecoder decoder;
  auto sizes = decoder.Feed(R"({"Width":80,"Height":24}{"Width":100,)");
  ASSERT_TRUE(sizes.ok());
  EXPECT_EQ(*sizes, (std::vector<TerminalSize>{{80, 24}}));
  sizes = decoder.Feed(R"("Height":40}
 {"Width":1,"Height":2})");
  ASSERT_TRUE(sizes.ok());
  EXPECT_EQ(*sizes, (std::vector<TerminalSize>{{100, 40}, {1, 2}}));
  EXPECT_EQ(EncodeResize({3, 4}), R"({"Width":3,"Height":4})");

  ResizeDecoder hostile;
  EXPECT_FALSE(hostile.Feed("[1,2]").ok());
  ResizeDecoder negative;
  EXPECT_FALSE(negative.Feed(R"({"Width":-1,"Height":2})").ok());
  ResizeDecoder endless;
  EXPECT_FALSE(endless.Feed("{" + std::string(5000, ' ')).ok());
}

TEST(HttpUpgradeTest, WebSocketAcceptKnownVector) {
  // RFC 6455 section 1.3.
  EXPECT_EQ(WebSocketAccept("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

// Found by fuzz_http_upgrade: a request without Sec-WebSocket-Key was taken for a WebSocket
// upgrade and its (empty) key hashed into the 101 (undefined behaviour in Beast's SHA-1).
TEST(HttpUpgradeTest, WebSocketUpgradeNeedsVersion13AndAKey) {
  auto request = [](const std::string& version, const std::string& key) {
    HttpRequest request{boost::beast::http::verb::get, "/exec/token", 11};
    request.set(boost::beast::http::field::connection, "keep-alive, Upgrade");
    request.set(boost::beast::http::field::upgrade, "websocket");
    if (!version.empty()) request.set(boost::beast::http::field::sec_websocket_version, version);
    if (!key.empty()) request.set(boost::beast::http::field::sec_websocket_key, key);
    return request;
  };
  EXPECT_TRUE(IsWebSocketUpgrade(request("13", "dGhlIHNhbXBsZSBub25jZQ==")));
  EXPECT_FALSE(IsWebSocketUpgrade(request("13", "")));
  EXPECT_FALSE(IsWebSocketUpgrade(request("13", "  ")));
  EXPECT_FALSE(IsWebSocketUpgrade(request("", "dGhlIHNhbXBsZSBub25jZQ==")));
  EXPECT_FALSE(IsWebSocketUpgrade(request("8", "dGhlIHNhbXBsZSBub25jZQ==")));
  EXPECT_EQ(WebSocketAccept(""), WebSocketAccept(std::string()));
}

// Found by fuzz_http_upgrade: a key longer than 24 bytes failed an assertion in Beast's
// make_sec_ws_accept (an abort wherever assertions are on). A key is 16 bytes in base64.
TEST(HttpUpgradeTest, WebSocketKeyIsSixteenBytesInBase64) {
  auto request = [](const std::string& key) {
    HttpRequest request{boost::beast::http::verb::get, "/exec/token", 11};
    request.set(boost::beast::http::field::connection, "Upgrade");
    request.set(boost::beast::http::field::upgrade, "websocket");
    request.set(boost::beast::http::field::sec_websocket_version, "13");
    request.set(boost::beast::http::field::sec_websocket_key, key);
    return request;
  };
  EXPECT_TRUE(IsWebSocketUpgrade(request("AQIDBAUGBwgJCgsMDQ4PEA==")));
  for (const char* bad :
       {"dGhlIHNhbXBsZ.SBub25jZQ==", "dGhlIHNhbXBsZSBub25jZQ=", "dGhlIHNhbXBsZSBub25jZQ==x",
        "dGhlIHNhbXBsZSBub25jZQab", "dGhlIHNhbXBsZSBub25j*Q=="}) {
    EXPECT_FALSE(IsWebSocketUpgrade(request(bad))) << bad;
  }
  EXPECT_EQ(WebSocketAccept(std::string(1000, 'k')).size(), 28u);
}

}  // namespace
}  // namespace berth::streaming
