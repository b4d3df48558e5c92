#include "cmd/berthctl/events_command.h"

#include <time.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <thread>

#include "base/signals.h"
#include "cmd/berthctl/output.h"

namespace berthctl {
namespace {

const char* EventTypeName(::runtime::v1::ContainerEventType type) {
  switch (type) {
    case ::runtime::v1::CONTAINER_CREATED_EVENT: return "CREATED";
    case ::runtime::v1::CONTAINER_STARTED_EVENT: return "STARTED";
    case ::runtime::v1::CONTAINER_STOPPED_EVENT: return "STOPPED";
    case ::runtime::v1::CONTAINER_DELETED_EVENT: return "DELETED";
    default: return "UNKNOWN";
  }
}

// Unix nanoseconds as RFC 3339 in UTC with nanoseconds, the CRI log files' time format.
std::string FormatTime(int64_t nanos) {
  time_t seconds = static_cast<time_t>(nanos / 1'000'000'000);
  tm utc{};
  gmtime_r(&seconds, &utc);
  char text[64];
  size_t length = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(text + length, sizeof text - length, ".%09lldZ",
                static_cast<long long>(nanos % 1'000'000'000));
  return text;
}

// Prints one event; false when stdout is gone (a closed pipe), so the stream should end.
bool PrintEvent(const GlobalOptions& options, const ::runtime::v1::ContainerEventResponse& event) {
  if (options.output == "json") {
    PrintJsonLine(event);
  } else {
    std::printf("%s %s %s %s\n", FormatTime(event.created_at()).c_str(),
                EventTypeName(event.container_event_type()), event.container_id().c_str(),
                event.pod_sandbox_status().id().c_str());
  }
  // Each event as it comes, also into a pipe.
  return std::fflush(stdout) == 0;
}

// Streams GetContainerEvents until SIGINT/SIGTERM (exit 0), the runtime ends the stream, or
// stdout is closed. --timeout bounds only the connecting: the stream itself has no deadline.
int Events(const GlobalOptions& options) {
  // Before the channel starts gRPC's threads, so that only the waiter below sees the signals
  // (and a closed stdout is a write error, not SIGPIPE).
  berth::BlockTerminationSignals();
  Client client(options);
  if (!client.WaitForConnection()) {
    std::fprintf(stderr, "berthctl: events: cannot connect to %s within the --timeout of %d s\n",
                 options.endpoint.c_str(), options.timeout_seconds);
    return 1;
  }
  // Shared with the waiter, which may outlive this function (it is never woken otherwise).
  std::shared_ptr<grpc::ClientContext> context = client.StreamContext();
  auto interrupted = std::make_shared<std::atomic<bool>>(false);
  std::thread([context, interrupted] {
    berth::WaitForTerminationSignal();
    *interrupted = true;
    context->TryCancel();
  }).detach();
  auto reader = client.runtime().GetContainerEvents(context.get(), {});
  ::runtime::v1::ContainerEventResponse event;
  while (reader->Read(&event)) {
    if (!PrintEvent(options, event)) {
      context->TryCancel();
      break;
    }
  }
  auto status = reader->Finish();
  if (*interrupted || status.error_code() == grpc::StatusCode::CANCELLED) return 0;
  if (!status.ok()) return ReportRpcError("events", status);
  return 0;
}

}  // namespace

void AddEventsCommand(CLI::App& app, const GlobalOptions& options, int* exit_code) {
  app.add_subcommand(
         "events",
         "print container events as they happen (time, CREATED|STARTED|STOPPED|DELETED, "
         "container ID, pod ID; one JSON object a line with -o json) until interrupted")
      ->callback([&options, exit_code] { *exit_code = Events(options); });
}

}  // namespace berthctl
