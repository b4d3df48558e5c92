#include "image/registry/http_transport.h"

#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <nlohmann/json.hpp>

namespace berth::image::registry {
namespace {

constexpr size_t kMaxHeaders = 256;
constexpr size_t kMaxErrorBody = 16 << 10;
constexpr size_t kMaxDescribedText = 200;
constexpr long kMaxRedirects = 5;
constexpr std::chrono::milliseconds kDeadlineSlack{50};

CURL* Handle(void* curl) {
  return static_cast<CURL*>(curl);
}

std::string Printable(std::string_view text, size_t limit) {
  std::string out;
  for (char c : text.substr(0, limit)) {
    out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  }
  if (text.size() > limit) out += "...";
  return out;
}

std::string Trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  return std::string(text);
}

// Owns the curl_slist of request headers.
struct HeaderList {
  curl_slist* list = nullptr;
  ~HeaderList() { curl_slist_free_all(list); }
  bool Append(const std::string& header) {
    curl_slist* next = curl_slist_append(list, header.c_str());
    if (next == nullptr) return false;
    list = next;
    return true;
  }
};

int64_t RemainingMillis(const CancelToken& cancel) {
  if (cancel.deadline() == CancelToken::Clock::time_point::max()) return -1;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(cancel.deadline() -
                                                                    CancelToken::Clock::now());
  return std::max<int64_t>(left.count(), 1);
}

// nlohmann's value() throws on a wrong type; registry JSON may have any.
std::string StringField(const nlohmann::json& object, const char* name) {
  auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

void EnsureCurlInitialized() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::optional<std::string> HttpResponse::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) return value;
  }
  return std::nullopt;
}

std::vector<std::string> HttpResponse::HeaderValues(std::string_view name) const {
  std::vector<std::string> values;
  for (const auto& [key, value] : headers) {
    if (key == name) values.push_back(value);
  }
  return values;
}

// State shared with curl's callbacks during one Perform.
struct HttpTransport::Transfer {
  HttpResponse response;
  const BodySink* sink = nullptr;
  const CancelToken* cancel = nullptr;
  int64_t max_body = 0;
  int64_t received = 0;
  std::optional<Error> error;  // why a callback stopped the transfer
  char error_buffer[CURL_ERROR_SIZE] = {};

  size_t OnHeader(std::string_view line) {
    if (line.starts_with("HTTP/")) {
      // A new response (after a redirect or a 100 Continue): forget the previous one's head.
      response = HttpResponse{};
      size_t space = line.find(' ');
      std::string text = space == std::string_view::npos ? "" : Trim(line.substr(space + 1));
      response.status = std::atol(text.c_str());
      response.status_text = Printable(text, 64);
      return line.size();
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return line.size();  // the blank line ending the head
    if (response.headers.size() >= kMaxHeaders) {
      error = Unavailable("response has more than " + std::to_string(kMaxHeaders) + " headers");
      return 0;
    }
    std::string name = Trim(line.substr(0, colon));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    response.headers.emplace_back(std::move(name), Trim(line.substr(colon + 1)));
    return line.size();
  }

  size_t OnBody(std::string_view chunk) {
    if (!response.success()) {
      size_t room = kMaxErrorBody - std::min(kMaxErrorBody, response.error_body.size());
      response.error_body.append(chunk.substr(0, room));
      return chunk.size();
    }
    if (received == 0) {
      // Refuse a body announced as too large before reading any of it.
      auto length = response.Header("content-length");
      if (length.has_value() && std::strtoll(length->c_str(), nullptr, 10) > max_body) {
        error = InvalidArgument("response body of " + *length + " bytes is larger than " +
                                std::to_string(max_body));
        return 0;
      }
    }
    received += static_cast<int64_t>(chunk.size());
    if (received > max_body) {
      error =
          InvalidArgument("response body is larger than " + std::to_string(max_body) + " bytes");
      return 0;
    }
    if (*sink) {
      auto sunk = (*sink)(response, chunk);
      if (!sunk.ok()) {
        error = std::move(sunk).error();
        return 0;
      }
    }
    return chunk.size();
  }

  bool ShouldAbort() const { return cancel->cancelled() || cancel->expired(); }
};

namespace {

size_t HeaderCallback(char* data, size_t size, size_t count, void* user) {
  return static_cast<HttpTransport::Transfer*>(user)->OnHeader(
      std::string_view(data, size * count));
}

size_t WriteCallback(char* data, size_t size, size_t count, void* user) {
  return static_cast<HttpTransport::Transfer*>(user)->OnBody(std::string_view(data, size * count));
}

int ProgressCallback(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<HttpTransport::Transfer*>(user)->ShouldAbort() ? 1 : 0;
}

}  // namespace

Result<std::unique_ptr<HttpTransport>> HttpTransport::Create(HttpOptions options) {
  EnsureCurlInitialized();
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return Internal("curl_easy_init failed");
  return std::unique_ptr<HttpTransport>(new HttpTransport(curl, std::move(options)));
}

HttpTransport::~HttpTransport() {
  curl_easy_cleanup(Handle(curl_));
}

Result<void> HttpTransport::Configure(const HttpRequest& request, Transfer& transfer,
                                      void* header_list) {
  CURL* curl = Handle(curl_);
  curl_easy_reset(curl);  // keeps live connections, DNS and TLS session caches
  bool ok = curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str()) == CURLE_OK;
  // Never http(s)-to-anything-else, even through a redirect a registry asks for.
  ok &= curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK;
  ok &= curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR,
                         request.allow_plain_http ? "http,https" : "https") == CURLE_OK;
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM for DNS timeouts
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, static_cast<curl_slist*>(header_list));
  curl_easy_setopt(curl, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, request.follow_redirects ? 1L : 0L);
  curl_easy_setopt(curl, CURLOPT_MAXREDIRS, kMaxRedirects);
  curl_easy_setopt(curl, CURLOPT_UNRESTRICTED_AUTH, 0L);
  if (request.skip_verify) {
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.c_str());
  } else if (request.method != "GET") {
    return Internal("unsupported HTTP method " + request.method);
  }
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, HeaderCallback);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, WriteCallback);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  // The progress callback is how a CancelToken reaches into a running transfer; curl calls it
  // about once a second even while connecting or stalled.
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, ProgressCallback);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, transfer.error_buffer);
  int64_t remaining = RemainingMillis(*transfer.cancel);
  int64_t connect_ms = options_.connect_timeout.count();
  if (remaining > 0) {
    connect_ms = std::min(connect_ms, remaining);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(remaining));
  }
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(connect_ms));
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, static_cast<long>(options_.stall_timeout.count()));
  if (!ok) return Internal("this libcurl lacks CURLOPT_PROTOCOLS_STR (needs 7.85 or newer)");
  return Ok();
}

