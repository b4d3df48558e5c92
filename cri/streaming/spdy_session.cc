#include "cri/streaming/spdy_session.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>

namespace berth::streaming::spdy {
namespace {

constexpr size_t kMaxDataChunk = 32 * 1024;
constexpr uint32_t kWindowUpdateThreshold = 16 * 1024;
constexpr size_t kMaxPendingAccept = 64;

Error ConnectionClosed() {
  return Unavailable("SPDY connection closed");
}

}  // namespace

// ---- SpdyStream ----

Result<size_t> SpdyStream::Read(std::span<uint8_t> out) {
  uint32_t update = 0;
  size_t n = 0;
  {
    std::unique_lock lock(session_->mu_);
    session_->cv_.wait(lock, [&] {
      return recv_offset_ < recv_buffer_.size() || remote_fin_ || reset_ || session_->closed_;
    });
    if (recv_offset_ < recv_buffer_.size()) {
      n = std::min(out.size(), recv_buffer_.size() - recv_offset_);
      std::memcpy(out.data(), recv_buffer_.data() + recv_offset_, n);
      recv_offset_ += n;
      if (recv_offset_ == recv_buffer_.size()) {
        recv_buffer_.clear();
        recv_offset_ = 0;
      } else if (recv_offset_ > (1 << 16)) {
        recv_buffer_.erase(0, recv_offset_);
        recv_offset_ = 0;
      }
      unacked_ += static_cast<uint32_t>(n);
      if (!remote_fin_ && (unacked_ >= kWindowUpdateThreshold || recv_buffer_.empty())) {
        update = std::exchange(unacked_, 0);
      }
      session_->cv_.notify_all();  // the reader may wait for buffer space
    } else if (reset_) {
      return Error(ErrorCode::kCancelled, "SPDY stream " + std::to_string(id_) + " was reset");
    } else if (!remote_fin_) {
      return ConnectionClosed();
    }
  }
  if (update > 0) session_->SendWindowUpdates(id_, update);
  return n;
}

Result<std::string> SpdyStream::ReadAll(size_t limit) {
  std::string all;
  uint8_t buffer[4096];
  while (true) {
    BERTH_ASSIGN_OR_RETURN(size_t n, Read(buffer));
    if (n == 0) return all;
    if (all.size() + n > limit)
      return InvalidArgument("SPDY stream carries more than " + std::to_string(limit) + " bytes");
    all.append(reinterpret_cast<const char*>(buffer), n);
  }
}

Result<void> SpdyStream::Write(std::string_view data) {
  while (!data.empty()) {
    size_t n = 0;
    {
      std::unique_lock lock(session_->mu_);
      session_->cv_.wait(lock, [&] {
        return !session_->flow_control_enforced_ || send_window_ > 0 || reset_ || local_fin_ ||
               session_->closed_;
      });
      if (reset_)
        return Error(ErrorCode::kCancelled, "SPDY stream " + std::to_string(id_) + " was reset");
      if (local_fin_)
        return FailedPrecondition("write on finished SPDY stream " + std::to_string(id_));
      if (session_->closed_) return ConnectionClosed();
      n = std::min(data.size(), kMaxDataChunk);
      if (session_->flow_control_enforced_)
        n = std::min<size_t>(n, static_cast<size_t>(send_window_));
      send_window_ -= static_cast<int64_t>(n);
    }
    BERTH_TRY(session_->SendFrame(DataFrame(id_, std::string(data.substr(0, n)), false)));
    data.remove_prefix(n);
  }
  return Ok();
}

Result<void> SpdyStream::CloseWrite() {
  {
    std::lock_guard lock(session_->mu_);
    if (local_fin_ || reset_) return Ok();
    if (session_->closed_) return ConnectionClosed();
    local_fin_ = true;
  }
  Result<void> sent = session_->SendFrame(DataFrame(id_, {}, true));
  std::lock_guard lock(session_->mu_);
  session_->ForgetIfDone(session_->FindStream(id_));
  session_->cv_.notify_all();
  return sent;
}

void SpdyStream::Reset(uint32_t status) {
  {
    std::lock_guard lock(session_->mu_);
    if (reset_ || (local_fin_ && remote_fin_)) return;
    reset_ = true;
    session_->streams_.erase(id_);
    session_->cv_.notify_all();
  }
  (void)session_->SendFrame(RstStreamFrame(id_, status));
}

Result<void> SpdyStream::WaitReply(std::chrono::milliseconds timeout) {
  std::unique_lock lock(session_->mu_);
  bool done = session_->cv_.wait_for(lock, timeout,
                                     [&] { return replied_ || reset_ || session_->closed_; });
  if (replied_) return Ok();
  if (!done) return DeadlineExceeded("no SYN_REPLY for SPDY stream " + std::to_string(id_));
  if (reset_)
    return Error(ErrorCode::kCancelled, "SPDY stream " + std::to_string(id_) + " was refused");
  return ConnectionClosed();
}

// ---- SpdySession ----

SpdySession::SpdySession(std::unique_ptr<ByteTransport> transport, Role role, Options options)
    : transport_(std::move(transport)),
      role_(role),
      options_(options),
      next_stream_id_(role == Role::kClient ? 1 : 2) {}

SpdySession::~SpdySession() {
  Abort();
  if (reader_.joinable()) reader_.join();
}

void SpdySession::SetOnClose(std::function<void()> on_close) {
  std::lock_guard lock(mu_);
  on_close_ = std::move(on_close);
}

void SpdySession::Start() {
  if (role_ == Role::kClient) {
    // Announces that we do flow control, so the server holds to our window from the start.
    Frame settings;
    settings.type = FrameType::kSettings;
    settings.settings.emplace_back(kSettingsInitialWindowSize,
                                   static_cast<uint32_t>(kInitialWindow));
    (void)SendFrame(settings);
  }
  reader_ = std::thread([this] { ReaderLoop(); });
}

bool SpdySession::closed() const {
  std::lock_guard lock(mu_);
  return closed_;
}

Result<void> SpdySession::SendFrame(const Frame& frame) {
  std::lock_guard lock(send_mu_);
  return transport_->Write(EncodeFrame(frame));
}

Result<void> SpdySession::SendHeadersFrame(Frame frame, const HeaderList& headers) {
  std::lock_guard lock(send_mu_);
  BERTH_ASSIGN_OR_RETURN(frame.header_block, compressor_.Compress(headers));
  return transport_->Write(EncodeFrame(frame));
}

void SpdySession::SendWindowUpdates(uint32_t stream_id, uint32_t delta) {
  // SPDY/3.1 also has a session-wide window (stream 0); we keep it open as we consume.
  std::string both =
      EncodeFrame(WindowUpdateFrame(stream_id, delta)) + EncodeFrame(WindowUpdateFrame(0, delta));
  std::lock_guard lock(send_mu_);
  (void)transport_->Write(both);
}

Result<std::shared_ptr<SpdyStream>> SpdySession::OpenStream(const HeaderList& headers, bool fin) {
  std::lock_guard send_lock(send_mu_);
  std::shared_ptr<SpdyStream> stream;
  {
    std::lock_guard lock(mu_);
    if (closed_ || goaway_received_) return ConnectionClosed();
    if (next_stream_id_ > kMaxStreamId)
      return Error(ErrorCode::kResourceExhausted, "SPDY stream ids exhausted");
    uint32_t id = next_stream_id_;
    next_stream_id_ += 2;
    stream.reset(new SpdyStream(this, id, headers, peer_initial_window_));
    stream->local_fin_ = fin;
    streams_[id] = stream;
  }
  Frame frame;
  frame.type = FrameType::kSynStream;
  frame.stream_id = stream->id();
  frame.flags = fin ? kFlagFin : 0;
  BERTH_ASSIGN_OR_RETURN(frame.header_block, compressor_.Compress(headers));
  BERTH_TRY(transport_->Write(EncodeFrame(frame)));
  return stream;
}

std::shared_ptr<SpdyStream> SpdySession::AcceptStream(
    std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mu_);
  cv_.wait_until(lock, deadline,
                 [&] { return !pending_accept_.empty() || closed_ || goaway_received_; });
  if (pending_accept_.empty()) return nullptr;
  auto stream = pending_accept_.front();
  pending_accept_.pop_front();
  return stream;
}

