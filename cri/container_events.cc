// GetContainerEvents: a server stream of lifecycle events until the client cancels: containers'
// and pod sandboxes' own (container_id = the sandbox's ID), as kubelet's evented PLEG reads them.
#include <chrono>

#include "cri/container_convert.h"
#include "cri/rpc_edge.h"
#include "cri/runtime_service.h"
#include "cri/sandbox_convert.h"

namespace berth::cri {
namespace {

::runtime::v1::ContainerEventType ToCriEventType(pod::ContainerEventType type) {
  switch (type) {
    case pod::ContainerEventType::kCreated: return ::runtime::v1::CONTAINER_CREATED_EVENT;
    case pod::ContainerEventType::kStarted: return ::runtime::v1::CONTAINER_STARTED_EVENT;
    case pod::ContainerEventType::kStopped: return ::runtime::v1::CONTAINER_STOPPED_EVENT;
    case pod::ContainerEventType::kDeleted: return ::runtime::v1::CONTAINER_DELETED_EVENT;
  }
  return ::runtime::v1::CONTAINER_CREATED_EVENT;
}

// Unsubscribes however the stream ends, an exception included.
class SubscriptionGuard {
 public:
  explicit SubscriptionGuard(pod::ContainerEventBus& events)
      : events_(events), subscription_(events.Subscribe()) {}
  ~SubscriptionGuard() { events_.Unsubscribe(subscription_); }
  SubscriptionGuard(const SubscriptionGuard&) = delete;
  SubscriptionGuard& operator=(const SubscriptionGuard&) = delete;
  pod::EventSubscription* operator->() { return subscription_.get(); }

 private:
  pod::ContainerEventBus& events_;
  std::shared_ptr<pod::EventSubscription> subscription_;
};

}  // namespace

grpc::Status RuntimeService::GetContainerEvents(
    grpc::ServerContext* context, const ::runtime::v1::GetEventsRequest*,
    grpc::ServerWriter<::runtime::v1::ContainerEventResponse>* writer) {
  return Serve("GetContainerEvents", [&]() -> Result<void> {
    SubscriptionGuard subscription(containers_.events());
    while (!context->IsCancelled() && !subscription->closed()) {
      auto event = subscription->Next(std::chrono::milliseconds(500));
      if (!event) continue;
      ::runtime::v1::ContainerEventResponse response;
      response.set_container_id(event->container_id);
      response.set_container_event_type(ToCriEventType(event->type));
      response.set_created_at(event->at_nanos);
      // kubelet's evented PLEG wants the pod's status and its containers' with each event, as
      // they were when it happened.
      if (event->sandbox) FillSandboxStatus(*event->sandbox, response.mutable_pod_sandbox_status());
      for (const auto& container : event->containers) {
        FillContainerStatus(container, response.add_containers_statuses());
      }
      if (!writer->Write(response)) break;
    }
    return Ok();
  });
}

}  // namespace berth::cri
