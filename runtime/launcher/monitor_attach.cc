#include "runtime/launcher/monitor_attach.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "runtime/terminal.h"

namespace berth::runtime {
namespace {

// A client that does not read its output for this long (in bytes) is dropped, not waited for.
constexpr size_t kMaxPending = 4 << 20;
constexpr size_t kMaxStdinPending = 1 << 20;

void SetNonBlocking(int fd) {
  if (fd >= 0) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
}

// Writes what the fd takes now; returns false when the reader is gone.
bool WriteSome(int fd, std::string& pending) {
  while (!pending.empty()) {
    ssize_t n = ::write(fd, pending.data(), pending.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return true;
    if (n <= 0) return false;
    pending.erase(0, static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

void AttachHub::Add(UniqueFd control, UniqueFd in, UniqueFd out, UniqueFd err) {
  auto client = std::make_unique<Client>();
  SetNonBlocking(control.get());
  SetNonBlocking(in.get());
  SetNonBlocking(out.get());
  SetNonBlocking(err.get());
  client->control = std::move(control);
  // Input only while the container has a stdin to give it to.
  if (stdin_fd_ >= 0) client->in = std::move(in);
  client->out = std::move(out);
  client->err = std::move(err);
  clients_.push_back(std::move(client));
}

void AttachHub::Broadcast(int stream, std::string_view data) {
  for (auto& client : clients_) {
    UniqueFd& fd = stream == 0 ? client->out : client->err;
    if (!fd || client->dead) continue;
    client->pending[stream].append(data);
    if (client->pending[stream].size() > kMaxPending) {
      client->dead = true;  // too slow: dropped rather than stalling the container's logs
      continue;
    }
    Flush(*client, stream);
  }
}

void AttachHub::Flush(Client& client, int stream) {
  UniqueFd& fd = stream == 0 ? client.out : client.err;
  if (!fd) return;
  if (!WriteSome(fd.get(), client.pending[stream])) {
    fd.reset();
    client.pending[stream].clear();
  }
}

void AttachHub::CloseStdin() {
  if (stdin_fd_ < 0) return;
  if (terminal_) {
    // A pty has no half-close: end of input is the EOT character, as a user would type it.
    (void)!::write(stdin_fd_, "\x04", 1);
    return;
  }
  ::close(stdin_fd_);
  stdin_fd_ = -1;
  stdin_pending_.clear();
  for (auto& client : clients_) client->in.reset();
}

void AttachHub::ReadInput(Client& client) {
  char buffer[65536];
  ssize_t n = ::read(client.in.get(), buffer, sizeof buffer);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n <= 0) {
    client.in.reset();
    if (stdin_once_) CloseStdin();
    return;
  }
  stdin_pending_.append(buffer, static_cast<size_t>(n));
  if (stdin_fd_ >= 0 && !WriteSome(stdin_fd_, stdin_pending_)) CloseStdin();
}

void AttachHub::ReadControl(Client& client) {
  char buffer[512];
  ssize_t n = ::read(client.control.get(), buffer, sizeof buffer);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n <= 0) {
    client.dead = true;  // the client detached
    return;
  }
  client.control_buffer.append(buffer, static_cast<size_t>(n));
  size_t newline;
  while ((newline = client.control_buffer.find('\n')) != std::string::npos) {
    std::string line = client.control_buffer.substr(0, newline);
    client.control_buffer.erase(0, newline + 1);
    unsigned width = 0, height = 0;
    if (std::sscanf(line.c_str(), "resize %u %u", &width, &height) == 2 && pty_fd_ >= 0) {
      (void)ResizeTerminal(pty_fd_, static_cast<uint16_t>(std::min(width, 65535u)),
                           static_cast<uint16_t>(std::min(height, 65535u)));
    }
  }
  if (client.control_buffer.size() > 4096) client.dead = true;
}

void AttachHub::AppendPollFds(std::vector<pollfd>& fds) const {
  polled_clients_ = clients_.size();
  for (const auto& client : clients_) {
    fds.push_back({client->control.get(), POLLIN, 0});
    // Input is taken only while the container keeps up with what came before.
    bool want_input = client->in && stdin_pending_.empty();
    fds.push_back({want_input ? client->in.get() : -1, POLLIN, 0});
    fds.push_back(
        {client->out && !client->pending[0].empty() ? client->out.get() : -1, POLLOUT, 0});
    fds.push_back(
        {client->err && !client->pending[1].empty() ? client->err.get() : -1, POLLOUT, 0});
  }
  fds.push_back({stdin_fd_ >= 0 && !stdin_pending_.empty() ? stdin_fd_ : -1, POLLOUT, 0});
}

void AttachHub::HandlePollResults(const std::vector<pollfd>& fds, size_t first) {
  size_t index = first;
  for (size_t i = 0; i < polled_clients_ && i < clients_.size(); ++i) {
    Client* client = clients_[i].get();
    if (fds[index].revents) ReadControl(*client);
    if (fds[index + 1].revents && client->in) ReadInput(*client);
    if (fds[index + 2].revents) Flush(*client, 0);
    if (fds[index + 3].revents) Flush(*client, 1);
    index += 4;
  }
  if (fds[index].revents && stdin_fd_ >= 0 && !WriteSome(stdin_fd_, stdin_pending_)) CloseStdin();
  if (stdin_pending_.size() > kMaxStdinPending) stdin_pending_.clear();
  clients_.erase(
      std::remove_if(clients_.begin(), clients_.end(), [](const auto& c) { return c->dead; }),
      clients_.end());
}

void AttachHub::Finish(int exit_code) {
  std::string line = "exit " + std::to_string(exit_code) + "\n";
  for (auto& client : clients_) {
    Flush(*client, 0);
    Flush(*client, 1);
    if (client->control) {
      std::string text = line;
      (void)WriteSome(client->control.get(), text);
    }
  }
  clients_.clear();
}

}  // namespace berth::runtime
