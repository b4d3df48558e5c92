#include "config/config.h"

#include <yaml-cpp/yaml.h>

#include <climits>
#include <nlohmann/json.hpp>
#include <set>

#include "base/file_util.h"
#include "base/logging.h"
#include "base/parse_number.h"

namespace berth {
namespace {

// A mapping key as text. YAML allows any node as a key ("? [a, b]: c"); as<std::string>() would
// throw on those, and berth.yaml's keys are all names.
Result<std::string> ReadKey(const YAML::Node& key, const std::string& where,
                            const std::string& source) {
  if (!key.IsScalar()) {
    return InvalidArgument(source + ": a key" + (where.empty() ? "" : " in \"" + where + "\"") +
                           " is not a name");
  }
  return key.Scalar();
}

Result<std::string> ReadString(const YAML::Node& node, const std::string& key,
                               const std::string& source) {
  if (!node.IsScalar()) {
    return InvalidArgument(source + ": key \"" + key + "\" must be a string");
  }
  return node.as<std::string>();
}

Result<std::vector<std::string>> ReadStringList(const YAML::Node& node, const std::string& key,
                                                const std::string& source) {
  if (!node.IsSequence()) return InvalidArgument(source + ": key \"" + key + "\" must be a list");
  std::vector<std::string> values;
  for (const auto& item : node) {
    BERTH_ASSIGN_OR_RETURN(std::string value, ReadString(item, key + "[]", source));
    values.push_back(std::move(value));
  }
  return values;
}

Result<RegistryAuth> ReadRegistryAuth(const YAML::Node& node, const std::string& key,
                                      const std::string& source) {
  if (!node.IsMap()) return InvalidArgument(source + ": key \"" + key + "\" must be a mapping");
  RegistryAuth auth;
  const std::pair<const char*, std::string RegistryAuth::*> fields[] = {
      {"username", &RegistryAuth::username},
      {"password", &RegistryAuth::password},
      {"auth", &RegistryAuth::auth},
      {"identity_token", &RegistryAuth::identity_token},
      {"registry_token", &RegistryAuth::registry_token},
  };
  for (const auto& entry : node) {
    BERTH_ASSIGN_OR_RETURN(std::string field, ReadKey(entry.first, key, source));
    bool known = false;
    for (const auto& [name, member] : fields) {
      if (field != name) continue;
      known = true;
      BERTH_ASSIGN_OR_RETURN(auth.*member, ReadString(entry.second, key + "." + field, source));
    }
    if (!known) return InvalidArgument(source + ": unknown key \"" + key + "." + field + "\"");
  }
  return auth;
}

Result<RegistryConfig> ReadRegistries(const YAML::Node& node, const std::string& source) {
  if (!node.IsMap()) return InvalidArgument(source + ": key \"registries\" must be a mapping");
  RegistryConfig registries;
  for (const auto& entry : node) {
    BERTH_ASSIGN_OR_RETURN(std::string key, ReadKey(entry.first, "registries", source));
    if (key == "mirrors" || key == "auths") {
      if (!entry.second.IsMap()) {
        return InvalidArgument(source + ": key \"registries." + key + "\" must be a mapping");
      }
      for (const auto& host : entry.second) {
        BERTH_ASSIGN_OR_RETURN(std::string host_name,
                               ReadKey(host.first, "registries." + key, source));
        std::string name = "registries." + key + "." + host_name;
        if (key == "mirrors") {
          BERTH_ASSIGN_OR_RETURN(registries.mirrors[host_name],
                                 ReadStringList(host.second, name, source));
        } else {
          BERTH_ASSIGN_OR_RETURN(registries.auths[host_name],
                                 ReadRegistryAuth(host.second, name, source));
        }
      }
    } else if (key == "insecure") {
      BERTH_ASSIGN_OR_RETURN(registries.insecure,
                             ReadStringList(entry.second, "registries.insecure", source));
    } else {
      return InvalidArgument(source + ": unknown key \"registries." + key + "\"");
    }
  }
  return registries;
}

Result<NetworkConfig> ReadNetwork(const YAML::Node& node, const std::string& source) {
  if (!node.IsMap()) return InvalidArgument(source + ": key \"network\" must be a mapping");
  NetworkConfig network;
  const std::pair<const char*, std::string NetworkConfig::*> strings[] = {
      {"mode", &NetworkConfig::mode},           {"bridge", &NetworkConfig::bridge},
      {"subnet", &NetworkConfig::subnet},       {"subnet_v6", &NetworkConfig::subnet_v6},
      {"nft_table", &NetworkConfig::nft_table}, {"cni_conf_dir", &NetworkConfig::cni_conf_dir},
  };
  for (const auto& entry : node) {
    BERTH_ASSIGN_OR_RETURN(std::string key, ReadKey(entry.first, "network", source));
    std::string name = "network." + key;
    if (key == "cni_bin_dirs") {
      BERTH_ASSIGN_OR_RETURN(network.cni_bin_dirs, ReadStringList(entry.second, name, source));
      continue;
    }
    bool known = false;
    for (const auto& [field, member] : strings) {
      if (key != field) continue;
      known = true;
      BERTH_ASSIGN_OR_RETURN(network.*member, ReadString(entry.second, name, source));
    }
    if (!known) return InvalidArgument(source + ": unknown key \"" + name + "\"");
  }
  return network;
}

// A decimal integer (berth's one number parser; yaml-cpp's as<int> also took hex and octal).
Result<int> ReadInt(const YAML::Node& node, const std::string& name, const std::string& source) {
  auto number = node.IsScalar() ? ParseInt64(node.Scalar(), INT_MIN, INT_MAX) : std::nullopt;
  if (!number) return InvalidArgument(source + ": key \"" + name + "\" must be a number");
  return static_cast<int>(*number);
}

Result<StreamingConfig> ReadStreaming(const YAML::Node& node, const std::string& source) {
  if (!node.IsMap()) return InvalidArgument(source + ": key \"streaming\" must be a mapping");
  StreamingConfig streaming;
  for (const auto& entry : node) {
    BERTH_ASSIGN_OR_RETURN(std::string key, ReadKey(entry.first, "streaming", source));
    std::string name = "streaming." + key;
    if (key == "address") {
      BERTH_ASSIGN_OR_RETURN(streaming.address, ReadString(entry.second, name, source));
    } else if (key == "port") {
      BERTH_ASSIGN_OR_RETURN(streaming.port, ReadInt(entry.second, name, source));
    } else if (key == "token_ttl_seconds") {
      BERTH_ASSIGN_OR_RETURN(streaming.token_ttl_seconds, ReadInt(entry.second, name, source));
    } else if (key == "tls_cert_file") {
      BERTH_ASSIGN_OR_RETURN(streaming.tls_cert_file, ReadString(entry.second, name, source));
    } else if (key == "tls_key_file") {
      BERTH_ASSIGN_OR_RETURN(streaming.tls_key_file, ReadString(entry.second, name, source));
    } else {
      return InvalidArgument(source + ": unknown key \"" + name + "\"");
    }
  }
  return streaming;
}

Result<MetricsConfig> ReadMetrics(const YAML::Node& node, const std::string& source) {
  if (!node.IsMap()) return InvalidArgument(source + ": key \"metrics\" must be a mapping");
  MetricsConfig metrics;
  for (const auto& entry : node) {
    BERTH_ASSIGN_OR_RETURN(std::string key, ReadKey(entry.first, "metrics", source));
    if (key != "address") return InvalidArgument(source + ": unknown key \"metrics." + key + "\"");
    BERTH_ASSIGN_OR_RETURN(metrics.address, ReadString(entry.second, "metrics.address", source));
  }
  return metrics;
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
      {"image_volumes", &Config::image_volumes},
  };
  for (const auto& entry : document) {
    BERTH_ASSIGN_OR_RETURN(std::string key, ReadKey(entry.first, "", source));
    if (key == "max_concurrent_downloads") {
      BERTH_ASSIGN_OR_RETURN(config.max_concurrent_downloads, ReadInt(entry.second, key, source));
      continue;
    }
    if (key == "streaming") {
      BERTH_ASSIGN_OR_RETURN(config.streaming, ReadStreaming(entry.second, source));
      continue;
    }
    if (key == "metrics") {
      BERTH_ASSIGN_OR_RETURN(config.metrics, ReadMetrics(entry.second, source));
      continue;
    }
    if (key == "registries") {
      BERTH_ASSIGN_OR_RETURN(config.registries, ReadRegistries(entry.second, source));
      continue;
    }
    if (key == "network") {
      BERTH_ASSIGN_OR_RETURN(config.network, ReadNetwork(entry.second, source));
      continue;
    }
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
  if (config.max_concurrent_downloads < 1 || config.max_concurrent_downloads > 64) {
    return InvalidArgument("max_concurrent_downloads must be between 1 and 64, got " +
                           std::to_string(config.max_concurrent_downloads));
  }
  if (config.image_volumes != "copy" && config.image_volumes != "mkdir" &&
      config.image_volumes != "ignore") {
    return InvalidArgument("image_volumes must be \"copy\", \"mkdir\" or \"ignore\", got \"" +
                           config.image_volumes + "\"");
  }
  const NetworkConfig& network = config.network;
  if (network.mode != "builtin" && network.mode != "cni") {
    return InvalidArgument("network.mode must be \"builtin\" or \"cni\", got \"" + network.mode +
                           "\"");
  }
  if (network.bridge.empty() || network.bridge.size() > 15 ||
      network.bridge.find_first_of("/ :") != std::string::npos) {
    return InvalidArgument(
        "network.bridge \"" + network.bridge +
        "\" is not a valid interface name (1-15 characters, no '/', ':' or ' ')");
  }
  if (network.subnet.find('/') == std::string::npos) {
    return InvalidArgument("network.subnet must be a CIDR such as 10.88.0.0/16, got \"" +
                           network.subnet + "\"");
  }
  if (network.nft_table.empty()) return InvalidArgument("network.nft_table must not be empty");
  if (config.streaming.address.empty())
    return InvalidArgument("streaming.address must not be empty");
  if (!config.metrics.address.empty() && config.metrics.address.find(':') == std::string::npos) {
    return InvalidArgument("metrics.address must be host:port (e.g. 127.0.0.1:9464), got \"" +
                           config.metrics.address + "\"");
  }
  if (!IsPort(config.streaming.port, /*zero_allowed=*/true)) {
    return InvalidArgument("streaming.port must be between 0 and 65535, got " +
                           std::to_string(config.streaming.port));
  }
  if (config.streaming.token_ttl_seconds < 1 || config.streaming.token_ttl_seconds > 3600) {
    return InvalidArgument("streaming.token_ttl_seconds must be between 1 and 3600, got " +
                           std::to_string(config.streaming.token_ttl_seconds));
  }
  if (config.streaming.tls_cert_file.empty() != config.streaming.tls_key_file.empty()) {
    return InvalidArgument(
        "streaming.tls_cert_file and streaming.tls_key_file must be set together");
  }
  // Whether this host can use "systemd" is berthd's start-up check (Cgroups::Configure).
  if (config.cgroup_driver != "cgroupfs" && config.cgroup_driver != "systemd") {
    return InvalidArgument("cgroup_driver must be \"cgroupfs\" or \"systemd\", got \"" +
                           config.cgroup_driver + "\"");
  }
  return Ok();
}

std::string ConfigToJson(const Config& config) {
  nlohmann::ordered_json json = {
      {"root", config.root},
      {"state", config.state},
      {"listen", config.listen},
      {"log_level", config.log_level},
      {"cgroup_driver", config.cgroup_driver},
      {"max_concurrent_downloads", config.max_concurrent_downloads},
      {"image_volumes", config.image_volumes},
  };
  // Credentials are never printed: only which hosts have some.
  nlohmann::ordered_json auth_hosts = nlohmann::ordered_json::array();
  for (const auto& [host, auth] : config.registries.auths) auth_hosts.push_back(host);
  json["network"] = {{"mode", config.network.mode},
                     {"bridge", config.network.bridge},
                     {"subnet", config.network.subnet},
                     {"subnet_v6", config.network.subnet_v6},
                     {"nft_table", config.network.nft_table},
                     {"cni_conf_dir", config.network.cni_conf_dir},
                     {"cni_bin_dirs", config.network.cni_bin_dirs}};
  json["streaming"] = {{"address", config.streaming.address},
                       {"port", config.streaming.port},
                       {"token_ttl_seconds", config.streaming.token_ttl_seconds},
                       {"tls_cert_file", config.streaming.tls_cert_file},
                       {"tls_key_file", config.streaming.tls_key_file}};
  json["metrics"] = {{"address", config.metrics.address}};
  json["registries"] = {{"mirrors", config.registries.mirrors},
                        {"insecure", config.registries.insecure},
                        {"auths", auth_hosts}};
  // YAML does not make values UTF-8 (a path may be any bytes) and JSON must be: what is not is
  // replaced (U+FFFD) rather than thrown about.
  return json.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace berth
