#include "image/reference.h"

#include <algorithm>

namespace berth::image {
namespace {

constexpr std::string_view kLegacyDefaultDomain = "index.docker.io";
constexpr std::string_view kOfficialRepositoryPrefix = "library/";

bool IsLowerAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool IsAlnum(char c) {
  return IsLowerAlnum(c) || (c >= 'A' && c <= 'Z');
}
bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}
bool IsHex(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool IsWordChar(char c) {
  return IsAlnum(c) || c == '_';
}

Error Invalid(std::string_view text, std::string_view reason) {
  return InvalidArgument("invalid image reference \"" + std::string(text) +
                         "\": " + std::string(reason));
}

// A bare 64-hex string is an image ID, which Docker refuses as a repository name so that
// "pull <id>" is never mistaken for a repository.
bool IsImageId(std::string_view text) {
  return text.size() == 64 && std::all_of(text.begin(), text.end(), [](char c) {
           return IsDigit(c) || (c >= 'a' && c <= 'f');
         });
}

Result<void> ValidateTag(std::string_view tag) {
  if (tag.empty()) return InvalidArgument("tag is empty");
  if (tag.size() > kMaxTagLength) {
    return InvalidArgument("tag is longer than " + std::to_string(kMaxTagLength) + " characters");
  }
  if (!IsWordChar(tag.front())) {
    return InvalidArgument("tag must start with a letter, digit or '_'");
  }
  for (char c : tag) {
    if (!IsWordChar(c) && c != '.' && c != '-') {
      return InvalidArgument(std::string("invalid character '") + c + "' in tag");
    }
  }
  return Ok();
}

// A run of separators between two alphanumeric runs must be ".", "_", "__" or one or more "-".
bool IsValidSeparator(std::string_view run) {
  if (run == "." || run == "_" || run == "__") return true;
  return !run.empty() && std::all_of(run.begin(), run.end(), [](char c) { return c == '-'; });
}

Result<void> ValidatePathComponent(std::string_view component) {
  if (component.empty()) return InvalidArgument("repository path has an empty component");
  for (char c : component) {
    if (!IsLowerAlnum(c) && c != '.' && c != '_' && c != '-') {
      return InvalidArgument(std::string("invalid character '") + c + "' in repository name");
    }
  }
  if (!IsLowerAlnum(component.front()) || !IsLowerAlnum(component.back())) {
    return InvalidArgument("repository path component \"" + std::string(component) +
                           "\" must start and end with a lowercase letter or digit");
  }
  size_t i = 0;
  while (i < component.size()) {
    if (IsLowerAlnum(component[i])) {
      ++i;
      continue;
    }
    size_t end = i;
    while (end < component.size() && !IsLowerAlnum(component[end])) ++end;
    if (!IsValidSeparator(component.substr(i, end - i))) {
      return InvalidArgument("repository path component \"" + std::string(component) +
                             "\" has an invalid separator \"" +
                             std::string(component.substr(i, end - i)) + "\"");
    }
    i = end;
  }
  return Ok();
}

Result<void> ValidatePath(std::string_view path) {
  if (std::any_of(path.begin(), path.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
    return InvalidArgument("repository name must be lowercase");
  }
  size_t start = 0;
  while (true) {
    const size_t slash = path.find('/', start);
    BERTH_TRY(ValidatePathComponent(path.substr(start, slash - start)));
    if (slash == std::string_view::npos) return Ok();
    start = slash + 1;
  }
}

Result<void> ValidateHostName(std::string_view host) {
  if (host.empty()) return InvalidArgument("registry host is empty");
  size_t start = 0;
  while (true) {
    const size_t dot = host.find('.', start);
    const std::string_view label = host.substr(start, dot - start);
    if (label.empty()) return InvalidArgument("registry host has an empty label");
    for (char c : label) {
      if (!IsAlnum(c) && c != '-') {
        return InvalidArgument(std::string("invalid character '") + c + "' in registry host");
      }
    }
    if (label.front() == '-' || label.back() == '-') {
      return InvalidArgument("registry host label \"" + std::string(label) +
                             "\" must not start or end with '-'");
    }
    if (dot == std::string_view::npos) return Ok();
    start = dot + 1;
  }
}

Result<void> ValidatePort(std::string_view port) {
  if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), IsDigit)) {
    return InvalidArgument("registry port \"" + std::string(port) + "\" is not a number");
  }
  return Ok();
}

