// The attach side of berth-monitor: clients that asked to attach hand over pipes (see monitor.h,
// AttachToMonitor); the hub copies the container's output into them and their input into the
// container's stdin, without ever blocking the monitor's loop on a slow or stuck client.
#pragma once

#include <poll.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/unique_fd.h"

namespace berth::runtime {

class AttachHub {
 public:
  // `stdin_fd`: the container's stdin (a pipe's write end, or the pty master), -1 when the
  // container has none; `stdin_once`: the first client to close its input closes it for good;
  // `terminal`: the container has a pty (`resize` applies to `stdin_fd`, stdin_once sends EOT).
  AttachHub(int stdin_fd, bool stdin_once, bool terminal, int pty_fd)
      : stdin_fd_(stdin_fd), stdin_once_(stdin_once), terminal_(terminal), pty_fd_(pty_fd) {}

  // A new client: its control connection and the fds it sent (any may be invalid).
  void Add(UniqueFd control, UniqueFd in, UniqueFd out, UniqueFd err);

  // Output of the container (stream 0 stdout, 1 stderr) for every client that wants it.
  void Broadcast(int stream, std::string_view data);

  // The fds to poll and, after poll, what to do with them.
  void AppendPollFds(std::vector<pollfd>& fds) const;
  void HandlePollResults(const std::vector<pollfd>& fds, size_t first);

  // The container ended: give each client what is still buffered (best effort), tell it the
  // exit code and close everything.
  void Finish(int exit_code);

  // The container's stdin went away (it exited or stdin_once closed it).
  bool stdin_open() const { return stdin_fd_ >= 0; }

 private:
  struct Client {
    UniqueFd control, in, out, err;
    std::string pending[2];  // output not yet taken by a slow client, bounded
    std::string control_buffer;
    bool dead = false;
  };
  void Flush(Client& client, int stream);
  void ReadInput(Client& client);
  void ReadControl(Client& client);
  void CloseStdin();

  int stdin_fd_;
  bool stdin_once_;
  bool terminal_;
  int pty_fd_;
  std::string stdin_pending_;  // input the container has not read yet, bounded
  std::vector<std::unique_ptr<Client>> clients_;
  // Clients whose fds the last AppendPollFds listed: one may attach between poll and its results.
  mutable size_t polled_clients_ = 0;
};

}  // namespace berth::runtime