void SpdySession::Close() {
  bool send_goaway = false;
  uint32_t last = 0;
  {
    std::lock_guard lock(mu_);
    if (!closed_ && !goaway_sent_) {
      goaway_sent_ = true;
      send_goaway = true;
      last = last_peer_stream_id_;
    }
  }
  if (send_goaway) {
    (void)SendFrame(GoAwayFrame(last, 0));
    transport_->CloseWrite();
  }
  {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, options_.linger, [&] { return closed_; });
  }
  Abort();
  if (reader_.joinable() && reader_.get_id() != std::this_thread::get_id()) reader_.join();
}

void SpdySession::Abort() {
  {
    std::lock_guard lock(mu_);
    aborted_ = true;
    cv_.notify_all();
  }
  transport_->Shutdown();
}

std::shared_ptr<SpdyStream> SpdySession::FindStream(uint32_t id) {
  auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : it->second;
}

void SpdySession::ForgetIfDone(const std::shared_ptr<SpdyStream>& stream) {
  if (stream && (stream->reset_ || (stream->local_fin_ && stream->remote_fin_)))
    streams_.erase(stream->id_);
}

Result<bool> SpdySession::ReadExact(std::string& out, size_t n) {
  out.clear();
  while (out.size() < n) {
    if (read_offset_ == read_buffer_.size()) {
      read_buffer_.resize(64 * 1024);
      read_offset_ = 0;
      auto got =
          transport_->Read({reinterpret_cast<uint8_t*>(read_buffer_.data()), read_buffer_.size()});
      if (!got.ok() || *got == 0) {
        read_buffer_.clear();
        if (!got.ok()) return std::move(got).error();
        return false;
      }
      read_buffer_.resize(*got);
    }
    size_t take = std::min(n - out.size(), read_buffer_.size() - read_offset_);
    out.append(read_buffer_, read_offset_, take);
    read_offset_ += take;
  }
  return true;
}

