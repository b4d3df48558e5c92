// A thin, bounded HTTP client over one libcurl easy handle. The handle is reused from request to
// request, so connections to a registry stay alive for the whole pull (curl keeps its connection
// cache across curl_easy_reset). Not thread-safe: one transport per session.
//
// Registry replies are untrusted: header count, error bodies and success bodies are bounded, and
// the caller decides what to do with every status. Request headers (which may carry
// Authorization) are never logged and never put into errors.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/cancel.h"
#include "base/result.h"

namespace berth::image::registry {

// Calls curl_global_init once per process (it is not thread-safe itself).
void EnsureCurlInitialized();

struct HttpRequest {
  std::string method = "GET";  // GET, HEAD or POST
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;                  // POST only (application/x-www-form-urlencoded)
  // Follow redirects (blob storage). curl never sends our Authorization header to another host,
  // port or scheme (CURLOPT_UNRESTRICTED_AUTH off; curl >= 7.83 checks all three).
  bool follow_redirects = false;
  bool allow_plain_http = false;  // may a redirect go to http:// (the endpoint is http itself)
  bool skip_verify = false;       // https without certificate checks (insecure host)
};

struct HttpResponse {
  long status = 0;
  std::string status_text;  // "401 Unauthorized", sanitized, for error messages
  std::vector<std::pair<std::string, std::string>>
      headers;             // of the final response; lowercase names
  std::string error_body;  // the start of a non-2xx body (registry error JSON), bounded

  bool success() const { return status >= 200 && status < 300; }
  // The first value of header `name` (lowercase), if present.
  std::optional<std::string> Header(std::string_view name) const;
  std::vector<std::string> HeaderValues(std::string_view name) const;
};

// Receives a 2xx body chunk by chunk, with the response head (status, headers) already known.
// An error aborts the transfer and is what Perform returns.
using BodySink = std::function<Result<void>(const HttpResponse& head, std::string_view chunk)>;

struct HttpOptions {
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(30)};
  // A transfer slower than 1 byte/s for this long counts as stalled (Unavailable).
  std::chrono::seconds stall_timeout{60};
  std::string user_agent = "berth";
};

class HttpTransport {
 public:
  static Result<std::unique_ptr<HttpTransport>> Create(HttpOptions options);
  ~HttpTransport();
  HttpTransport(const HttpTransport&) = delete;
  HttpTransport& operator=(const HttpTransport&) = delete;

  // Runs one request. A 2xx body goes to `sink` (more than `max_body` bytes is InvalidArgument);
  // a non-2xx body is kept in error_body. Any HTTP status is a successful Result: the caller maps
  // it. Connection, TLS and stall failures are Unavailable; `cancel` firing is Cancelled or
  // DeadlineExceeded.
  Result<HttpResponse> Perform(const HttpRequest& request, int64_t max_body, const BodySink& sink,
                               const CancelToken& cancel);

  // The per-request state curl's callbacks work on (defined in the .cc).
  struct Transfer;

 private:
  HttpTransport(void* curl, HttpOptions options) : curl_(curl), options_(std::move(options)) {}
  Result<void> Configure(const HttpRequest& request, Transfer& transfer, void* header_list);
  Error TransportError(int code, const HttpRequest& request, Transfer& transfer) const;

  void* curl_;  // CURL*, kept opaque so that users of this header need no curl include
  HttpOptions options_;
};

// "404 Not Found (MANIFEST_UNKNOWN: manifest unknown)": the status plus the registry's first
// error code and message when its body is the distribution error JSON. Whatever the registry wrote
// is cut short and stripped to printable ASCII before it goes into an error.
std::string DescribeStatus(const HttpResponse& response);

}  // namespace berth::image::registry
