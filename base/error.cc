#include "base/error.h"

#include <cerrno>
#include <cstring>

namespace berth {

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return "InvalidArgument";
    case ErrorCode::kNotFound: return "NotFound";
    case ErrorCode::kAlreadyExists: return "AlreadyExists";
    case ErrorCode::kFailedPrecondition: return "FailedPrecondition";
    case ErrorCode::kPermissionDenied: return "PermissionDenied";
    case ErrorCode::kUnauthenticated: return "Unauthenticated";
    case ErrorCode::kResourceExhausted: return "ResourceExhausted";
    case ErrorCode::kDeadlineExceeded: return "DeadlineExceeded";
    case ErrorCode::kCancelled: return "Cancelled";
    case ErrorCode::kUnavailable: return "Unavailable";
    case ErrorCode::kUnimplemented: return "Unimplemented";
    case ErrorCode::kInternal: return "Internal";
    case ErrorCode::kDataLoss: return "DataLoss";
  }
  return "Unknown";
}

std::optional<ErrorCode> ErrorCodeFromName(std::string_view name) {
  for (int value = 0; value <= static_cast<int>(ErrorCode::kLast); ++value) {
    auto code = static_cast<ErrorCode>(value);
    if (ErrorCodeName(code) == name) return code;
  }
  return std::nullopt;
}

Error Error::FromErrno(int err, std::string_view what) {
  ErrorCode code = ErrorCode::kInternal;
  switch (err) {
    case ENOENT: code = ErrorCode::kNotFound; break;
    case EEXIST: code = ErrorCode::kAlreadyExists; break;
    case EACCES:
    case EPERM: code = ErrorCode::kPermissionDenied; break;
    case ENOSPC:
    case EDQUOT:
    case EMFILE:
    case ENFILE:
    case ENOMEM: code = ErrorCode::kResourceExhausted; break;
    default: break;
  }
  std::string message(what);
  message += ": ";
  message += std::strerror(err);
  Error error(code, std::move(message));
  error.errno_ = err;
  return error;
}

std::string Error::ToWire() const {
  std::string text(ErrorCodeName(code_));
  text += ' ';
  for (char c : message_) text += c == '\n' ? ' ' : c;
  return text;
}

Error Error::FromWire(std::string_view text) {
  size_t space = text.find(' ');
  auto code = ErrorCodeFromName(text.substr(0, space));
  if (!code || space == std::string_view::npos) {
    return Error(ErrorCode::kFailedPrecondition, std::string(text));
  }
  return Error(*code, std::string(text.substr(space + 1)));
}

Error Error::Wrap(std::string_view context) const& {
  Error copy = *this;
  return std::move(copy).Wrap(context);
}

Error Error::Wrap(std::string_view context) && {
  std::string message(context);
  message += ": ";
  message += message_;
  message_ = std::move(message);
  return std::move(*this);
}

std::string Error::ToString() const {
  std::string text(ErrorCodeName(code_));
  text += ": ";
  text += message_;
  return text;
}

Error InvalidArgument(std::string message) {
  return {ErrorCode::kInvalidArgument, std::move(message)};
}
Error NotFound(std::string message) {
  return {ErrorCode::kNotFound, std::move(message)};
}
Error AlreadyExists(std::string message) {
  return {ErrorCode::kAlreadyExists, std::move(message)};
}
Error FailedPrecondition(std::string message) {
  return {ErrorCode::kFailedPrecondition, std::move(message)};
}
Error Internal(std::string message) {
  return {ErrorCode::kInternal, std::move(message)};
}
Error Unavailable(std::string message) {
  return {ErrorCode::kUnavailable, std::move(message)};
}
Error Unimplemented(std::string message) {
  return {ErrorCode::kUnimplemented, std::move(message)};
}
Error DeadlineExceeded(std::string message) {
  return {ErrorCode::kDeadlineExceeded, std::move(message)};
}

}  // namespace berth
