// Exec, Attach and PortForward end to end: the CRI RPCs of a real berthd, its streaming server,
// berth-exec / the container's monitor / the pod's network namespace, driven by our own SPDY and
// WebSocket client. Traffic stays on loopback and inside the test pod.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>

#include "cri/streaming/client/streaming_client.h"
#include "gtest/gtest.h"
#include "test/integration/container_fixture.h"

namespace berth::testing {
namespace {

using streaming::client::Transport;

struct CommandResult {
  Result<int> exit_code = Internal("not run");
  std::string out, err;
};

std::string ReadAll(int fd) {
  std::string text;
  char buffer[65536];
  ssize_t n;
  while ((n = ::read(fd, buffer, sizeof buffer)) > 0) text.append(buffer, static_cast<size_t>(n));
  return text;
}

class StreamingTest : public ContainerFixture, public ::testing::WithParamInterface<Transport> {
 protected:
  // Runs a remote command at `url`, feeding `input` (closing stdin after it) when given.
  CommandResult RunAt(const std::string& url, bool tty, std::optional<std::string> input,
                      streaming::client::TerminalSizeQueue* resizes = nullptr) {
    streaming::client::RemoteCommandOptions options;
    options.stdin = input.has_value();
    options.tty = tty;
    options.stderr = !tty;
    options.transport = GetParam();
    int in[2], out[2], err[2];
    EXPECT_EQ(::pipe2(in, O_CLOEXEC), 0);
    EXPECT_EQ(::pipe2(out, O_CLOEXEC), 0);
    EXPECT_EQ(::pipe2(err, O_CLOEXEC), 0);
    UniqueFd in_read(in[0]), in_write(in[1]), out_read(out[0]), out_write(out[1]), err_read(err[0]),
        err_write(err[1]);
    if (input) {
      EXPECT_EQ(::write(in_write.get(), input->data(), input->size()),
                static_cast<ssize_t>(input->size()));
    }
    in_write.reset();
    auto out_text = std::async(std::launch::async, ReadAll, out_read.get());
    auto err_text = std::async(std::launch::async, ReadAll, err_read.get());
    CommandResult result;
    result.exit_code =
        streaming::client::RunRemoteCommand(url, options, input ? in_read.get() : -1,
                                            out_write.get(), tty ? -1 : err_write.get(), resizes);
    out_write.reset();
    err_write.reset();
    result.out = out_text.get();
    result.err = err_text.get();
    return result;
  }
  grpc::Status ExecUrl(const std::string& id, std::vector<std::string> cmd, bool tty, bool stdin,
                       std::string* url) {
    ::runtime::v1::ExecRequest request;
    request.set_container_id(id);
    for (auto& part : cmd) request.add_cmd(part);
    request.set_tty(tty);
    request.set_stdin(stdin);
    request.set_stdout(true);
    request.set_stderr(!tty);
    ::runtime::v1::ExecResponse response;
    auto status = berthd_.runtime().Exec(CallContext().get(), request, &response);
    *url = response.url();
    return status;
  }
  CommandResult Exec(const std::string& id, std::vector<std::string> cmd, bool tty = false,
                     std::optional<std::string> input = std::nullopt,
                     streaming::client::TerminalSizeQueue* resizes = nullptr) {
    std::string url;
    auto status = ExecUrl(id, cmd, tty, input.has_value(), &url);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(url.rfind("http://127.0.0.1:", 0), 0u) << url;
    return RunAt(url, tty, input, resizes);
  }
  std::string Sleeper() {
    return Run(Config("sleeper", "test/busybox:1", {"/bin/sh", "-c", "exec /bin/sleep 600"}));
  }
  // berth-exec processes still alive (none may outlive their session).
  // This berthd's berth-exec helpers (other tests' berthds may run at the same time).
  int ExecHelpers() {
    int count = 0;
    std::string parent = "PPid:\t" + std::to_string(berthd_.pid()) + "\n";
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
      std::string comm = ReadText(entry.path().string() + "/comm");
      if (comm != "berth-exec\n") continue;
      if (ReadText(entry.path().string() + "/status").find(parent) != std::string::npos) ++count;
    }
    return count;
  }
};

TEST_P(StreamingTest, ExecWithAndWithoutTtyStdinAndExitCodes) {
  std::string id = Sleeper();
  int helpers_before = ExecHelpers();
  auto plain = Exec(id, {"/bin/sh", "-c", "echo out; echo err >&2"});
  ASSERT_TRUE(plain.exit_code.ok()) << plain.exit_code.error().message();
  EXPECT_EQ(*plain.exit_code, 0);
  EXPECT_EQ(plain.out, "out\n");
  EXPECT_EQ(plain.err, "err\n");

  auto tty = Exec(id, {"/bin/sh", "-c", "tty; echo hi"}, /*tty=*/true);
  ASSERT_TRUE(tty.exit_code.ok());
  EXPECT_EQ(tty.out, "/dev/pts/0\r\nhi\r\n");  // a pty of the container's own devpts

  auto piped = Exec(id, {"/bin/cat"}, false, std::string("line one\nline two\n"));
  ASSERT_TRUE(piped.exit_code.ok());
  EXPECT_EQ(piped.out, "line one\nline two\n");

  auto failing = Exec(id, {"/bin/sh", "-c", "exit 7"});
  ASSERT_TRUE(failing.exit_code.ok());
  EXPECT_EQ(*failing.exit_code, 7);

  streaming::client::TerminalSizeQueue sizes;
  sizes.Push({100, 30});
  sizes.Close();
  auto sized = Exec(id, {"/bin/sh", "-c", "sleep 0.5; stty size"}, true, std::nullopt, &sizes);
  ASSERT_TRUE(sized.exit_code.ok());
  EXPECT_EQ(sized.out, "30 100\r\n");
  EXPECT_EQ(ExecHelpers(), helpers_before);
}

TEST_P(StreamingTest, UrlsAreSingleUseAndBadRequestsAreErrors) {
  std::string id = Sleeper();
  std::string url;
  ASSERT_TRUE(ExecUrl(id, {"/bin/true"}, false, false, &url).ok());
  EXPECT_TRUE(RunAt(url, false, std::nullopt).exit_code.ok());
  auto again = RunAt(url, false, std::nullopt);
  ASSERT_FALSE(again.exit_code.ok());
  EXPECT_EQ(again.exit_code.error().code(), ErrorCode::kNotFound);

  EXPECT_EQ(ExecUrl("no-such-container", {"/bin/true"}, false, false, &url).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(ExecUrl(id, {}, false, false, &url).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  ASSERT_TRUE(Stop(id, 0).ok());
  EXPECT_EQ(ExecUrl(id, {"/bin/true"}, false, false, &url).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_P(StreamingTest, AttachWithStdinOnceAndTty) {
  for (bool tty : {false, true}) {
    std::string name = tty ? "reader-tty" : "reader";
    auto config =
        Config(name, "test/busybox:1", {"/bin/sh", "-c", "read line; echo got $line; exit 4"});
    config.set_stdin(true);
    config.set_stdin_once(true);
    config.set_tty(tty);
    std::string id = Run(config);
    ::runtime::v1::AttachRequest request;
    request.set_container_id(id);
    request.set_stdin(true);
    request.set_stdout(true);
    request.set_stderr(!tty);
    request.set_tty(tty);
    ::runtime::v1::AttachResponse response;
    auto status = berthd_.runtime().Attach(CallContext().get(), request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    auto result = RunAt(response.url(), tty, std::string("hello\n"));
    ASSERT_TRUE(result.exit_code.ok()) << result.exit_code.error().message();
    EXPECT_EQ(*result.exit_code, 4) << name;
    EXPECT_NE(result.out.find("got hello"), std::string::npos) << name << ": " << result.out;
    EXPECT_EQ(WaitExited(id).exit_code(), 4);
    // The container's output also went to its log.
    EXPECT_FALSE(LogLines(logs_.path() + "/" + name + ".log", "stdout").empty());
  }
}

TEST_P(StreamingTest, PortForwardTwoConnectionsToAPodServer) {
  Run(Config(
      "web", "test/busybox:1",
      {"/bin/sh", "-c",
       "mkdir /www && echo hello-from-pod > /www/index.html && exec httpd -f -p 8080 -h /www"}));
  ::runtime::v1::PortForwardRequest request;
  request.set_pod_sandbox_id(pod_);
  request.add_port(8080);
  ::runtime::v1::PortForwardResponse response;
  ASSERT_TRUE(berthd_.runtime().PortForward(CallContext().get(), request, &response).ok());
  auto forwarder = streaming::client::PortForwarder::Connect(response.url(), GetParam());
  ASSERT_TRUE(forwarder.ok()) << forwarder.error().message();
  auto fetch = [&]() -> std::string {
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) return "socketpair failed";
    UniqueFd ours(pair[0]);
    // httpd may need a moment to listen: retry a refused dial.
    for (int attempt = 0; attempt < 50; ++attempt) {
      UniqueFd theirs(attempt == 0 ? pair[1] : -1);
      if (attempt > 0) {
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
          return "socketpair failed";
        ours.reset(pair[0]);
        theirs.reset(pair[1]);
      }
      auto forwarded = std::async(std::launch::async, [&, fd = std::move(theirs)]() mutable {
        return (*forwarder)->Forward(8080, std::move(fd));
      });
      std::string get = "GET /index.html HTTP/1.0\r\n\r\n";
      (void)!::write(ours.get(), get.data(), get.size());
      ::shutdown(ours.get(), SHUT_WR);
      std::string reply = ReadAll(ours.get());
      auto done = forwarded.get();
      if (done.ok() && reply.find("hello-from-pod") != std::string::npos) return reply;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return "no answer";
  };
  auto first = std::async(std::launch::async, fetch);
  auto second = std::async(std::launch::async, fetch);
  EXPECT_NE(first.get().find("hello-from-pod"), std::string::npos);
  EXPECT_NE(second.get().find("hello-from-pod"), std::string::npos);
  // A port nobody listens on comes back as an error, not a hang.
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
  UniqueFd ours(pair[0]);
  ::shutdown(ours.get(), SHUT_WR);
  ::runtime::v1::PortForwardRequest any;
  any.set_pod_sandbox_id(pod_);
  ASSERT_TRUE(berthd_.runtime().PortForward(CallContext().get(), any, &response).ok());
  auto refused = streaming::client::ForwardPort(response.url(), 9, UniqueFd(pair[1]), GetParam());
  EXPECT_FALSE(refused.ok());
}

INSTANTIATE_TEST_SUITE_P(Transports, StreamingTest,
                         ::testing::Values(Transport::kSpdy, Transport::kWebSocket),
                         [](const auto& info) {
                           return info.param == Transport::kSpdy ? "Spdy" : "WebSocket";
                         });

}  // namespace
}  // namespace berth::testing
