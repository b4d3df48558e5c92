// Request checks and reply helpers that several RPC files share.
#pragma once

#include <grpcpp/support/sync_stream.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace berth::cri {

// InvalidArgument "container id is empty" / "pod sandbox id is empty" / "image name is empty".
Result<void> NeedContainerId(const std::string& id);
Result<void> NeedSandboxId(const std::string& id);
Result<void> NeedImageName(const std::string& name);

// Exec and Attach: the CRI's rules for the streams asked for (api.proto, ExecRequest and
// AttachRequest); `rpc` ("exec", "attach") starts the message.
Result<void> CheckStreams(std::string_view rpc, bool stdin, bool stdout, bool stderr, bool tty);

// A TCP port a client asked to forward: 1-65535, else InvalidArgument "port N is out of range".
Result<uint16_t> CheckPort(int32_t port);

// Writes `items` to a server stream (StreamPodSandboxes, StreamContainers) in batches: one
// message per batch keeps each well under gRPC's message size limit. `add(item, batch)` adds one
// item to a message. A client that went away is Cancelled.
template <typename Response, typename Item, typename Add>
Result<void> WriteInBatches(grpc::ServerWriter<Response>* writer, const std::vector<Item>& items,
                            Add add) {
  constexpr int kBatch = 500;
  Response batch;
  int in_batch = 0;
  for (const Item& item : items) {
    add(item, batch);
    if (++in_batch == kBatch) {
      if (!writer->Write(batch)) return Error(ErrorCode::kCancelled, "client went away");
      batch.Clear();
      in_batch = 0;
    }
  }
  if (in_batch > 0) writer->Write(batch);
  return Ok();
}

}  // namespace berth::cri
