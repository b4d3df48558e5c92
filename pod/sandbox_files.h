// The files a pod's containers share: /etc/hostname, /etc/hosts and /etc/resolv.conf.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "pod/sandbox.h"

namespace berth::pod {

std::string HostnameFile(const std::string& hostname);
// localhost entries, then each pod IP with the hostname (the way kubelet's own hosts file looks).
std::string HostsFile(const std::string& hostname, const std::vector<std::string>& ips);
// From DNSConfig. Empty when it holds nothing (the caller then uses the host's file or none).
std::string ResolvConf(const DnsConfig& dns);

// Checks DNSConfig against resolv.conf's own limits; bad input is InvalidArgument.
Result<void> ValidateDns(const DnsConfig& dns);

}  // namespace berth::pod
