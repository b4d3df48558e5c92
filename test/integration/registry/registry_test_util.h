// Small helpers shared by the registry client's integration tests.
#pragma once

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "image/digest.h"
#include "image/reference.h"

namespace berth::testing {

inline const std::vector<std::string>& AllManifestTypes() {
  static const std::vector<std::string> types{
      "application/vnd.oci.image.index.v1+json",
      "application/vnd.oci.image.manifest.v1+json",
      "application/vnd.docker.distribution.manifest.list.v2+json",
      "application/vnd.docker.distribution.manifest.v2+json",
  };
  return types;
}

inline image::Reference Ref(const std::string& text) {
  auto parsed = image::ParseReference(text);
  if (!parsed.ok()) throw std::runtime_error(parsed.error().message());
  return *parsed;
}

inline image::Digest ParseDigest(const std::string& text) {
  auto parsed = image::Digest::Parse(text);
  if (!parsed.ok()) throw std::runtime_error(parsed.error().message());
  return *parsed;
}

// Everything logged through spdlog, at every level, while this object lives.
class LogCapture {
 public:
  LogCapture() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(stream_);
    auto logger = std::make_shared<spdlog::logger>("capture", sink);
    logger->set_level(spdlog::level::trace);
    spdlog::set_default_logger(logger);
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  std::string text() {
    spdlog::default_logger()->flush();
    return stream_.str();
  }

 private:
  std::shared_ptr<spdlog::logger> previous_;
  std::ostringstream stream_;
};

}  // namespace berth::testing
