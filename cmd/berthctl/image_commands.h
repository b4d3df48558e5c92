// berthctl pull | images | rmi | inspecti | import.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "cmd/berthctl/client.h"

namespace berthctl {

void AddImageCommands(CLI::App& app, const GlobalOptions& options, int* exit_code);

struct PullFlags {
  std::string image;
  std::string creds;  // user:password
  std::string auth;   // base64(user:password)
};

// PullImage with the flags' credentials and, when given, the pod's config (as kubelet and
// `crictl run` send it); a pull gets a long deadline whatever --timeout says. Fills `image_ref`.
grpc::Status PullImage(Client& client, const GlobalOptions& options, const PullFlags& flags,
                       const ::runtime::v1::PodSandboxConfig* sandbox, std::string* image_ref);

}  // namespace berthctl
