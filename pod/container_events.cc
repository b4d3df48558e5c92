#include "pod/container_events.h"

#include <algorithm>

namespace berth::pod {

std::optional<ContainerEvent> EventSubscription::Next(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  ready_.wait_for(lock, timeout, [this] { return closed_ || !queue_.empty(); });
  if (queue_.empty()) return std::nullopt;
  ContainerEvent event = std::move(queue_.front());
  queue_.pop_front();
  return event;
}

bool EventSubscription::closed() {
  std::lock_guard lock(mutex_);
  return closed_;
}

std::shared_ptr<EventSubscription> ContainerEventBus::Subscribe() {
  auto subscription = std::make_shared<EventSubscription>();
  std::lock_guard lock(mutex_);
  subscription->closed_ = closed_;
  subscriptions_.push_back(subscription);
  return subscription;
}

void ContainerEventBus::Unsubscribe(const std::shared_ptr<EventSubscription>& subscription) {
  std::lock_guard lock(mutex_);
  subscriptions_.erase(std::remove(subscriptions_.begin(), subscriptions_.end(), subscription),
                       subscriptions_.end());
}

void ContainerEventBus::Publish(const ContainerEvent& event) {
  std::lock_guard lock(mutex_);
  for (const auto& subscription : subscriptions_) {
    std::lock_guard queue_lock(subscription->mutex_);
    if (subscription->queue_.size() == EventSubscription::kMaxQueued) {
      subscription->queue_.pop_front();
    }
    subscription->queue_.push_back(event);
    subscription->ready_.notify_one();
  }
}

void ContainerEventBus::Close() {
  std::lock_guard lock(mutex_);
  closed_ = true;
  for (const auto& subscription : subscriptions_) {
    std::lock_guard queue_lock(subscription->mutex_);
    subscription->closed_ = true;
    subscription->ready_.notify_all();
  }
}

}  // namespace berth::pod
