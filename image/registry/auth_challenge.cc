#include "image/registry/auth_challenge.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "image/digest.h"

namespace berth::image::registry {
namespace {

// RFC 7230 tchar.
bool IsTokenChar(char c) {
  if (std::isalnum(static_cast<unsigned char>(c))) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A cursor over a header value with the few reads the challenge grammar needs.
class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  bool done() const { return pos_ >= text_.size(); }
  char peek() const { return done() ? '\0' : text_[pos_]; }
  size_t pos() const { return pos_; }
  void rewind(size_t pos) { pos_ = pos; }
  void advance() { ++pos_; }

  void SkipSpaces() {
    while (!done() && (peek() == ' ' || peek() == '\t')) ++pos_;
  }
  void SkipSpacesAndCommas() {
    while (!done() && (peek() == ' ' || peek() == '\t' || peek() == ',')) ++pos_;
  }
  std::string_view Token() {
    size_t start = pos_;
    while (!done() && IsTokenChar(peek())) ++pos_;
    return text_.substr(start, pos_ - start);
  }
  // An unquoted parameter value. RFC 7235 says token, but registries have been seen sending bare
  // URLs (realm=https://…), so anything up to the next comma or space is taken.
  std::string_view BareValue() {
    size_t start = pos_;
    while (!done() && peek() != ',' && peek() != ' ' && peek() != '\t') ++pos_;
    return text_.substr(start, pos_ - start);
  }
  // At an opening quote: the unescaped content, or InvalidArgument when it never closes.
  Result<std::string> Quoted() {
    std::string value;
    ++pos_;  // the opening quote
    while (!done()) {
      char c = text_[pos_++];
      if (c == '"') return value;
      if (c == '\\') {
        if (done()) break;
        c = text_[pos_++];
      }
      value.push_back(c);
    }
    return InvalidArgument("WWW-Authenticate: unterminated quoted string");
  }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

// Reads `name = value` pairs after a scheme until the next challenge's scheme or the end.
Result<void> ReadParams(Scanner& scanner, Challenge& challenge) {
  while (true) {
    size_t start = scanner.pos();
    std::string_view name = scanner.Token();
    if (name.empty()) return Ok();
    scanner.SkipSpaces();
    if (scanner.peek() != '=') {
      // A token not followed by '=' starts the next challenge (or is a token68, see the header).
      scanner.rewind(start);
      return Ok();
    }
    scanner.advance();
    scanner.SkipSpaces();
    std::string value;
    if (scanner.peek() == '"') {
      BERTH_ASSIGN_OR_RETURN(value, scanner.Quoted());
    } else {
      value = std::string(scanner.BareValue());
    }
    challenge.params[Lower(name)] = std::move(value);
    scanner.SkipSpaces();
    if (scanner.peek() == ',') {
      scanner.advance();
      scanner.SkipSpaces();
    }
  }
}

constexpr char kBase64Alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

bool IsHeaderSafeToken(std::string_view token) {
  for (char c : token) {
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

std::string ScopeParams(const std::vector<std::string>& scopes) {
  std::string out;
  for (const auto& scope : scopes) out += "&scope=" + UrlEncode(scope);
  return out;
}

}  // namespace

std::string Challenge::Param(std::string_view name) const {
  auto it = params.find(std::string(name));
  return it == params.end() ? std::string() : it->second;
}

Result<std::vector<Challenge>> ParseChallenges(std::string_view header_value) {
  std::vector<Challenge> challenges;
  Scanner scanner(header_value);
  while (true) {
    scanner.SkipSpacesAndCommas();
    if (scanner.done()) return challenges;
    std::string_view scheme = scanner.Token();
    if (scheme.empty()) {
      return InvalidArgument("WWW-Authenticate: unexpected character at offset " +
                             std::to_string(scanner.pos()));
    }
    Challenge challenge{Lower(scheme), {}};
    scanner.SkipSpaces();
    BERTH_TRY(ReadParams(scanner, challenge));
    // A token68 ("abc==") leaves '=' behind: skip it rather than fail on it.
    while (scanner.peek() == '=') scanner.advance();
    challenges.push_back(std::move(challenge));
  }
}

Result<TokenResponse> ParseTokenResponse(std::string_view body) {
  auto json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    return InvalidArgument("token response is not a JSON object");
  }
  TokenResponse response;
  for (const char* field : {"token", "access_token"}) {
    auto it = json.find(field);
    if (it != json.end() && it->is_string() && !it->get<std::string>().empty()) {
      response.token = it->get<std::string>();
      break;
    }
  }
  if (response.token.empty()) return InvalidArgument("token response carries no token");
  if (!IsHeaderSafeToken(response.token)) {
    return InvalidArgument("token response: token has characters not allowed in a header");
  }
  response.expires_in_seconds = kDefaultTokenLifetimeSeconds;
  auto expires = json.find("expires_in");
  if (expires != json.end() && expires->is_number_integer()) {
    response.expires_in_seconds =
        std::max<int64_t>(expires->get<int64_t>(), kDefaultTokenLifetimeSeconds);
  }
  return response;
}

std::string Base64Encode(std::string_view data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    uint32_t n = (uint8_t(data[i]) << 16) | (uint8_t(data[i + 1]) << 8) | uint8_t(data[i + 2]);
    for (int shift : {18, 12, 6, 0}) out.push_back(kBase64Alphabet[(n >> shift) & 63]);
  }
  size_t rest = data.size() - i;
  if (rest > 0) {
    uint32_t n = uint8_t(data[i]) << 16;
    if (rest == 2) n |= uint8_t(data[i + 1]) << 8;
    out.push_back(kBase64Alphabet[(n >> 18) & 63]);
    out.push_back(kBase64Alphabet[(n >> 12) & 63]);
    out.push_back(rest == 2 ? kBase64Alphabet[(n >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

Result<std::string> Base64Decode(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) return InvalidArgument("base64: bad length");
  std::string out;
  uint32_t bits = 0;
  int count = 0;
  for (char c : text) {
    int value = Base64Value(c);
    if (value < 0) return InvalidArgument("base64: invalid character");
    bits = (bits << 6) | uint32_t(value);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out.push_back(static_cast<char>((bits >> count) & 0xff));
    }
  }
  return out;
}

std::string UrlEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 15]);
    }
  }
  return out;
}

