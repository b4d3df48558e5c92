#include "cri/streaming/tls_transport.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

namespace berth::streaming {
namespace {

// OpenSSL's error queue as one line ("" when empty); clears it.
std::string OpenSslErrors() {
  std::string text;
  while (unsigned long code = ::ERR_get_error()) {
    char buffer[256];
    ::ERR_error_string_n(code, buffer, sizeof(buffer));
    if (!text.empty()) text.append("; ");
    text.append(buffer);
  }
  return text;
}

// A socket BIO that never blocks and never raises SIGPIPE: OpenSSL's own socket BIO uses plain
// send(), and berthd's threads must not depend on SIGPIPE being ignored process-wide.
int SocketOf(BIO* bio) {
  return static_cast<int>(reinterpret_cast<intptr_t>(::BIO_get_data(bio)));
}

int SocketBioWrite(BIO* bio, const char* data, int size) {
  ::BIO_clear_retry_flags(bio);
  ssize_t n = ::send(SocketOf(bio), data, static_cast<size_t>(size), MSG_NOSIGNAL | MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
    ::BIO_set_retry_write(bio);
  return static_cast<int>(n);
}

int SocketBioRead(BIO* bio, char* data, int size) {
  ::BIO_clear_retry_flags(bio);
  ssize_t n = ::recv(SocketOf(bio), data, static_cast<size_t>(size), MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
    ::BIO_set_retry_read(bio);
  return static_cast<int>(n);
}

long SocketBioControl(BIO*, int command, long, void*) {
  return command == BIO_CTRL_FLUSH ? 1 : 0;
}

int SocketBioCreate(BIO* bio) {
  ::BIO_set_init(bio, 1);
  return 1;
}

BIO_METHOD* SocketBioMethod() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m =
        ::BIO_meth_new(::BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "berth streaming socket");
    ::BIO_meth_set_write(m, SocketBioWrite);
    ::BIO_meth_set_read(m, SocketBioRead);
    ::BIO_meth_set_ctrl(m, SocketBioControl);
    ::BIO_meth_set_create(m, SocketBioCreate);
    return m;
  }();
  return method;
}

// Options both ends share: TLS 1.2 at least, no renegotiation (it would make a writer wait for
// reads), a peer that closes without close_notify is an end of stream.
void CommonOptions(SSL_CTX* ctx) {
  ::SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  ::SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF);
  ::SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
}

int64_t ToNanoseconds(std::chrono::steady_clock::time_point time) {
  return std::max<int64_t>(1, time.time_since_epoch() / std::chrono::nanoseconds(1));
}

}  // namespace

