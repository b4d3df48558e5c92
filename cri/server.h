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

  // Stops accepting calls; in-flight ones get `grace` to finish and are then cancelled. Removes
  // the socket file. Safe to call twice.
  void Shutdown(std::chrono::milliseconds grace);

  ~CriServer();

 private:
  CriServer(std::string listen, LockFile lock) : listen_(std::move(listen)), lock_(std::move(lock)) {}

  std::string listen_;
  LockFile lock_;
  InFlightRpcs in_flight_;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace berth::cri