void SpdySession::ReaderLoop() {
  std::string header_bytes, payload;
  while (true) {
    auto got = ReadExact(header_bytes, kFrameHeaderSize);
    if (!got.ok() || !*got) break;
    FrameHeader header = ParseFrameHeader(reinterpret_cast<const uint8_t*>(header_bytes.data()));
    if (header.length > kMaxFramePayload) {
      spdlog::warn("streaming: SPDY frame of {} bytes exceeds the bound; closing the connection",
                   header.length);
      (void)SendFrame(GoAwayFrame(last_peer_stream_id_, 1));
      break;
    }
    got = ReadExact(payload, header.length);
    if (!got.ok() || !*got) break;
    auto frame = DecodeFrame(header, payload);
    if (!frame.ok()) {
      spdlog::warn("streaming: {}; closing the connection", frame.error().message());
      (void)SendFrame(GoAwayFrame(last_peer_stream_id_, 1));
      break;
    }
    if (!HandleFrame(std::move(*frame))) break;
  }
  std::function<void()> on_close;
  {
    std::lock_guard lock(mu_);
    closed_ = true;
    on_close = std::move(on_close_);
    cv_.notify_all();
  }
  transport_->Shutdown();
  if (on_close) on_close();
}

bool SpdySession::HandleFrame(Frame frame) {
  switch (frame.type) {
    case FrameType::kSynStream: return HandleSynStream(frame);
    case FrameType::kData: return HandleData(frame);
    case FrameType::kSynReply:
    case FrameType::kHeaders: {
      // Decompress even when unused: the zlib stream must stay in step with the peer's.
      auto headers = decompressor_.Decompress(frame.header_block);
      if (!headers.ok()) {
        (void)SendFrame(GoAwayFrame(last_peer_stream_id_, 1));
        return false;
      }
      std::lock_guard lock(mu_);
      if (auto stream = FindStream(frame.stream_id)) {
        if (frame.type == FrameType::kSynReply) stream->replied_ = true;
        if (frame.flags & kFlagFin) stream->remote_fin_ = true;
        ForgetIfDone(stream);
        cv_.notify_all();
      }
      return true;
    }
    case FrameType::kRstStream: {
      std::lock_guard lock(mu_);
      if (auto stream = FindStream(frame.stream_id)) {
        stream->reset_ = true;
        streams_.erase(frame.stream_id);
        cv_.notify_all();
      }
      return true;
    }
    case FrameType::kSettings: {
      std::lock_guard lock(mu_);
      for (const auto& [id, value] : frame.settings) {
        if (id != kSettingsInitialWindowSize || value > 0x7fffffff) continue;
        int64_t delta = static_cast<int64_t>(value) - peer_initial_window_;
        peer_initial_window_ = value;
        for (auto& [stream_id, stream] : streams_) stream->send_window_ += delta;
        flow_control_enforced_ = true;
      }
      cv_.notify_all();
      return true;
    }
    case FrameType::kPing: {
      // Our pings carry ids of our parity (client odd, server even); answer the peer's.
      bool ours = (frame.ping_id % 2 == 1) == (role_ == Role::kClient);
      if (!ours) (void)SendFrame(frame);
      return true;
    }
    case FrameType::kGoAway: {
      std::lock_guard lock(mu_);
      goaway_received_ = true;
      cv_.notify_all();
      return true;
    }
    case FrameType::kWindowUpdate: {
      std::lock_guard lock(mu_);
      if (frame.stream_id == 0) return true;  // session window: we bound per stream only
      flow_control_enforced_ = true;
      if (auto stream = FindStream(frame.stream_id)) {
        stream->send_window_ =
            std::min<int64_t>(stream->send_window_ + frame.delta_window, 0x7fffffff);
        cv_.notify_all();
      }
      return true;
    }
    default: return true;
  }
}

