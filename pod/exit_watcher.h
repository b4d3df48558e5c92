// Notices when watched processes end, without polling: one thread waits (epoll) on a pidfd per
// process and calls back with the ID it was watched for. The callback runs on that thread; it is
// the one place a container moves to EXITED (ContainerManager::OnMonitorExit).
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "base/unique_fd.h"
#include "runtime/process.h"

namespace berth::pod {

class ExitWatcher {
 public:
  using OnExit = std::function<void(const std::string& id)>;

  explicit ExitWatcher(OnExit on_exit);
  ~ExitWatcher();  // stops the thread; callbacks in progress finish first
  ExitWatcher(const ExitWatcher&) = delete;
  ExitWatcher& operator=(const ExitWatcher&) = delete;

  // Watches `process` for `id` (replacing an earlier watch of it). A process that is already gone
  // is reported at once, on the watcher thread.
  void Watch(const std::string& id, const runtime::ProcessIdentity& process);
  void Forget(const std::string& id);
  void Stop();

 private:
  void Run();
  void Wake();

  OnExit on_exit_;
  UniqueFd epoll_;
  UniqueFd wake_;  // an eventfd: Watch / Forget / Stop wake the thread
  std::mutex mutex_;
  std::map<std::string, UniqueFd> watched_;  // ID -> pidfd
  std::map<int, std::string> by_fd_;
  std::map<std::string, bool> gone_;  // reported without a pidfd (already gone)
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace berth::pod
