#include "pod/exit_watcher.h"

#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace berth::pod {

ExitWatcher::ExitWatcher(OnExit on_exit)
    : on_exit_(std::move(on_exit)),
      epoll_(::epoll_create1(EPOLL_CLOEXEC)),
      wake_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.fd = wake_.get();
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, wake_.get(), &event);
  thread_ = std::thread([this] { Run(); });
}

ExitWatcher::~ExitWatcher() {
  Stop();
}

void ExitWatcher::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  Wake();
  if (thread_.joinable()) thread_.join();
}

void ExitWatcher::Wake() {
  uint64_t one = 1;
  ssize_t ignored = ::write(wake_.get(), &one, sizeof one);
  (void)ignored;
}

void ExitWatcher::Watch(const std::string& id, const runtime::ProcessIdentity& process) {
  auto pidfd = runtime::OpenProcess(process);
  std::lock_guard lock(mutex_);
  if (auto old = watched_.find(id); old != watched_.end()) {
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, old->second.get(), nullptr);
    by_fd_.erase(old->second.get());
    watched_.erase(old);
  }
  if (!pidfd) {
    gone_[id] = true;
  } else {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = pidfd->get();
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, pidfd->get(), &event) != 0) {
      spdlog::error("exit watcher: watch {}: epoll_ctl: {}", id, std::strerror(errno));
      gone_[id] = true;
    } else {
      by_fd_[pidfd->get()] = id;
      watched_[id] = std::move(*pidfd);
    }
  }
  Wake();
}

void ExitWatcher::Forget(const std::string& id) {
  std::lock_guard lock(mutex_);
  gone_.erase(id);
  auto it = watched_.find(id);
  if (it == watched_.end()) return;
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, it->second.get(), nullptr);
  by_fd_.erase(it->second.get());
  watched_.erase(it);
}

void ExitWatcher::Run() {
  std::vector<epoll_event> events(64);
  while (true) {
    int ready = ::epoll_wait(epoll_.get(), events.data(), static_cast<int>(events.size()), -1);
    if (ready < 0 && errno != EINTR) {
      spdlog::error("exit watcher: epoll_wait: {}", std::strerror(errno));
      return;
    }
    std::vector<std::string> exited;
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      for (int i = 0; i < ready; ++i) {
        int fd = events[i].data.fd;
        if (fd == wake_.get()) {
          uint64_t count;
          ssize_t ignored = ::read(wake_.get(), &count, sizeof count);
          (void)ignored;
          continue;
        }
        auto it = by_fd_.find(fd);
        if (it == by_fd_.end()) continue;
        exited.push_back(it->second);
        ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
        watched_.erase(it->second);
        by_fd_.erase(it);
      }
      for (const auto& [id, gone] : gone_) exited.push_back(id);
      gone_.clear();
    }
    // Outside the lock: the callback may Watch again (a monitor gone, its container still alive).
    for (const auto& id : exited) on_exit_(id);
  }
}

}  // namespace berth::pod