bool Credentials::empty() const {
  return username.empty() && password.empty() && identity_token.empty() && registry_token.empty();
}

std::string Credentials::CacheIdentity() const {
  if (empty()) return "anonymous";
  // Length prefixes keep ("a:b", "c") and ("a", "b:c") apart.
  std::string material;
  for (const std::string* part : {&username, &password, &identity_token, &registry_token}) {
    material += std::to_string(part->size()) + ":" + *part + ";";
  }
  return ComputeDigest(material).String();
}

Result<Credentials> CredentialsFromAuth(const RegistryAuth& auth) {
  Credentials credentials{auth.username, auth.password, auth.identity_token, auth.registry_token};
  if (!IsHeaderSafeToken(credentials.registry_token)) {
    return InvalidArgument(
        "registry credentials: registry_token has characters not allowed in a header");
  }
  if (!auth.auth.empty() && credentials.username.empty() && credentials.password.empty()) {
    auto decoded = Base64Decode(auth.auth);
    size_t colon = decoded.ok() ? decoded->find(':') : std::string::npos;
    if (colon == std::string::npos || colon == 0) {
      return InvalidArgument("registry credentials: \"auth\" is not base64 of user:password");
    }
    credentials.username = decoded->substr(0, colon);
    credentials.password = decoded->substr(colon + 1);
  }
  return credentials;
}

std::string BasicAuthorization(const Credentials& credentials) {
  return "Basic " + Base64Encode(credentials.username + ":" + credentials.password);
}

std::string TokenRequestUrl(std::string_view realm, std::string_view service,
                            const std::vector<std::string>& scopes) {
  std::string url(realm);
  url += realm.find('?') == std::string_view::npos ? '?' : '&';
  url += "service=" + UrlEncode(service);
  url += ScopeParams(scopes);
  return url;
}

std::string RefreshTokenForm(std::string_view refresh_token, std::string_view service,
                             const std::vector<std::string>& scopes, std::string_view client_id) {
  return "grant_type=refresh_token&refresh_token=" + UrlEncode(refresh_token) +
         "&service=" + UrlEncode(service) + ScopeParams(scopes) +
         "&client_id=" + UrlEncode(client_id);
}

}  // namespace berth::image::registry