Result<HttpResponse> HttpTransport::Perform(const HttpRequest& request, int64_t max_body,
                                            const BodySink& sink, const CancelToken& cancel) {
  BERTH_TRY(cancel.Check(("request " + request.url).c_str()));
  Transfer transfer;
  transfer.sink = &sink;
  transfer.cancel = &cancel;
  transfer.max_body = max_body;
  HeaderList headers;
  for (const auto& header : request.headers) {
    if (!headers.Append(header)) return Internal("out of memory building request headers");
  }
  BERTH_TRY(Configure(request, transfer, headers.list));
  CURLcode code = curl_easy_perform(Handle(curl_));
  if (code != CURLE_OK) return TransportError(code, request, transfer);
  spdlog::debug("registry: {} {} -> {}", request.method, request.url, transfer.response.status);
  return std::move(transfer.response);
}

Error HttpTransport::TransportError(int code, const HttpRequest& request,
                                    Transfer& transfer) const {
  std::string what = request.method + " " + request.url;
  if (transfer.error.has_value()) return std::move(*transfer.error).Wrap(what);
  if (code == CURLE_ABORTED_BY_CALLBACK || code == CURLE_OPERATION_TIMEDOUT) {
    auto cancelled = transfer.cancel->Check(what.c_str());
    if (!cancelled.ok()) return std::move(cancelled).error();
    // CURLOPT_TIMEOUT_MS was set from the deadline in whole milliseconds, so curl may give up a
    // moment before the token itself reads as expired.
    if (code == CURLE_OPERATION_TIMEDOUT &&
        CancelToken::Clock::now() + kDeadlineSlack >= transfer.cancel->deadline()) {
      return DeadlineExceeded(what + ": deadline exceeded");
    }
  }
  std::string detail = transfer.error_buffer[0] != '\0'
                           ? std::string(transfer.error_buffer)
                           : std::string(curl_easy_strerror(static_cast<CURLcode>(code)));
  spdlog::debug("registry: {} failed: {}", what, detail);
  return Unavailable(what + ": " + Printable(detail, kMaxDescribedText));
}

std::string DescribeStatus(const HttpResponse& response) {
  std::string text =
      response.status_text.empty() ? std::to_string(response.status) : response.status_text;
  auto json = nlohmann::json::parse(response.error_body, nullptr, /*allow_exceptions=*/false);
  if (json.is_object() && json.contains("errors") && json["errors"].is_array() &&
      !json["errors"].empty() && json["errors"][0].is_object()) {
    const auto& first = json["errors"][0];
    std::string code = StringField(first, "code");
    std::string message = StringField(first, "message");
    if (!code.empty() || !message.empty()) {
      text +=
          " (" + Printable(code + (message.empty() ? "" : ": " + message), kMaxDescribedText) + ")";
    }
  }
  return text;
}

}  // namespace berth::image::registry