Result<std::shared_ptr<TlsServerContext>> TlsServerContext::Load(const std::string& cert_file,
                                                                 const std::string& key_file) {
  for (const std::string* file : {&cert_file, &key_file}) {
    if (::access(file->c_str(), R_OK) != 0) {
      return Error::FromErrno(errno, "TLS " +
                                         std::string(file == &cert_file ? "certificate" : "key") +
                                         " file \"" + *file + "\"");
    }
  }
  ::ERR_clear_error();
  SSL_CTX* ctx = ::SSL_CTX_new(::TLS_server_method());
  if (ctx == nullptr) return Internal("TLS: SSL_CTX_new: " + OpenSslErrors());
  std::shared_ptr<TlsServerContext> context(new TlsServerContext(ctx));
  CommonOptions(ctx);
  if (::SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1) {
    return InvalidArgument("TLS certificate file \"" + cert_file + "\": " + OpenSslErrors());
  }
  if (::SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    bool mismatch = ERR_GET_REASON(::ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH;
    return InvalidArgument(
        "TLS key file \"" + key_file + "\": " +
        (mismatch ? std::string("does not match certificate \"").append(cert_file).append("\"; ")
                  : std::string()) +
        OpenSslErrors());
  }
  if (::SSL_CTX_check_private_key(ctx) != 1) {
    return InvalidArgument("TLS key \"" + key_file + "\" does not match certificate \"" +
                           cert_file + "\": " + OpenSslErrors());
  }
  return context;
}

TlsServerContext::~TlsServerContext() {
  ::SSL_CTX_free(ctx_);
}

TlsTransport::TlsTransport(UniqueFd socket, SSL* ssl, SSL_CTX* owned_ctx)
    : socket_(std::move(socket)), ssl_(ssl), owned_ctx_(owned_ctx) {
  BIO* bio = ::BIO_new(SocketBioMethod());
  ::BIO_set_data(bio, reinterpret_cast<void*>(static_cast<intptr_t>(socket_.get())));
  ::SSL_set_bio(ssl_, bio, bio);
}

TlsTransport::~TlsTransport() {
  ::SSL_free(ssl_);
  if (owned_ctx_ != nullptr) ::SSL_CTX_free(owned_ctx_);
}

Result<std::unique_ptr<TlsTransport>> TlsTransport::Accept(UniqueFd socket,
                                                           const TlsServerContext& context,
                                                           TimePoint deadline) {
  ::ERR_clear_error();
  SSL* ssl = ::SSL_new(context.get());
  if (ssl == nullptr) return Internal("TLS: SSL_new: " + OpenSslErrors());
  std::unique_ptr<TlsTransport> transport(new TlsTransport(std::move(socket), ssl, nullptr));
  BERTH_TRY(transport->Handshake(true, deadline));
  return transport;
}

Result<std::unique_ptr<TlsTransport>> TlsTransport::Connect(UniqueFd socket,
                                                            const TlsClientOptions& options,
                                                            const std::string& host,
                                                            TimePoint deadline) {
  ::ERR_clear_error();
  SSL_CTX* ctx = ::SSL_CTX_new(::TLS_client_method());
  if (ctx == nullptr) return Internal("TLS: SSL_CTX_new: " + OpenSslErrors());
  CommonOptions(ctx);
  if (!options.insecure_skip_verify) {
    ::SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    int loaded = options.ca_file.empty()
                     ? ::SSL_CTX_set_default_verify_paths(ctx)
                     : ::SSL_CTX_load_verify_locations(ctx, options.ca_file.c_str(), nullptr);
    if (loaded != 1) {
      ::SSL_CTX_free(ctx);
      return InvalidArgument("TLS: CA file \"" + options.ca_file + "\": " + OpenSslErrors());
    }
  }
  SSL* ssl = ::SSL_new(ctx);
  if (ssl == nullptr) {
    ::SSL_CTX_free(ctx);
    return Internal("TLS: SSL_new: " + OpenSslErrors());
  }
  std::unique_ptr<TlsTransport> transport(new TlsTransport(std::move(socket), ssl, ctx));
  in6_addr address6;
  in_addr address4;
  bool is_ip = ::inet_pton(AF_INET, host.c_str(), &address4) == 1 ||
               ::inet_pton(AF_INET6, host.c_str(), &address6) == 1;
  if (!is_ip) ::SSL_set_tlsext_host_name(ssl, host.c_str());
  if (!options.insecure_skip_verify) {
    int named = is_ip ? ::X509_VERIFY_PARAM_set1_ip_asc(::SSL_get0_param(ssl), host.c_str())
                      : ::SSL_set1_host(ssl, host.c_str());
    if (named != 1) return InvalidArgument("TLS: cannot verify host \"" + host + "\"");
  }
  BERTH_TRY(transport->Handshake(false, deadline));
  return transport;
}

Result<void> TlsTransport::Handshake(bool server, TimePoint deadline) {
  SetDeadline(deadline);
  while (true) {
    int rc, error, saved_errno;
    {
      std::lock_guard lock(ssl_mu_);
      ::ERR_clear_error();
      errno = 0;
      rc = server ? ::SSL_accept(ssl_) : ::SSL_connect(ssl_);
      saved_errno = errno;
      error = rc == 1 ? SSL_ERROR_NONE : ::SSL_get_error(ssl_, rc);
    }
    if (error == SSL_ERROR_NONE) break;
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
      auto waited = Wait(error == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT);
      if (!waited.ok()) return std::move(waited).error().Wrap("TLS handshake");
      continue;
    }
    std::string reason = OpenSslErrors();
    if (!server) {
      long verify = ::SSL_get_verify_result(ssl_);
      if (verify != X509_V_OK)
        reason =
            std::string("certificate verify failed: ") + ::X509_verify_cert_error_string(verify);
    }
    if (reason.empty())
      reason = saved_errno != 0 ? std::strerror(saved_errno) : "connection closed by peer";
    return Unavailable("TLS handshake: " + reason);
  }
  SetDeadline(std::nullopt);
  return Ok();
}

void TlsTransport::SetDeadline(std::optional<TimePoint> deadline) {
  deadline_ns_ = deadline ? ToNanoseconds(*deadline) : 0;
}

