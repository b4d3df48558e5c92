// The CRI gRPC server on its unix socket.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "base/lock_file.h"
#include "base/result.h"
#include "cri/rpc_logging.h"

namespace berth::cri {

// Claims the socket path before anything else happens: takes `<listen>.lock` (a second berthd on
// the same socket fails here with a clear message), removes a stale socket file and refuses a
// socket some other process still serves.
Result<LockFile> ClaimSocket(const std::string& listen);

class CriServer {
 public:
  // Serves `services` on unix:<listen> with mode 0660; `claim` comes from ClaimSocket.
  static Result<std::unique_ptr<CriServer>> Start(const std::string& listen, LockFile claim,
                                                  const std::vector<grpc::Service*>& services);

  // Stops accepting calls; in-flight ones get `grace` to finish and are then cancelled (those
  // still running are logged by name). Removes the socket file. Safe to call twice. It returns
  // only when every handler has returned: a handler that ignores cancellation holds it up, which
  // is the daemon's shutdown watchdog's business.
  void Shutdown(std::chrono::milliseconds grace);

  // The calls in flight, for whoever must say what is still running.
  std::shared_ptr<InFlightRpcs> in_flight() const { return in_flight_; }

  ~CriServer();

 private:
  CriServer(std::string listen, LockFile lock)
      : listen_(std::move(listen)), lock_(std::move(lock)) {}

  std::string listen_;
  LockFile lock_;
  std::shared_ptr<InFlightRpcs> in_flight_ = std::make_shared<InFlightRpcs>();
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace berth::cri