Result<void> ValidateDomain(std::string_view domain) {
  std::string_view host = domain;
  std::string_view rest;
  if (domain.front() == '[') {
    const size_t close = domain.find(']');
    if (close == std::string_view::npos) return InvalidArgument("unterminated IPv6 address");
    const std::string_view address = domain.substr(1, close - 1);
    if (address.empty() ||
        !std::all_of(address.begin(), address.end(), [](char c) { return IsHex(c) || c == ':'; })) {
      return InvalidArgument("invalid IPv6 address \"" + std::string(address) + "\"");
    }
    rest = domain.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') {
      return InvalidArgument("unexpected characters after IPv6 address");
    }
  } else {
    const size_t colon = domain.find(':');
    host = domain.substr(0, colon);
    if (colon != std::string_view::npos) rest = domain.substr(colon);
    BERTH_TRY(ValidateHostName(host));
  }
  if (!rest.empty()) BERTH_TRY(ValidatePort(rest.substr(1)));
  return Ok();
}

bool LooksLikeDomain(std::string_view first_component) {
  return first_component.find_first_of(".:") != std::string_view::npos ||
         first_component == "localhost";
}

// Splits "name" into domain and path with Docker Hub normalization.
void SplitDomain(std::string_view name, Reference& reference) {
  const size_t slash = name.find('/');
  if (slash == std::string_view::npos || !LooksLikeDomain(name.substr(0, slash))) {
    reference.domain = kDefaultDomain;
    reference.path = name;
  } else {
    reference.domain = name.substr(0, slash);
    reference.path = name.substr(slash + 1);
  }
  if (reference.domain == kLegacyDefaultDomain) reference.domain = kDefaultDomain;
  if (reference.domain == kDefaultDomain && reference.path.find('/') == std::string::npos) {
    reference.path.insert(0, kOfficialRepositoryPrefix);
  }
}

Result<void> ParseName(std::string_view name, Reference& reference) {
  if (name.empty()) return InvalidArgument("repository name is empty");
  SplitDomain(name, reference);
  if (reference.domain != kDefaultDomain) BERTH_TRY(ValidateDomain(reference.domain));
  BERTH_TRY(ValidatePath(reference.path));
  if (reference.FullName().size() > kMaxNameLength) {
    return InvalidArgument("repository name is longer than " + std::to_string(kMaxNameLength) +
                           " characters");
  }
  return Ok();
}

Result<Reference> ParseReferenceParts(std::string_view text) {
  Reference reference;
  std::string_view rest = text;
  const size_t at = rest.find('@');
  if (at != std::string_view::npos) {
    auto digest = Digest::Parse(rest.substr(at + 1));
    if (!digest.ok()) return std::move(digest).error();
    reference.digest = std::move(digest).value();
    rest = rest.substr(0, at);
  }
  const size_t last_slash = rest.rfind('/');
  const size_t colon = rest.rfind(':');
  if (colon != std::string_view::npos &&
      (last_slash == std::string_view::npos || colon > last_slash)) {
    BERTH_TRY(ValidateTag(rest.substr(colon + 1)));
    reference.tag = rest.substr(colon + 1);
    rest = rest.substr(0, colon);
  }
  BERTH_TRY(ParseName(rest, reference));
  if (reference.tag.empty() && !reference.digest) reference.tag = kDefaultTag;
  return reference;
}

}  // namespace

std::string Reference::FullName() const {
  return domain + "/" + path;
}

std::string Reference::String() const {
  // append() rather than `":" + tag`: GCC 12 warns falsely (-Wrestrict) about the latter.
  std::string text = FullName();
  if (!tag.empty()) text.append(":").append(tag);
  if (digest) text.append("@").append(digest->String());
  return text;
}

Result<Reference> ParseReference(std::string_view text) {
  if (text.empty()) return Invalid(text, "reference is empty");
  if (IsImageId(text)) {
    return Invalid(text, "a 64-character hex string is an image ID, not a repository name");
  }
  auto reference = ParseReferenceParts(text);
  if (!reference.ok()) return Invalid(text, reference.error().message());
  return reference;
}

}  // namespace berth::image
