// Content digests as the OCI image spec writes them ("sha256:<64 lowercase hex>") and a streaming
// hasher that produces them. Used for references pinned by digest, the content store (blob names)
// and layer diff_ids.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"

namespace berth::image {

enum class DigestAlgorithm { kSha256, kSha512 };

std::string_view DigestAlgorithmName(DigestAlgorithm algorithm);

class Digest {
 public:
  // The empty digest (like Go's zero digest.Digest): empty() is true and String() is "". Only a
  // placeholder until a real one is assigned; Parse never returns it.
  Digest() = default;

  // "sha256:" + 64 lowercase hex, or "sha512:" + 128 lowercase hex. Anything else (other
  // algorithms, uppercase hex, wrong length) is InvalidArgument with the reason.
  static Result<Digest> Parse(std::string_view text);

  DigestAlgorithm algorithm() const { return algorithm_; }
  std::string_view algorithm_name() const { return DigestAlgorithmName(algorithm_); }
  // The hex part, lowercase.
  const std::string& encoded() const { return encoded_; }
  bool empty() const { return encoded_.empty(); }
  // "sha256:abcd…", the form used on the wire and as a content store key.
  std::string String() const;

  friend bool operator==(const Digest&, const Digest&) = default;

 private:
  friend class DigestHasher;
  Digest(DigestAlgorithm algorithm, std::string encoded)
      : algorithm_(algorithm), encoded_(std::move(encoded)) {}

  DigestAlgorithm algorithm_ = DigestAlgorithm::kSha256;
  std::string encoded_;
};

// Incremental hash over a byte stream (OpenSSL EVP underneath).
class DigestHasher {
 public:
  explicit DigestHasher(DigestAlgorithm algorithm = DigestAlgorithm::kSha256);
  ~DigestHasher();
  DigestHasher(DigestHasher&&) noexcept;
  DigestHasher& operator=(DigestHasher&&) noexcept;
  DigestHasher(const DigestHasher&) = delete;
  DigestHasher& operator=(const DigestHasher&) = delete;

  void Update(const void* data, size_t size);
  // Returns the digest of everything passed to Update; the hasher must not be used afterwards.
  Digest Finish();

 private:
  struct State;
  DigestAlgorithm algorithm_;
  std::unique_ptr<State> state_;
};

// One-shot convenience.
Digest ComputeDigest(std::string_view data, DigestAlgorithm algorithm = DigestAlgorithm::kSha256);

}  // namespace berth::image
