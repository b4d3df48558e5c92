// Reads a CRI config (PodSandboxConfig, ContainerConfig) from a JSON or YAML file, in the field
// names crictl's files use (lowerCamelCase or the proto's snake_case).
#pragma once

#include <google/protobuf/message.h>

#include <string>

namespace berthctl {

// Fills `message`; returns an error text, empty on success.
std::string LoadMessageFile(const std::string& path, google::protobuf::Message* message);

}  // namespace berthctl
