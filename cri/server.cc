#include "cri/server.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/file_util.h"
#include "cri/rpc_logging.h"

namespace berth::cri {
namespace {

// A socket file is stale when nothing accepts connections on it any more.
Result<void> RemoveStaleSocket(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Ok();
    return Error::FromErrno(errno, "stat " + path);
  }
  if (!S_ISSOCK(st.st_mode)) {
    return FailedPrecondition(path + " exists and is not a socket; move it away or choose " +
                              "another --listen path");
  }
  UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!probe) return Error::FromErrno(errno, "create probe socket");
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
  if (::connect(probe.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
    return FailedPrecondition("another process is serving " + path +
                              "; stop it or choose another --listen path");
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return Error::FromErrno(errno, "remove stale socket " + path);
  }
  return Ok();
}

}  // namespace

Result<LockFile> ClaimSocket(const std::string& listen) {
  if (listen.size() >= sizeof(sockaddr_un{}.sun_path)) {
    return InvalidArgument("socket path " + listen + " is longer than the " +
                           std::to_string(sizeof(sockaddr_un{}.sun_path) - 1) +
                           " bytes a unix socket allows");
  }
  size_t slash = listen.find_last_of('/');
  if (slash != std::string::npos && slash > 0) BERTH_TRY(MakeDirs(listen.substr(0, slash), 0711));
  BERTH_ASSIGN_OR_RETURN(LockFile lock, LockFile::Acquire(listen + ".lock", "socket " + listen));
  BERTH_TRY(RemoveStaleSocket(listen));
  return lock;
}

Result<std::unique_ptr<CriServer>> CriServer::Start(const std::string& listen, LockFile claim,
                                                    const std::vector<grpc::Service*>& services) {
  std::unique_ptr<CriServer> server(new CriServer(listen, std::move(claim)));
  grpc::ServerBuilder builder;
  int bound = 0;
  builder.AddListeningPort("unix:" + listen, grpc::InsecureServerCredentials(), &bound);
  for (grpc::Service* service : services) builder.RegisterService(service);
  builder.SetMaxReceiveMessageSize(16 << 20);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(MakeRpcLoggingFactory(server->in_flight_));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));

  // The socket must never be reachable by others, not even between bind and chmod.
  mode_t previous_umask = ::umask(0117);
  server->server_ = builder.BuildAndStart();
  ::umask(previous_umask);
  if (!server->server_ || bound == 0) {
    server->server_.reset();
    return Unavailable("could not listen on unix:" + listen + " (see the log above for why)");
  }
  if (::chmod(listen.c_str(), 0660) != 0) {
    auto error = Error::FromErrno(errno, "chmod " + listen);
    server->Shutdown(std::chrono::milliseconds(0));
    return error;
  }
  return server;
}

void CriServer::Shutdown(std::chrono::milliseconds grace) {
  if (!server_) return;
  // grpc::Server::Shutdown(deadline) also waits out the deadline for idle client connections,
  // which kubelet keeps open forever; so wait for the calls in flight ourselves, then shut down
  // at once, cancelling whatever is still running.
  int left = in_flight_->WaitIdle(std::chrono::steady_clock::now() + grace);
  if (left > 0) {
    spdlog::warn(
        "shutdown: {} CRI calls still in flight after the {} ms grace period, cancelling "
        "them: {}",
        left, grace.count(), in_flight_->Describe());
  }
  server_->Shutdown(std::chrono::system_clock::now());
  server_->Wait();
  server_.reset();
  ::unlink(listen_.c_str());
}

CriServer::~CriServer() {
  Shutdown(std::chrono::milliseconds(0));
}

}  // namespace berth::cri
