// Lifecycle events for GetContainerEvents (kubelet's evented PLEG): a small publish / subscribe
// bus. Each subscriber has a bounded queue; a slow one loses its oldest events rather than holding
// anyone up (kubelet relists periodically anyway). A pod sandbox's own events are container
// events whose container_id is the sandbox's ID, as containerd sends them.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "pod/container.h"
#include "pod/sandbox.h"

namespace berth::pod {

enum class ContainerEventType { kCreated, kStarted, kStopped, kDeleted };

struct ContainerEvent {
  std::string container_id;  // the sandbox's ID for an event of the sandbox itself
  std::string sandbox_id;
  ContainerEventType type = ContainerEventType::kCreated;
  int64_t at_nanos = 0;
  // The pod and its containers as they were when it happened: kubelet updates its pod cache from
  // these, and after a removal nothing is left to look up (a sandbox's DELETED must still name
  // its pod).
  std::optional<Sandbox> sandbox;
  std::vector<Container> containers;
};

class EventSubscription {
 public:
  // The next event, or nullopt after `timeout` or once the bus is closed (see closed()).
  std::optional<ContainerEvent> Next(std::chrono::milliseconds timeout);
  bool closed();

 private:
  friend class ContainerEventBus;
  static constexpr size_t kMaxQueued = 1024;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<ContainerEvent> queue_;
  bool closed_ = false;
};

class ContainerEventBus {
 public:
  std::shared_ptr<EventSubscription> Subscribe();
  void Unsubscribe(const std::shared_ptr<EventSubscription>& subscription);
  void Publish(const ContainerEvent& event);
  // Ends every subscription (at daemon shutdown, so streams do not hold it up).
  void Close();

 private:
  std::mutex mutex_;
  std::vector<std::shared_ptr<EventSubscription>> subscriptions_;
  bool closed_ = false;
};

}  // namespace berth::pod
