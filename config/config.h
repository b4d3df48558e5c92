// berthd's configuration: defaults, the YAML file (/etc/berth/berth.yaml) and flag overrides.
// Every key is documented with its default in config/berth.example.yaml and in the README.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/result.h"

namespace berth {

inline constexpr char kDefaultConfigPath[] = "/etc/berth/berth.yaml";

// Credentials for one registry host, the same fields as the CRI's AuthConfig. Never logged.
struct RegistryAuth {
  std::string username;
  std::string password;
  std::string auth;            // base64("username:password"), as in a docker config.json
  std::string identity_token;  // OAuth2 refresh token exchanged at the token service
  std::string registry_token;  // a bearer token sent as it is
};

struct RegistryConfig {
  // Registry host ("docker.io", "registry.local:5000") -> endpoints tried in order before the
  // host itself, each "scheme://host[:port]" (a bare host means https).
  std::map<std::string, std::vector<std::string>> mirrors;
  // Hosts ("host[:port]") that may be reached over plain HTTP or HTTPS without verification.
  std::vector<std::string> insecure;
  // Registry host -> credentials, used when a pull request carries none.
  std::map<std::string, RegistryAuth> auths;
};

struct NetworkConfig {
  // "builtin": berth's own bridge, veth, IPAM and nftables NAT; "cni": CNI plugins.
  std::string mode = "builtin";
  // builtin: the bridge, the pod subnets (IPv4 required, IPv6 optional for dual stack) and the
  // nftables table berth owns.
  std::string bridge = "berth0";
  std::string subnet = "10.88.0.0/16";
  std::string subnet_v6;
  std::string nft_table = "berth";
  // cni: where configs and plugins are.
  std::string cni_conf_dir = "/etc/cni/net.d";
  std::vector<std::string> cni_bin_dirs = {"/opt/cni/bin", "/usr/lib/cni"};
};

// The streaming server that CRI Exec/Attach/PortForward URLs point at.
struct StreamingConfig {
  // Where it listens; loopback by default (kubelet on the same node proxies to it).
  std::string address = "127.0.0.1";
  int port = 0;  // 0: a free port chosen at start
  // How long an Exec/Attach/PortForward URL stays usable (each works once).
  int token_ttl_seconds = 60;
  // TLS: a PEM certificate chain and its private key, both or neither; empty: plain HTTP.
  std::string tls_cert_file;
  std::string tls_key_file;
};

// berthd's own Prometheus metrics (README: "Metrics").
struct MetricsConfig {
  // "host:port" of the text endpoint (GET /metrics), an IP address; port 0 picks a free one.
  // Empty: off.
  std::string address;
};

struct Config {
  // Persistent data: metadata DB, content store, snapshots, bundles.
  std::string root = "/var/lib/berth";
  // Runtime state that does not survive a reboot: pinned namespaces, monitor sockets, locks.
  std::string state = "/run/berth";
  // The CRI socket.
  std::string listen = "/run/berth/berth.sock";
  std::string log_level = "info";
  // "cgroupfs" or "systemd" (pure cgroup v2 with systemd as PID 1; elsewhere refused at start).
  std::string cgroup_driver = "cgroupfs";
  // Layer downloads one pull runs at once.
  int max_concurrent_downloads = 3;
  // What a container gets at its image's VOLUMEs: "copy" (a directory of its own seeded with the
  // image's content there), "mkdir" (an empty one) or "ignore" (nothing: part of the rootfs).
  std::string image_volumes = "copy";
  NetworkConfig network;
  // Registry mirrors, insecure hosts and credentials for image pulls.
  RegistryConfig registries;
  StreamingConfig streaming;
  MetricsConfig metrics;
};

// Parses YAML text; `source` names it in error messages. Unknown keys and wrong types are
// InvalidArgument (a typo in berth.yaml must not be silently ignored).
Result<Config> ParseConfig(const std::string& yaml_text, const std::string& source);

// Loads `path`. A missing file gives the defaults when `missing_ok` (the default path), and an
// error otherwise (a path the user named explicitly).
Result<Config> LoadConfig(const std::string& path, bool missing_ok);

// Checks values that do not depend on the host: absolute paths, known enum values.
Result<void> ValidateConfig(const Config& config);

// The effective configuration as YAML, in the same shape as the file (for `Status` verbose info).
std::string ConfigToJson(const Config& config);

}  // namespace berth
