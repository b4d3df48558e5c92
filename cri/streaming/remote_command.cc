#include "cri/streaming/remote_command.h"

#include <algorithm>
#include <cstdint>
#include <nlohmann/json.hpp>

#include "base/parse_number.h"

namespace berth::streaming {
namespace {

std::optional<RemoteCommandProtocol> FromName(std::string_view name) {
  if (name == kProtocolV1) return RemoteCommandProtocol::kV1;
  if (name == kProtocolV2) return RemoteCommandProtocol::kV2;
  if (name == kProtocolV3) return RemoteCommandProtocol::kV3;
  if (name == kProtocolV4) return RemoteCommandProtocol::kV4;
  if (name == kProtocolV5) return RemoteCommandProtocol::kV5;
  return std::nullopt;
}

}  // namespace

std::string_view ProtocolName(RemoteCommandProtocol protocol) {
  switch (protocol) {
    case RemoteCommandProtocol::kV1: return kProtocolV1;
    case RemoteCommandProtocol::kV2: return kProtocolV2;
    case RemoteCommandProtocol::kV3: return kProtocolV3;
    case RemoteCommandProtocol::kV4: return kProtocolV4;
    case RemoteCommandProtocol::kV5: return kProtocolV5;
  }
  return kProtocolV1;
}

std::optional<RemoteCommandProtocol> NegotiateSpdyProtocol(
    const std::vector<std::string>& offered) {
  if (offered.empty()) return RemoteCommandProtocol::kV1;
  bool v4_offered = std::find(offered.begin(), offered.end(), kProtocolV4) != offered.end();
  for (const auto& name : offered) {
    auto protocol = FromName(name);
    if (!protocol) continue;
    if (*protocol == RemoteCommandProtocol::kV5 && v4_offered) continue;
    return protocol;
  }
  return std::nullopt;
}

std::optional<RemoteCommandProtocol> NegotiateWebSocketProtocol(
    const std::vector<std::string>& offered) {
  for (const auto& name : offered) {
    auto protocol = FromName(name);
    if (protocol == RemoteCommandProtocol::kV5 || protocol == RemoteCommandProtocol::kV4)
      return protocol;
  }
  return std::nullopt;
}

std::string FinalStatus(RemoteCommandProtocol protocol, const Result<int>& exit_code) {
  bool status_json =
      protocol == RemoteCommandProtocol::kV4 || protocol == RemoteCommandProtocol::kV5;
  if (exit_code.ok() && *exit_code == 0) {
    return status_json ? R"({"metadata":{},"status":"Success"})" : "";
  }
  std::string message;
  if (exit_code.ok()) {
    message =
        "command terminated with non-zero exit code: exit status " + std::to_string(*exit_code);
  } else {
    message = exit_code.error().message();
  }
  if (!status_json) return message;
  nlohmann::json status = {
      {"metadata", nlohmann::json::object()}, {"status", "Failure"}, {"message", message}};
  if (exit_code.ok()) {
    status["reason"] = "NonZeroExitCode";
    status["details"] = {
        {"causes", {{{"reason", "ExitCode"}, {"message", std::to_string(*exit_code)}}}}};
  } else {
    status["reason"] = "InternalError";
    status["code"] = 500;
  }
  // An error message may carry bytes that are not UTF-8 (a path from the container); dump()
  // would throw on them.
  return status.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<int> ParseFinalStatus(RemoteCommandProtocol protocol, std::string_view content) {
  bool status_json =
      protocol == RemoteCommandProtocol::kV4 || protocol == RemoteCommandProtocol::kV5;
  if (content.empty()) return 0;
  if (!status_json) return Internal(std::string(content));
  auto status = nlohmann::json::parse(content, nullptr, false);
  if (status.is_discarded() || !status.is_object()) {
    return Internal("error stream carries no Status: " + std::string(content.substr(0, 200)));
  }
  // The peer's JSON: json::value() would throw on a field of another type.
  auto text = [](const nlohmann::json& object, const char* key, std::string fallback) {
    auto it = object.find(key);
    return it != object.end() && it->is_string() ? it->get<std::string>() : fallback;
  };
  if (text(status, "status", "") == "Success") return 0;
  std::string message = text(status, "message", "remote command failed");
  auto details = status.find("details");
  if (text(status, "reason", "") == "NonZeroExitCode" && details != status.end() &&
      details->is_object()) {
    auto causes = details->find("causes");
    if (causes == details->end() || !causes->is_array()) return Internal(message);
    for (const auto& cause : *causes) {
      if (!cause.is_object() || text(cause, "reason", "") != "ExitCode") continue;
      std::string code = text(cause, "message", "");
      auto exit_code = ParseInt64(code, INT32_MIN, INT32_MAX);
      if (!exit_code) return Internal("Status has exit code \"" + code.substr(0, 64) + "\"");
      return static_cast<int>(*exit_code);
    }
  }
  return Internal(message);
}

Result<std::vector<TerminalSize>> ResizeDecoder::Feed(std::string_view bytes) {
  pending_ += bytes;
  std::vector<TerminalSize> sizes;
  while (true) {
    size_t start = pending_.find_first_not_of(" \t\r\n");
    if (start == std::string::npos) {
      pending_.clear();
      return sizes;
    }
    if (pending_[start] != '{') return InvalidArgument("resize message does not start with '{'");
    // Objects here hold only two numbers; a '}' inside a string would be a hostile message and
    // fails the parse below.
    size_t end = pending_.find('}', start);
    if (end == std::string::npos) {
      if (pending_.size() - start > 4096)
        return InvalidArgument("resize message longer than 4 KiB");
      pending_.erase(0, start);
      return sizes;
    }
    auto json =
        nlohmann::json::parse(pending_.begin() + static_cast<ptrdiff_t>(start),
                              pending_.begin() + static_cast<ptrdiff_t>(end) + 1, nullptr, false);
    pending_.erase(0, end + 1);
    if (json.is_discarded() || !json.is_object())
      return InvalidArgument("resize message is not a JSON object");
    auto dimension = [&](const char* key) -> int64_t {
      auto it = json.find(key);
      return it != json.end() && it->is_number_integer() ? it->get<int64_t>() : -1;
    };
    int64_t width = dimension("Width"), height = dimension("Height");
    if (width < 0 || width > 0xffff || height < 0 || height > 0xffff) {
      return InvalidArgument("resize message without a valid Width and Height");
    }
    sizes.push_back({static_cast<uint16_t>(width), static_cast<uint16_t>(height)});
  }
}

std::string EncodeResize(TerminalSize size) {
  return R"({"Width":)" + std::to_string(size.width) + R"(,"Height":)" +
         std::to_string(size.height) + "}";
}

}  // namespace berth::streaming
