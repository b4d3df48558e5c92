#include "cmd/berthctl/config_file.h"

#include <google/protobuf/util/json_util.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace berthctl {
namespace {

// YAML -> JSON, keeping scalars that look like numbers or booleans as such (protobuf's JSON
// parser wants numbers for integer fields).
nlohmann::json ToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      nlohmann::json object = nlohmann::json::object();
      for (const auto& entry : node) object[entry.first.as<std::string>()] = ToJson(entry.second);
      return object;
    }
    case YAML::NodeType::Sequence: {
      nlohmann::json array = nlohmann::json::array();
      for (const auto& item : node) array.push_back(ToJson(item));
      return array;
    }
    case YAML::NodeType::Scalar: {
      std::string text = node.as<std::string>();
      if (node.Tag() == "!") return text;  // quoted in the file
      if (text == "true") return true;
      if (text == "false") return false;
      auto number = nlohmann::json::parse(text, nullptr, false);
      if (!number.is_discarded() && number.is_number()) return number;
      return text;
    }
    default: return nullptr;
  }
}

}  // namespace

std::string LoadMessageFile(const std::string& path, google::protobuf::Message* message) {
  std::ifstream file(path);
  if (!file) return "cannot read " + path;
  std::stringstream buffer;
  buffer << file.rdbuf();
  std::string text = buffer.str();
  auto json = nlohmann::json::parse(text, nullptr, false);
  if (json.is_discarded()) {
    try {
      json = ToJson(YAML::Load(text));
    } catch (const YAML::Exception& e) {
      return path + " is neither JSON nor YAML: " + e.what();
    }
  }
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto status = google::protobuf::util::JsonStringToMessage(json.dump(), message, options);
  if (!status.ok()) return path + ": " + std::string(status.message());
  return "";
}

}  // namespace berthctl