Result<void> TlsTransport::Wait(short events, int max_wait_ms) {
  while (true) {
    if (shut_down_.signalled()) return Unavailable("streaming connection shut down");
    int64_t deadline = deadline_ns_.load();
    int timeout = MillisecondsLeft(deadline);
    if (deadline != 0 && timeout == 0) return DeadlineExceeded("streaming connection: timed out");
    if (max_wait_ms >= 0 && (timeout < 0 || timeout > max_wait_ms)) timeout = max_wait_ms;
    pollfd fds[2] = {{socket_.get(), events, 0}, {shut_down_.fd(), POLLIN, 0}};
    int rc = ::poll(fds, 2, timeout);
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) return Error::FromErrno(errno, "poll streaming connection");
    if (fds[1].revents != 0) return Unavailable("streaming connection shut down");
    if (fds[0].revents != 0 || max_wait_ms >= 0) return Ok();
    // A timeout with no cap: the deadline has passed, which the loop's top reports.
  }
}

Result<size_t> TlsTransport::Read(std::span<uint8_t> out) {
  int size = static_cast<int>(std::min<size_t>(out.size(), INT_MAX));
  while (true) {
    int rc, error, saved_errno;
    {
      std::lock_guard lock(ssl_mu_);
      ::ERR_clear_error();
      errno = 0;
      rc = ::SSL_read(ssl_, out.data(), size);
      saved_errno = errno;
      error = rc > 0 ? SSL_ERROR_NONE : ::SSL_get_error(ssl_, rc);
    }
    switch (error) {
      case SSL_ERROR_NONE: return static_cast<size_t>(rc);
      case SSL_ERROR_ZERO_RETURN: return size_t{0};
      case SSL_ERROR_WANT_READ: {
        auto waited = Wait(POLLIN);
        if (!waited.ok())
          return shut_down_.signalled() ? Result<size_t>(size_t{0}) : std::move(waited).error();
        continue;
      }
      case SSL_ERROR_WANT_WRITE: BERTH_TRY(Wait(POLLOUT)); continue;
      case SSL_ERROR_SYSCALL:
        if (saved_errno == 0 || saved_errno == ECONNRESET || saved_errno == EPIPE) return size_t{0};
        return Error::FromErrno(saved_errno, "read from streaming TLS connection");
      default:
        if (shut_down_.signalled()) return size_t{0};
        return Unavailable("read from streaming TLS connection: " + OpenSslErrors());
    }
  }
}

Result<void> TlsTransport::Write(std::string_view data) {
  std::lock_guard write_lock(write_mu_);
  while (!data.empty()) {
    int size = static_cast<int>(std::min<size_t>(data.size(), 64 * 1024));
    int rc, error, saved_errno;
    {
      std::lock_guard lock(ssl_mu_);
      ::ERR_clear_error();
      errno = 0;
      rc = ::SSL_write(ssl_, data.data(), size);
      saved_errno = errno;
      error = rc > 0 ? SSL_ERROR_NONE : ::SSL_get_error(ssl_, rc);
    }
    switch (error) {
      case SSL_ERROR_NONE: data.remove_prefix(static_cast<size_t>(rc)); continue;
      case SSL_ERROR_WANT_WRITE: BERTH_TRY(Wait(POLLOUT)); continue;
      // Only a handshake message would make a write read; the reader thread may take the bytes
      // first, so look again soon rather than wait for readability.
      case SSL_ERROR_WANT_READ: BERTH_TRY(Wait(POLLIN, 50)); continue;
      case SSL_ERROR_SYSCALL:
        return Error::FromErrno(saved_errno != 0 ? saved_errno : EPIPE,
                                "write to streaming TLS connection");
      default: return Unavailable("write to streaming TLS connection: " + OpenSslErrors());
    }
  }
  return Ok();
}

void TlsTransport::CloseWrite() {
  std::lock_guard write_lock(write_mu_);
  for (int attempt = 0; attempt < 100; ++attempt) {
    int rc, error;
    {
      std::lock_guard lock(ssl_mu_);
      ::ERR_clear_error();
      rc = ::SSL_shutdown(ssl_);
      error = rc >= 0 ? SSL_ERROR_NONE : ::SSL_get_error(ssl_, rc);
    }
    if (error == SSL_ERROR_WANT_WRITE && Wait(POLLOUT, 100).ok()) continue;
    return;
  }
}

void TlsTransport::Shutdown() {
  shut_down_.Signal();
  ::shutdown(socket_.get(), SHUT_RDWR);
}

}  // namespace berth::streaming
