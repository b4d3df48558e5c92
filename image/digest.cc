#include "image/digest.h"

#include <openssl/evp.h>

#include <cstdlib>

namespace berth::image {
namespace {

constexpr std::string_view kHexDigits = "0123456789abcdef";

size_t EncodedLength(DigestAlgorithm algorithm) {
  return algorithm == DigestAlgorithm::kSha256 ? 64 : 128;
}

const EVP_MD* EvpFor(DigestAlgorithm algorithm) {
  return algorithm == DigestAlgorithm::kSha256 ? EVP_sha256() : EVP_sha512();
}

bool IsLowerHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

// OpenSSL only fails these calls when it cannot allocate; like operator new, we do not recover.
void CheckOpenSsl(int ok) {
  if (ok != 1) std::abort();
}

}  // namespace

std::string_view DigestAlgorithmName(DigestAlgorithm algorithm) {
  return algorithm == DigestAlgorithm::kSha256 ? "sha256" : "sha512";
}

Result<Digest> Digest::Parse(std::string_view text) {
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    return InvalidArgument("invalid digest \"" + std::string(text) +
                           "\": missing \"algorithm:\" prefix");
  }
  const std::string_view name = text.substr(0, colon);
  const std::string_view encoded = text.substr(colon + 1);
  DigestAlgorithm algorithm;
  if (name == "sha256") {
    algorithm = DigestAlgorithm::kSha256;
  } else if (name == "sha512") {
    algorithm = DigestAlgorithm::kSha512;
  } else {
    return InvalidArgument("invalid digest \"" + std::string(text) +
                           "\": unsupported algorithm \"" + std::string(name) +
                           "\" (sha256 and sha512 are supported)");
  }
  if (encoded.size() != EncodedLength(algorithm)) {
    return InvalidArgument("invalid digest \"" + std::string(text) + "\": " + std::string(name) +
                           " needs " + std::to_string(EncodedLength(algorithm)) +
                           " hex characters, got " + std::to_string(encoded.size()));
  }
  for (char c : encoded) {
    if (!IsLowerHex(c)) {
      return InvalidArgument("invalid digest \"" + std::string(text) +
                             "\": encoded part must be lowercase hex");
    }
  }
  return Digest(algorithm, std::string(encoded));
}

std::string Digest::String() const {
  if (empty()) return {};
  std::string text(DigestAlgorithmName(algorithm_));
  text += ':';
  text += encoded_;
  return text;
}

struct DigestHasher::State {
  struct Free {
    void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
  };
  std::unique_ptr<EVP_MD_CTX, Free> context;
};

DigestHasher::DigestHasher(DigestAlgorithm algorithm)
    : algorithm_(algorithm), state_(std::make_unique<State>()) {
  state_->context.reset(EVP_MD_CTX_new());
  if (!state_->context) std::abort();
  CheckOpenSsl(EVP_DigestInit_ex(state_->context.get(), EvpFor(algorithm), nullptr));
}

DigestHasher::~DigestHasher() = default;
DigestHasher::DigestHasher(DigestHasher&&) noexcept = default;
DigestHasher& DigestHasher::operator=(DigestHasher&&) noexcept = default;

void DigestHasher::Update(const void* data, size_t size) {
  if (size > 0) CheckOpenSsl(EVP_DigestUpdate(state_->context.get(), data, size));
}

Digest DigestHasher::Finish() {
  unsigned char raw[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  CheckOpenSsl(EVP_DigestFinal_ex(state_->context.get(), raw, &length));
  std::string encoded;
  encoded.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    encoded += kHexDigits[raw[i] >> 4];
    encoded += kHexDigits[raw[i] & 0x0f];
  }
  return Digest(algorithm_, std::move(encoded));
}

Digest ComputeDigest(std::string_view data, DigestAlgorithm algorithm) {
  DigestHasher hasher(algorithm);
  hasher.Update(data.data(), data.size());
  return hasher.Finish();
}

}  // namespace berth::image
