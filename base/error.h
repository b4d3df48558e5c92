// berth's one error type: a code (mapped to a gRPC status once, at the CRI edge), a message that
// says what failed and why, and the context each layer adds on the way up.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace berth {

enum class ErrorCode {
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kFailedPrecondition,
  kPermissionDenied,
  kUnauthenticated,
  kResourceExhausted,
  kDeadlineExceeded,
  kCancelled,
  kUnavailable,
  kUnimplemented,
  kInternal,
  kDataLoss,          // stored state is damaged (a corrupt database file): never read it as empty
  kLast = kDataLoss,  // ErrorCodeFromName tries every code up to this one
};

std::string_view ErrorCodeName(ErrorCode code);
// The code ErrorCodeName names ("NotFound"), for errors that cross a process boundary as text.
std::optional<ErrorCode> ErrorCodeFromName(std::string_view name);

class Error {
 public:
  Error(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  // An error from a failed system call: Internal, or a closer code where errno says more
  // (ENOENT -> NotFound, EEXIST -> AlreadyExists, EACCES/EPERM -> PermissionDenied).
  static Error FromErrno(int err, std::string_view what);

  ErrorCode code() const { return code_; }
  // The whole chain, outermost context first: "pull busybox: fetch manifest: 401 Unauthorized".
  const std::string& message() const { return message_; }
  // errno of the system call at the root of the chain, 0 when there was none.
  int sys_errno() const { return errno_; }

  // Adds what the caller was doing in front of the message; the code stays.
  Error Wrap(std::string_view context) const&;
  Error Wrap(std::string_view context) &&;

  std::string ToString() const;

  // One line "<CodeName> <message>" (newlines become spaces), for an error a helper process
  // (the container's init, berth-monitor) reports to its parent; FromWire reads it back, and
  // text without a known code is FailedPrecondition.
  std::string ToWire() const;
  static Error FromWire(std::string_view text);

 private:
  ErrorCode code_;
  std::string message_;
  int errno_ = 0;
};

// Shorthands that read well at the call site: return InvalidArgument("pod name is empty");
Error InvalidArgument(std::string message);
Error NotFound(std::string message);
Error AlreadyExists(std::string message);
Error FailedPrecondition(std::string message);
Error Internal(std::string message);
Error Unavailable(std::string message);
Error Unimplemented(std::string message);
Error DeadlineExceeded(std::string message);

}  // namespace berth
