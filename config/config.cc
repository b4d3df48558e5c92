#include "config/config.h"

#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>
#include <set>

#include "base/file_util.h"
#include "base/logging.h"

namespace berth {
namespace {

Result<std::string> ReadString(const YAML::Node& node, const std::string& key,
                               const std::string& source) {
  if (!node.IsScalar()) {
    return InvalidArgument(source + ": key \"" + key + "\" must be a string");
  }
  return node.as<std::string>();
}

}  // namespace

Result<Config> ParseConfig(const std::string& yaml_text, const std::string& source) {
  YAML::Node document;
  try {
    document = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    return InvalidArgument(source + ": not valid YAML: " + e.what());
  }
  Config config;
  if (document.IsNull()) return config;  // an empty file means all defaults
  if (!document.IsMap()) return InvalidArgument(source + ": the top level must be a mapping");

  struct StringKey {
    const char* name;
    std::string Config::*field;
  };
  static const StringKey kStringKeys[] = {
      {"root", &Config::root},
      {"state", &Config::state},
      {"listen", &Config::listen},
      {"log_level", &Config::log_level},
      {"cgroup_driver", &Config::cgroup_driver},
  };
  for (const auto& entry : document) {
    std::string key = entry.first.as<std::string>();
    const StringKey* known = nullptr;
    for (const auto& candidate : kStringKeys) {
      if (key == candidate.name) known = &candidate;
    }
    if (known == nullptr) return InvalidArgument(source + ": unknown key \"" + key + "\"");
    BERTH_ASSIGN_OR_RETURN(config.*(known->field), ReadString(entry.second, key, source));
  }
  return config;
}

Result<Config> LoadConfig(const std::string& path, bool missing_ok) {
  if (missing_ok && !PathExists(path)) return Config{};
  auto text = ReadFile(path, 1 << 20);
  if (!text) return std::move(text).error().Wrap("read config file");
  return ParseConfig(*text, path);
}

Result<void> ValidateConfig(const Config& config) {
  const std::pair<const char*, const std::string*> paths[] = {
      {"root", &config.root}, {"state", &config.state}, {"listen", &config.listen}};
  for (const auto& [name, value] : paths) {
    if (value->empty() || value->front() != '/') {
      return InvalidArgument(std::string(name) + " must be an absolute path, got \"" + *value +
                             "\"");
    }
  }
  if (auto level = ParseLogLevel(config.log_level); !level) return level.error().Wrap("log_level");
  if (config.cgroup_driver == "systemd") {
    return InvalidArgument(
        "cgroup_driver \"systemd\" is not supported yet; use \"cgroupfs\" (kubelet's "
        "--cgroup-driver=cgroupfs)");
  }
  if (config.cgroup_driver != "cgroupfs") {
    return InvalidArgument("cgroup_driver must be \"cgroupfs\", got \"" + config.cgroup_driver +
                           "\"");
  }
  return Ok();
}

std::string ConfigToJson(const Config& config) {
  nlohmann::ordered_json json = {
      {"root", config.root},           {"state", config.state},
      {"listen", config.listen},       {"log_level", config.log_level},
      {"cgroup_driver", config.cgroup_driver},
  };
  return json.dump();
}

}  // namespace berth
