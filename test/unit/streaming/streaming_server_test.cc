// The real StreamingServer on 127.0.0.1 with host processes for containers, driven by our own
// SPDY and WebSocket clients, in plain HTTP and over TLS (a self-signed certificate made here).
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <thread>

#include "cri/streaming/client/streaming_client.h"
#include "cri/streaming/http_upgrade.h"
#include "cri/streaming/server.h"
#include "cri/streaming/spdy_session.h"
#include "cri/streaming/websocket_connection.h"
#include "test/unit/streaming/host_process_runtime.h"

namespace berth::streaming {
namespace {

using client::RemoteCommandOptions;
using client::Transport;

struct Pipe {
  UniqueFd read, write;
  Pipe() {
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    read.reset(fds[0]);
    write.reset(fds[1]);
  }
};

std::string ReadAllFd(int fd) {
  std::string all;
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(fd, buffer, sizeof(buffer))) > 0) all.append(buffer, static_cast<size_t>(n));
  return all;
}

size_t CountOpenFds() {
  size_t count = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd"))
    ++count;
  return count;
}

// What a remote command printed, and how it ended.
struct Outcome {
  Result<int> exit_code = 0;
  std::string out, err;
};

Outcome RunCommand(const std::string& url, RemoteCommandOptions options, std::string input = {},
                   client::TerminalSizeQueue* resizes = nullptr) {
  Pipe in, out, err;
  std::thread writer([&] {
    (void)WriteAllFd(in.write.get(), input);
    in.write.reset();
  });
  Outcome outcome;
  std::thread out_reader([&] { outcome.out = ReadAllFd(out.read.get()); });
  std::thread err_reader([&] { outcome.err = ReadAllFd(err.read.get()); });
  outcome.exit_code = client::RunRemoteCommand(url, options, in.read.get(), out.write.get(),
                                               err.write.get(), resizes);
  out.write.reset();
  err.write.reset();
  in.read.reset();  // a writer the command never read from gets EPIPE
  writer.join();
  out_reader.join();
  err_reader.join();
  return outcome;
}

// Echoes every connection back until the client half-closes.
class EchoServer {
 public:
  EchoServer() {
    listener_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(listener_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(::listen(listener_.get(), 16), 0);
    socklen_t length = sizeof(addr);
    ::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&addr), &length);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] {
      while (true) {
        int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) return;
        workers_.emplace_back([fd] {
          UniqueFd conn(fd);
          char buffer[4096];
          ssize_t n;
          while ((n = ::read(fd, buffer, sizeof(buffer))) > 0)
            (void)WriteAllFd(fd, {buffer, static_cast<size_t>(n)});
        });
      }
    });
  }
  ~EchoServer() {
    ::shutdown(listener_.get(), SHUT_RDWR);
    thread_.join();
    for (auto& worker : workers_) worker.join();
  }
  int32_t port() const { return port_; }

 private:
  UniqueFd listener_;
  uint16_t port_ = 0;
  std::thread thread_;
  std::vector<std::thread> workers_;
};