bool SpdySession::HandleSynStream(Frame& frame) {
  auto headers = decompressor_.Decompress(frame.header_block);
  if (!headers.ok()) {
    spdlog::warn("streaming: {}; closing the connection", headers.error().message());
    (void)SendFrame(GoAwayFrame(last_peer_stream_id_, 1));
    return false;
  }
  uint32_t refuse = 0;
  std::shared_ptr<SpdyStream> stream;
  {
    std::lock_guard lock(mu_);
    bool peer_parity = (frame.stream_id % 2 == 1) == (role_ == Role::kServer);
    if (!peer_parity || frame.stream_id <= last_peer_stream_id_) {
      refuse = kProtocolError;
    } else if (streams_.size() >= options_.max_streams ||
               pending_accept_.size() >= kMaxPendingAccept || goaway_sent_ || aborted_) {
      refuse = kRefusedStream;
      last_peer_stream_id_ = frame.stream_id;
    } else {
      last_peer_stream_id_ = frame.stream_id;
      stream.reset(
          new SpdyStream(this, frame.stream_id, std::move(*headers), peer_initial_window_));
      stream->remote_fin_ = (frame.flags & kFlagFin) != 0;
      stream->local_fin_ = (frame.flags & kFlagUnidirectional) != 0;
      stream->replied_ = true;
      streams_[frame.stream_id] = stream;
    }
  }
  if (refuse != 0) {
    (void)SendFrame(RstStreamFrame(frame.stream_id, refuse));
    return true;
  }
  Frame reply;
  reply.type = FrameType::kSynReply;
  reply.stream_id = frame.stream_id;
  (void)SendHeadersFrame(std::move(reply), {});
  std::lock_guard lock(mu_);
  pending_accept_.push_back(stream);
  cv_.notify_all();
  return true;
}

bool SpdySession::HandleData(Frame& frame) {
  std::unique_lock lock(mu_);
  auto stream = FindStream(frame.stream_id);
  if (!stream) return true;  // raced with our reset or a finished stream: drop it
  if (stream->remote_fin_) {
    lock.unlock();
    stream->Reset(kStreamAlreadyClosed);
    return true;
  }
  // A peer that ignores our window (spdystream does) is held back by not reading the socket.
  cv_.wait(lock, [&] {
    return stream->recv_buffer_.size() - stream->recv_offset_ < options_.max_stream_buffer ||
           stream->reset_ || aborted_;
  });
  if (aborted_) return false;
  if (stream->reset_) return true;
  stream->recv_buffer_ += frame.data;
  if (frame.flags & kFlagFin) {
    stream->remote_fin_ = true;
    ForgetIfDone(stream);
  }
  cv_.notify_all();
  return true;
}

}  // namespace berth::streaming::spdy
