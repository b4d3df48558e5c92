#include "pod/sandbox_files.h"

#include <arpa/inet.h>

namespace berth::pod {

std::string HostnameFile(const std::string& hostname) {
  return hostname + "\n";
}

std::string HostsFile(const std::string& hostname, const std::vector<std::string>& ips) {
  std::string text =
      "# Kubernetes-managed hosts file (written by berth).\n"
      "127.0.0.1\tlocalhost\n"
      "::1\tlocalhost ip6-localhost ip6-loopback\n"
      "fe00::0\tip6-localnet\n"
      "fe00::0\tip6-mcastprefix\n"
      "fe00::1\tip6-allnodes\n"
      "fe00::2\tip6-allrouters\n";
  for (const auto& ip : ips) text += ip + "\t" + hostname + "\n";
  return text;
}

std::string ResolvConf(const DnsConfig& dns) {
  std::string text;
  if (!dns.searches.empty()) {
    text += "search";
    for (const auto& search : dns.searches) text += " " + search;
    text += "\n";
  }
  for (const auto& server : dns.servers) text += "nameserver " + server + "\n";
  if (!dns.options.empty()) {
    text += "options";
    for (const auto& option : dns.options) text += " " + option;
    text += "\n";
  }
  return text;
}

Result<void> ValidateDns(const DnsConfig& dns) {
  for (const auto& server : dns.servers) {
    unsigned char buffer[16];
    if (inet_pton(AF_INET, server.c_str(), buffer) != 1 &&
        inet_pton(AF_INET6, server.c_str(), buffer) != 1) {
      return InvalidArgument("DNS server \"" + server + "\" is not an IP address");
    }
  }
  auto bad_word = [](const std::string& word) {
    return word.empty() || word.find_first_of(" \t\n#;") != std::string::npos;
  };
  for (const auto& search : dns.searches) {
    if (bad_word(search)) return InvalidArgument("DNS search domain \"" + search + "\" is invalid");
  }
  for (const auto& option : dns.options) {
    if (bad_word(option)) return InvalidArgument("DNS option \"" + option + "\" is invalid");
  }
  return Ok();
}

}  // namespace berth::pod