class StreamingServerTest : public ::testing::TestWithParam<Transport> {
 protected:
  void SetUp() override {
    StreamingServerConfig config;
    config.clock = [this] {
      return std::chrono::steady_clock::time_point(std::chrono::seconds(now_seconds_.load()));
    };
    server_ = std::make_unique<StreamingServer>(config, runtime_);
    ASSERT_TRUE(server_->Start().ok());
  }
  void TearDown() override {
    server_->Stop();
    EXPECT_TRUE(runtime_.live_pids().empty());
  }
  std::string ExecUrl(std::string command, bool tty = false, bool in = false, bool err = true) {
    ExecRequest request{"c1", {"/bin/sh", "-c", std::move(command)}, tty, in, true, err && !tty};
    auto url = server_->GetExecUrl(request);
    EXPECT_TRUE(url.ok());
    return url.ok() ? *url : "";
  }
  RemoteCommandOptions Options(bool tty = false, bool in = false) {
    RemoteCommandOptions options;
    options.transport = GetParam();
    options.tty = tty;
    options.stdin = in;
    options.stderr = !tty;
    return options;
  }
  // Waits until every connection and process of the server is gone.
  void WaitIdle() {
    for (int i = 0;
         i < 100 && (server_->active_connections() != 0 || !runtime_.live_pids().empty()); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  std::atomic<int64_t> now_seconds_{1000};
  testing::HostProcessRuntime runtime_;
  std::unique_ptr<StreamingServer> server_;
};

TEST_P(StreamingServerTest, ExecEchoWithoutTty) {
  Outcome outcome = RunCommand(ExecUrl("echo hello; echo oops >&2"), Options());
  ASSERT_TRUE(outcome.exit_code.ok()) << outcome.exit_code.error().message();
  EXPECT_EQ(*outcome.exit_code, 0);
  EXPECT_EQ(outcome.out, "hello\n");
  EXPECT_EQ(outcome.err, "oops\n");
  EXPECT_TRUE(server_->BaseUrl().starts_with("http://127.0.0.1:"));
}

TEST_P(StreamingServerTest, ExecEchoWithTty) {
  Outcome outcome = RunCommand(ExecUrl("echo hello", true), Options(true));
  ASSERT_TRUE(outcome.exit_code.ok()) << outcome.exit_code.error().message();
  EXPECT_EQ(*outcome.exit_code, 0);
  EXPECT_EQ(outcome.out, "hello\r\n");  // the pty's ONLCR
}

TEST_P(StreamingServerTest, LargeOutputArrivesWhole) {
  Outcome outcome = RunCommand(ExecUrl("head -c 1000000 /dev/zero | tr '\\0' x"), Options());
  ASSERT_TRUE(outcome.exit_code.ok()) << outcome.exit_code.error().message();
  EXPECT_EQ(outcome.out, std::string(1000000, 'x'));
}

TEST_P(StreamingServerTest, StdinThroughCatAndHalfClose) {
  std::string input = "line one\nline two\n" + std::string(200000, 'y');
  Outcome outcome = RunCommand(ExecUrl("cat", false, true), Options(false, true), input);
  ASSERT_TRUE(outcome.exit_code.ok()) << outcome.exit_code.error().message();
  EXPECT_EQ(*outcome.exit_code, 0);
  EXPECT_EQ(outcome.out, input);
}

TEST_P(StreamingServerTest, NonZeroExitCodeInStatus) {
  Outcome outcome = RunCommand(ExecUrl("echo bye; exit 7"), Options());
  ASSERT_TRUE(outcome.exit_code.ok()) << outcome.exit_code.error().message();
  EXPECT_EQ(*outcome.exit_code, 7);
  EXPECT_EQ(outcome.out, "bye\n");
}

TEST_P(StreamingServerTest, ResizeSeenByStty) {
  client::TerminalSizeQueue resizes;
  resizes.Push({100, 40});
  Outcome outcome = RunCommand(ExecUrl("sleep 0.5; stty size", true), Options(true), {}, &resizes);
  ASSERT_TRUE(outcome.exit_code.ok()) << outcome.exit_code.error().message();
  EXPECT_EQ(outcome.out, "40 100\r\n");
}

TEST_P(StreamingServerTest, TtyExecEndsWhileStdinStaysOpen) {
  Pipe in, out;
  std::string url = ExecUrl("echo done", true, true);
  auto options = Options(true, true);
  auto result = std::async(std::launch::async, [&] {
    return client::RunRemoteCommand(url, options, in.read.get(), out.write.get(), -1, nullptr);
  });
  ASSERT_EQ(result.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  auto exit_code = result.get();
  ASSERT_TRUE(exit_code.ok()) << exit_code.error().message();
  EXPECT_EQ(*exit_code, 0);
}

TEST_P(StreamingServerTest, AttachClosesContainerStdinWhenClientDoes) {
  AttachRequest request{"cat; echo finished", false, true, true, true};
  auto url = server_->GetAttachUrl(request);
  ASSERT_TRUE(url.ok());
  Outcome outcome = RunCommand(*url, Options(false, true), "attached input\n");
  ASSERT_TRUE(outcome.exit_code.ok()) << outcome.exit_code.error().message();
  EXPECT_EQ(outcome.out, "attached input\nfinished\n");
}

TEST_P(StreamingServerTest, UsedAndExpiredTokensAre404) {
  std::string url = ExecUrl("echo once");
  EXPECT_TRUE(RunCommand(url, Options()).exit_code.ok());
  auto again = RunCommand(url, Options()).exit_code;
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), ErrorCode::kNotFound);

  std::string expiring = ExecUrl("echo never");
  now_seconds_ += 61;
  auto expired = RunCommand(expiring, Options()).exit_code;
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(expired.error().code(), ErrorCode::kNotFound);
  auto unknown =
      RunCommand(server_->BaseUrl() + "/exec/0123456789abcdef0123456789abcdef", Options())
          .exit_code;
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(runtime_.started(), 1);
}

TEST_P(StreamingServerTest, PortForwardTwoConnectionsAtOnce) {
  EchoServer echo;
  auto url = server_->GetPortForwardUrl({"pod1", {echo.port()}});
  ASSERT_TRUE(url.ok());
  auto forwarder = client::PortForwarder::Connect(*url, GetParam());
  ASSERT_TRUE(forwarder.ok()) << forwarder.error().message();
  auto one_connection = [&](std::string payload) {
    int pair[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
    UniqueFd ours(pair[0]);
    auto forwarded = std::async(std::launch::async, [&, theirs = UniqueFd(pair[1])]() mutable {
      return (*forwarder)->Forward(echo.port(), std::move(theirs));
    });
    std::thread writer([&] {
      EXPECT_TRUE(WriteAllFd(ours.get(), payload).ok());
      ::shutdown(ours.get(), SHUT_WR);
    });
    std::string echoed = ReadAllFd(ours.get());
    writer.join();
    auto result = forwarded.get();
    EXPECT_TRUE(result.ok()) << result.error().message();
    return echoed;
  };
  std::string a(300000, 'a'), b = "hello from b\n";
  auto first = std::async(std::launch::async, one_connection, a);
  auto second = std::async(std::launch::async, one_connection, b);
  EXPECT_EQ(first.get(), a);
  EXPECT_EQ(second.get(), b);

  // A port the CRI request did not name: the error stream says so.
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
  UniqueFd ours(pair[0]);
  auto refused = (*forwarder)->Forward(echo.port() == 1 ? 2 : 1, UniqueFd(pair[1]));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message().find("was not requested"), std::string::npos)
      << refused.error().message();
}

TEST_P(StreamingServerTest, ClientDisconnectMidStreamLeavesNothingBehind) {
  // Warm up, so lazily created state (loggers, thread pools) is not counted as a leak.
  ASSERT_TRUE(RunCommand(ExecUrl("true"), Options()).exit_code.ok());
  WaitIdle();
  size_t fds_before = CountOpenFds();

  std::string url = ExecUrl("echo started; exec sleep 100", false, true);
  std::thread client_thread;
  if (GetParam() == Transport::kSpdy) {
    UpgradeOptions upgrade;
    upgrade.protocols = {"v4.channel.k8s.io"};
    auto connection = DialUpgrade(url, upgrade);
    ASSERT_TRUE(connection.ok());
    auto session = std::make_unique<spdy::SpdySession>(std::move(connection->transport),
                                                       spdy::SpdySession::Role::kClient);
    session->Start();
    std::shared_ptr<spdy::SpdyStream> stdout_stream;
    for (const char* type : {"error", "stdin", "stdout", "stderr"}) {
      auto stream = session->OpenStream({{"streamtype", type}});
      ASSERT_TRUE(stream.ok());
      if (std::string(type) == "stdout") stdout_stream = *stream;
    }
    uint8_t buffer[64];
    auto n = stdout_stream->Read(buffer);  // the process runs
    ASSERT_TRUE(n.ok());
    EXPECT_GT(*n, 0u);
    session->Abort();  // the client vanishes without a word
    session.reset();
  } else {
    UpgradeOptions upgrade;
    upgrade.websocket = true;
    upgrade.protocols = {"v5.channel.k8s.io"};
    auto connection = DialUpgrade(url, upgrade);
    ASSERT_TRUE(connection.ok());
    websocket::Connection ws(std::move(connection->transport),
                             websocket::Connection::Role::kClient);
    auto message = ws.ReadMessage();  // "started" on stdout
    ASSERT_TRUE(message.ok() && message->has_value());
    ws.Shutdown();
  }
  WaitIdle();
  EXPECT_EQ(server_->active_connections(), 0u);
  EXPECT_TRUE(runtime_.live_pids().empty());
  EXPECT_EQ(CountOpenFds(), fds_before);
}

TEST_P(StreamingServerTest, StopCancelsRunningSessions) {
  std::string url = ExecUrl("sleep 100");
  auto result =
      std::async(std::launch::async, [&] { return RunCommand(url, Options()).exit_code; });
  for (int i = 0; i < 100 && runtime_.live_pids().empty(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  server_->Stop();
  ASSERT_EQ(result.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_TRUE(runtime_.live_pids().empty());
}

INSTANTIATE_TEST_SUITE_P(Transports, StreamingServerTest,
                         ::testing::Values(Transport::kSpdy, Transport::kWebSocket),
                         [](const auto& info) {
                           return info.param == Transport::kSpdy ? "Spdy" : "WebSocket";
                         });

// kubelet's WebSocket port-forward protocol (no SPDY): for the i-th port, channel 2i carries data
// both ways and 2i+1 errors; each channel opens with its port, 2 bytes little endian. The client
// is written here, as the test sees the wire.
class ChannelPortForwardTest : public StreamingServerTest {
 protected:
  struct Session {
    std::unique_ptr<websocket::Connection> ws;
    std::string protocol;  // the server's Sec-WebSocket-Protocol
  };
  Result<Session> Dial(const std::string& url,
                       std::vector<std::string> protocols = {"portforward.k8s.io"}) {
    UpgradeOptions upgrade;
    upgrade.websocket = true;
    upgrade.protocols = std::move(protocols);
    BERTH_ASSIGN_OR_RETURN(auto connection, DialUpgrade(url, upgrade));
    auto chosen = connection.response[boost::beast::http::field::sec_websocket_protocol];
    return Session{std::make_unique<websocket::Connection>(std::move(connection.transport),
                                                           websocket::Connection::Role::kClient),
                   std::string(chosen.data(), chosen.size())};
  }
  static std::string PortBytes(int32_t port) {
    return {static_cast<char>(port & 0xff), static_cast<char>((port >> 8) & 0xff)};
  }
  static void Send(websocket::Connection& ws, uint8_t channel, std::string_view data) {
    std::string message(1, static_cast<char>(channel));
    message += data;
    EXPECT_TRUE(ws.WriteMessage(websocket::Opcode::kBinary, message).ok());
  }
  // Reads messages into per-channel buffers until `done` holds for them (or the server closes).
  static bool ReadUntil(websocket::Connection& ws, std::map<uint8_t, std::string>& channels,
                        const std::function<bool()>& done) {
    while (!done()) {
      auto message = ws.ReadMessage();
      if (!message.ok() || !message->has_value()) return false;
      const std::string& data = (*message)->data;
      EXPECT_EQ((*message)->opcode, websocket::Opcode::kBinary);
      if (data.empty()) continue;
      channels[static_cast<uint8_t>(data[0])] += data.substr(1);
    }
    return true;
  }
  static std::string ClosedPort(int32_t& port) {
    UniqueFd socket(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(socket.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    socklen_t length = sizeof(addr);
    ::getsockname(socket.get(), reinterpret_cast<sockaddr*>(&addr), &length);
    port = ntohs(addr.sin_port);
    return std::to_string(port);  // closed when `socket` goes: nothing listens there
  }
};

TEST_P(ChannelPortForwardTest, BytesBothWaysOnOnePort) {
  EchoServer echo;
  auto url = server_->GetPortForwardUrl({"pod1", {echo.port()}});
  ASSERT_TRUE(url.ok());
  auto session = Dial(*url);
  ASSERT_TRUE(session.ok()) << session.error().message();
  EXPECT_EQ(session->protocol, "portforward.k8s.io");
  websocket::Connection& ws = *session->ws;
  std::map<uint8_t, std::string> channels;
  ASSERT_TRUE(
      ReadUntil(ws, channels, [&] { return channels[0].size() >= 2 && channels[1].size() >= 2; }));
  EXPECT_EQ(channels[0], PortBytes(echo.port()));
  EXPECT_EQ(channels[1], PortBytes(echo.port()));
  channels.clear();

  std::string payload;
  for (int i = 0; payload.size() < 400000; ++i) payload += "line " + std::to_string(i) + "\n";
  std::thread writer([&] {
    for (size_t offset = 0; offset < payload.size(); offset += 5000)
      Send(ws, 0, payload.substr(offset, 5000));
  });
  bool read = ReadUntil(ws, channels, [&] { return channels[0].size() >= payload.size(); });
  writer.join();
  ASSERT_TRUE(read);
  EXPECT_EQ(channels[0], payload);
  EXPECT_TRUE(channels[1].empty()) << channels[1];
  ws.Close();
  EXPECT_TRUE(ReadUntil(ws, channels, [] { return false; }) == false);
  WaitIdle();
  EXPECT_EQ(server_->active_connections(), 0u);
}

TEST_P(ChannelPortForwardTest, TwoPortsInOneSessionFromTheQuery) {
  EchoServer first, second, unused;
  PortForwardRequest request{"pod1", {first.port(), unused.port(), second.port()}};
  auto url = server_->GetPortForwardUrl(request);
  ASSERT_TRUE(url.ok());
  // v4.channel.k8s.io is kubelet's own name for the same framing.
  auto session = Dial(
      *url + "?port=" + std::to_string(first.port()) + "&port=" + std::to_string(second.port()),
      {"v4.channel.k8s.io"});
  ASSERT_TRUE(session.ok()) << session.error().message();
  EXPECT_EQ(session->protocol, "v4.channel.k8s.io");
  websocket::Connection& ws = *session->ws;
  std::map<uint8_t, std::string> channels;
  ASSERT_TRUE(ReadUntil(ws, channels, [&] {
    return channels[0].size() >= 2 && channels[1].size() >= 2 && channels[2].size() >= 2 &&
           channels[3].size() >= 2;
  }));
  EXPECT_EQ(channels[0], PortBytes(first.port()));
  EXPECT_EQ(channels[3], PortBytes(second.port()));
  channels.clear();
  Send(ws, 2, "to the second port");
  Send(ws, 0, "to the first port");
  Send(ws, 1, "ignored: error channels are the server's");
  Send(ws, 9, "ignored: no such channel");
  ASSERT_TRUE(ReadUntil(ws, channels,
                        [&] { return channels[0].size() >= 17 && channels[2].size() >= 18; }));
  EXPECT_EQ(channels[0], "to the first port");
  EXPECT_EQ(channels[2], "to the second port");
  ws.Shutdown();
  WaitIdle();
  EXPECT_EQ(server_->active_connections(), 0u);

  // A query port the CRI request did not name is refused before the upgrade.
  int32_t closed = 0;
  ClosedPort(closed);
  auto other = server_->GetPortForwardUrl(request);
  ASSERT_TRUE(other.ok());
  auto refused = Dial(*other + "?port=" + std::to_string(closed));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message().find("400"), std::string::npos) << refused.error().message();
}

TEST_P(ChannelPortForwardTest, RefusedPortGivesErrorText) {
  int32_t closed = 0;
  ClosedPort(closed);
  auto url = server_->GetPortForwardUrl({"pod1", {closed}});
  ASSERT_TRUE(url.ok());
  auto session = Dial(*url);
  ASSERT_TRUE(session.ok()) << session.error().message();
  std::map<uint8_t, std::string> channels;
  // Every forward ended (here: never started), so the server closes the session after the error.
  EXPECT_FALSE(ReadUntil(*session->ws, channels, [] { return false; }));
  EXPECT_EQ(channels[0], PortBytes(closed));
  ASSERT_GE(channels[1].size(), 2u);
  EXPECT_EQ(channels[1].substr(0, 2), PortBytes(closed));
  std::string error = channels[1].substr(2);
  EXPECT_NE(error.find("error forwarding port " + std::to_string(closed) + " to pod pod1"),
            std::string::npos)
      << error;
  WaitIdle();
  EXPECT_EQ(server_->active_connections(), 0u);
}

TEST_P(ChannelPortForwardTest, ClientDisconnectLeavesNothingBehind) {
  EchoServer echo;
  auto session_once = [&](bool abrupt) {
    auto url = server_->GetPortForwardUrl({"pod1", {echo.port()}});
    ASSERT_TRUE(url.ok());
    auto session = Dial(*url);
    ASSERT_TRUE(session.ok()) << session.error().message();
    std::map<uint8_t, std::string> channels;
    Send(*session->ws, 0, "ping");
    ASSERT_TRUE(ReadUntil(*session->ws, channels, [&] { return channels[0].size() >= 6; }));
    EXPECT_EQ(channels[0].substr(2), "ping");
    if (abrupt) {
      session->ws->Shutdown();  // the client vanishes without a close frame
    } else {
      session->ws->Close();
      EXPECT_FALSE(ReadUntil(*session->ws, channels, [] { return false; }));
    }
  };
  session_once(false);  // warm up: lazily created state is not a leak
  WaitIdle();
  // The server reaps a finished connection's socket within a second of its end.
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  size_t fds_before = CountOpenFds();
  session_once(true);
  session_once(false);
  WaitIdle();
  EXPECT_EQ(server_->active_connections(), 0u);
  for (int i = 0; i < 150 && CountOpenFds() != fds_before; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(CountOpenFds(), fds_before);
}

INSTANTIATE_TEST_SUITE_P(WebSocket, ChannelPortForwardTest,
                         ::testing::Values(Transport::kWebSocket));

// A self-signed certificate for 127.0.0.1 and its key, as PEM files in a fresh directory.
struct SelfSignedCertificate {
  std::filesystem::path dir, cert_file, key_file;

  SelfSignedCertificate() {
    char templ[] = "/tmp/berth-tls-XXXXXX";
    dir = ::mkdtemp(templ);
    cert_file = dir / "cert.pem";
    key_file = dir / "key.pem";
    EVP_PKEY* key = ::EVP_EC_gen("P-256");
    X509* cert = ::X509_new();
    ::X509_set_version(cert, 2);
    ::ASN1_INTEGER_set(::X509_get_serialNumber(cert), 1);
    ::X509_gmtime_adj(::X509_getm_notBefore(cert), -60);
    ::X509_gmtime_adj(::X509_getm_notAfter(cert), 3600);
    ::X509_set_pubkey(cert, key);
    X509_NAME* name = ::X509_get_subject_name(cert);
    ::X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                 reinterpret_cast<const unsigned char*>("berth test"), -1, -1, 0);
    ::X509_set_issuer_name(cert, name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    ::X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
    for (auto [nid, value] :
         {std::pair{NID_subject_alt_name, "IP:127.0.0.1"}, {NID_basic_constraints, "CA:TRUE"}}) {
      X509_EXTENSION* extension = ::X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
      EXPECT_NE(extension, nullptr);
      ::X509_add_ext(cert, extension, -1);
      ::X509_EXTENSION_free(extension);
    }
    EXPECT_GT(::X509_sign(cert, key, ::EVP_sha256()), 0);
    FILE* out = std::fopen(cert_file.c_str(), "w");
    ::PEM_write_X509(out, cert);
    std::fclose(out);
    out = std::fopen(key_file.c_str(), "w");
    ::PEM_write_PrivateKey(out, key, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(out);
    ::X509_free(cert);
    ::EVP_PKEY_free(key);
  }
  ~SelfSignedCertificate() { std::filesystem::remove_all(dir); }
};

class StreamingServerTlsTest : public ::testing::TestWithParam<Transport> {
 protected:
  void SetUp() override {
    StreamingServerConfig config;
    config.tls_cert_file = certificate_.cert_file.string();
    config.tls_key_file = certificate_.key_file.string();
    config.handshake_timeout = std::chrono::milliseconds(500);
    server_ = std::make_unique<StreamingServer>(config, runtime_);
    auto started = server_->Start();
    ASSERT_TRUE(started.ok()) << started.error().message();
  }
  void TearDown() override {
    server_->Stop();
    EXPECT_TRUE(runtime_.live_pids().empty());
  }
  std::string ExecUrl(std::string command, bool in = false) {
    auto url =
        server_->GetExecUrl({"c1", {"/bin/sh", "-c", std::move(command)}, false, in, true, true});
    EXPECT_TRUE(url.ok());
    return url.ok() ? *url : "";
  }
  RemoteCommandOptions Options(bool in = false) {
    RemoteCommandOptions options;
    options.transport = GetParam();
    options.stdin = in;
    options.tls.ca_file = certificate_.cert_file.string();
    return options;
  }
  void WaitIdle() {
    for (int i = 0;
         i < 100 && (server_->active_connections() != 0 || !runtime_.live_pids().empty()); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  SelfSignedCertificate certificate_;
  testing::HostProcessRuntime runtime_;
  std::unique_ptr<StreamingServer> server_;
};

TEST_P(StreamingServerTlsTest, ExecOverHttps) {
  EXPECT_TRUE(server_->BaseUrl().starts_with("https://127.0.0.1:"));
  std::string url = ExecUrl("echo hello; echo oops >&2; exit 3");
  EXPECT_TRUE(url.starts_with("https://"));
  Outcome outcome = RunCommand(url, Options());
  ASSERT_TRUE(outcome.exit_code.ok()) << outcome.exit_code.error().message();
  EXPECT_EQ(*outcome.exit_code, 3);
  EXPECT_EQ(outcome.out, "hello\n");
  EXPECT_EQ(outcome.err, "oops\n");
}

TEST_P(StreamingServerTlsTest, StdinThroughCatBothWaysAtOnce) {
  std::string input = "line one\n" + std::string(500000, 'y');
  Outcome outcome = RunCommand(ExecUrl("cat", true), Options(true), input);
  ASSERT_TRUE(outcome.exit_code.ok()) << outcome.exit_code.error().message();
  EXPECT_EQ(*outcome.exit_code, 0);
  EXPECT_EQ(outcome.out, input);
}

TEST_P(StreamingServerTlsTest, PortForwardOverHttps) {
  EchoServer echo;
  auto url = server_->GetPortForwardUrl({"pod1", {echo.port()}});
  ASSERT_TRUE(url.ok());
  auto forwarder = client::PortForwarder::Connect(*url, GetParam(), Options().tls);
  ASSERT_TRUE(forwarder.ok()) << forwarder.error().message();
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
  UniqueFd ours(pair[0]);
  auto forwarded = std::async(std::launch::async, [&, theirs = UniqueFd(pair[1])]() mutable {
    return (*forwarder)->Forward(echo.port(), std::move(theirs));
  });
  std::string payload(200000, 'p');
  std::thread writer([&] {
    EXPECT_TRUE(WriteAllFd(ours.get(), payload).ok());
    ::shutdown(ours.get(), SHUT_WR);
  });
  EXPECT_EQ(ReadAllFd(ours.get()), payload);
  writer.join();
  auto result = forwarded.get();
  EXPECT_TRUE(result.ok()) << result.error().message();
}

TEST_P(StreamingServerTlsTest, UntrustedCertificateIsRefusedUnlessInsecure) {
  auto options = Options();
  options.tls.ca_file.clear();  // the system's store does not know our certificate
  auto refused = RunCommand(ExecUrl("echo never"), options).exit_code;
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message().find("certificate verify failed"), std::string::npos)
      << refused.error().message();
  options.tls.insecure_skip_verify = true;
  Outcome outcome = RunCommand(ExecUrl("echo trusted anyway"), options);
  ASSERT_TRUE(outcome.exit_code.ok()) << outcome.exit_code.error().message();
  EXPECT_EQ(outcome.out, "trusted anyway\n");
  EXPECT_EQ(runtime_.started(), 1);
}

TEST_P(StreamingServerTlsTest, PlainHttpClientFailsCleanly) {
  WaitIdle();
  size_t fds_before = CountOpenFds();
  std::string url = ExecUrl("echo never");
  url.replace(0, std::string_view("https").size(), "http");
  auto options = Options();
  auto result = std::async(std::launch::async, [&] { return RunCommand(url, options).exit_code; });
  ASSERT_EQ(result.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_FALSE(result.get().ok());
  WaitIdle();
  EXPECT_EQ(server_->active_connections(), 0u);
  EXPECT_EQ(runtime_.started(), 0);
  EXPECT_EQ(CountOpenFds(), fds_before);
}

TEST_P(StreamingServerTlsTest, StalledHandshakeIsCutOffAndDisconnectLeavesNothing) {
  // Warm up, so lazily created state is not counted as a leak.
  ASSERT_TRUE(RunCommand(ExecUrl("true"), Options()).exit_code.ok());
  WaitIdle();
  size_t fds_before = CountOpenFds();
  // A client that connects and never starts the handshake: the server gives up after the
  // handshake timeout (500 ms here) and closes.
  UniqueFd stalled(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  std::string base = server_->BaseUrl();
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(std::stoi(base.substr(base.rfind(':') + 1))));
  ASSERT_EQ(::connect(stalled.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  pollfd pfd{stalled.get(), POLLIN, 0};
  ASSERT_EQ(::poll(&pfd, 1, 5000), 1);
  char byte;
  EXPECT_LE(::recv(stalled.get(), &byte, 1, 0), 0);
  stalled.reset();

  // A TLS client that vanishes mid-stream: the process is cancelled, nothing stays open.
  UpgradeOptions upgrade;
  upgrade.websocket = true;
  upgrade.protocols = {"v5.channel.k8s.io"};
  upgrade.tls = Options().tls;
  auto connection = DialUpgrade(ExecUrl("echo started; exec sleep 100", true), upgrade);
  ASSERT_TRUE(connection.ok()) << connection.error().message();
  {
    websocket::Connection ws(std::move(connection->transport),
                             websocket::Connection::Role::kClient);
    auto message = ws.ReadMessage();  // "started" on stdout
    ASSERT_TRUE(message.ok() && message->has_value());
    ws.Shutdown();
  }
  WaitIdle();
  EXPECT_EQ(server_->active_connections(), 0u);
  EXPECT_TRUE(runtime_.live_pids().empty());
  EXPECT_EQ(CountOpenFds(), fds_before);
}

INSTANTIATE_TEST_SUITE_P(Transports, StreamingServerTlsTest,
                         ::testing::Values(Transport::kSpdy, Transport::kWebSocket),
                         [](const auto& info) {
                           return info.param == Transport::kSpdy ? "Spdy" : "WebSocket";
                         });

TEST(StreamingServerTlsConfigTest, StartRefusesBadTlsFiles) {
  SelfSignedCertificate certificate, other;
  testing::HostProcessRuntime runtime;
  auto start = [&](std::optional<std::string> cert, std::optional<std::string> key) {
    StreamingServerConfig config;
    config.tls_cert_file = std::move(cert);
    config.tls_key_file = std::move(key);
    StreamingServer server(config, runtime);
    auto started = server.Start();
    return started.ok() ? std::string("started") : started.error().message();
  };
  std::string missing_key =
      start(certificate.cert_file.string(), (certificate.dir / "missing.pem").string());
  EXPECT_NE(missing_key.find("missing.pem"), std::string::npos) << missing_key;
  EXPECT_NE(start(certificate.cert_file.string(), std::nullopt).find("both"), std::string::npos);
  std::string mismatched = start(certificate.cert_file.string(), other.key_file.string());
  EXPECT_NE(mismatched.find("does not match"), std::string::npos) << mismatched;
  std::string not_pem = start(certificate.key_file.string(), certificate.key_file.string());
  EXPECT_NE(not_pem.find("certificate file"), std::string::npos) << not_pem;
  EXPECT_EQ(start(certificate.cert_file.string(), certificate.key_file.string()), "started");
}

}  // namespace
}  // namespace berth::streaming
