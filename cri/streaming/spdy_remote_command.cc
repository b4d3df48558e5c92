#include "cri/streaming/spdy_remote_command.h"

#include <spdlog/spdlog.h>

#include <map>

namespace berth::streaming {
namespace {

using spdy::SpdySession;
using spdy::SpdyStream;

class SpdyCommandStreams : public CommandStreams {
 public:
  SpdyCommandStreams(SpdySession& session,
                     std::map<std::string, std::shared_ptr<SpdyStream>> streams)
      : session_(session), streams_(std::move(streams)) {}

  Result<size_t> ReadStdin(std::span<uint8_t> out) override {
    auto stream = Find("stdin");
    if (!stream) return size_t{0};
    return stream->Read(out);
  }

  Result<std::optional<TerminalSize>> ReadResize() override {
    auto stream = Find("resize");
    if (!stream) return std::optional<TerminalSize>();
    while (pending_sizes_.empty()) {
      uint8_t buffer[1024];
      BERTH_ASSIGN_OR_RETURN(size_t n, stream->Read(buffer));
      if (n == 0) return std::optional<TerminalSize>();
      BERTH_ASSIGN_OR_RETURN(auto sizes, decoder_.Feed({reinterpret_cast<const char*>(buffer), n}));
      pending_sizes_.insert(pending_sizes_.end(), sizes.begin(), sizes.end());
    }
    TerminalSize size = pending_sizes_.front();
    pending_sizes_.erase(pending_sizes_.begin());
    return std::optional<TerminalSize>(size);
  }

  Result<void> WriteStdout(std::string_view data) override { return WriteTo("stdout", data); }
  Result<void> WriteStderr(std::string_view data) override { return WriteTo("stderr", data); }

  void CloseOutputs() override {
    for (const char* name : {"stdout", "stderr"}) {
      if (auto stream = Find(name)) (void)stream->CloseWrite();
    }
  }

  Result<void> WriteStatus(std::string_view status) override {
    auto stream = Find("error");
    if (!stream) return Ok();
    if (!status.empty()) BERTH_TRY(stream->Write(status));
    return stream->CloseWrite();
  }

  void OnClientGone(std::function<void()> on_gone) override {
    session_.SetOnClose(on_gone);
    if (on_gone && session_.closed()) on_gone();
  }

  void Shutdown() override { session_.Close(); }

 private:
  std::shared_ptr<SpdyStream> Find(const std::string& type) {
    auto it = streams_.find(type);
    return it == streams_.end() ? nullptr : it->second;
  }
  Result<void> WriteTo(const std::string& type, std::string_view data) {
    auto stream = Find(type);
    if (!stream) return Ok();
    return stream->Write(data);
  }

  SpdySession& session_;
  std::map<std::string, std::shared_ptr<SpdyStream>> streams_;
  ResizeDecoder decoder_;  // resize thread only
  std::vector<TerminalSize> pending_sizes_;
};

std::vector<std::string> ExpectedStreams(const CommandOptions& options) {
  std::vector<std::string> expected = {"error"};
  if (options.stdin) expected.push_back("stdin");
  if (options.stdout) expected.push_back("stdout");
  if (options.stderr && !options.tty) expected.push_back("stderr");
  if (options.tty && options.protocol >= RemoteCommandProtocol::kV3) expected.push_back("resize");
  return expected;
}

}  // namespace

void ServeSpdyRemoteCommand(std::unique_ptr<ByteTransport> transport, const CommandOptions& options,
                            const StartProcess& start, std::chrono::milliseconds stream_timeout,
                            const std::function<void(std::function<void()>)>& register_abort) {
  SpdySession session(std::move(transport), SpdySession::Role::kServer);
  register_abort([&session] { session.Abort(); });
  session.Start();

  std::map<std::string, std::shared_ptr<SpdyStream>> streams;
  std::vector<std::string> expected = ExpectedStreams(options);
  auto deadline = std::chrono::steady_clock::now() + stream_timeout;
  auto have_all = [&] {
    for (const auto& type : expected) {
      if (streams.count(type) == 0) return false;
    }
    return true;
  };
  while (!have_all()) {
    auto stream = session.AcceptStream(deadline);
    if (!stream) break;
    std::string type = stream->Header("streamType");
    if (type != "error" && type != "stdin" && type != "stdout" && type != "stderr" &&
        type != "resize") {
      spdlog::warn("streaming: remote command stream with unknown streamType \"{}\"", type);
      stream->Reset(spdy::kRefusedStream);
      continue;
    }
    if (streams.count(type) != 0) {
      stream->Reset(spdy::kProtocolError);
      continue;
    }
    streams[type] = std::move(stream);
  }
  if (!have_all()) {
    spdlog::warn("streaming: remote command client did not open all of its streams in time");
    register_abort(nullptr);
    session.Abort();
    return;
  }

  SpdyCommandStreams command_streams(session, std::move(streams));
  auto process = start();
  if (!process.ok()) {
    command_streams.CloseOutputs();
    (void)command_streams.WriteStatus(FinalStatus(options.protocol, process.error()));
    session.Close();
  } else {
    RunCommandSession(**process, command_streams, options);
  }
  register_abort(nullptr);
}

}  // namespace berth::streaming
