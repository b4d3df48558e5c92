// Sysctls: the one place a sysctl name becomes its /proc/sys file and a value is written to it.
// /proc/sys files act on the namespaces of the thread that opens them, so callers that set a
// pod's sysctls run these on a thread inside the pod's namespaces (base/namespaces.h).
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace berth {

// "net.ipv4.ip_forward" -> "/proc/sys/net/ipv4/ip_forward". A name with a '/' is taken as the
// slash form, whose components may hold dots ("net/ipv4/conf/eth0.100/forwarding"), as the
// sysctl tool and Kubernetes take it.
std::string SysctlPath(std::string_view name);

// Writes `value`; a sysctl this kernel does not have is InvalidArgument.
Result<void> WriteSysctl(std::string_view name, std::string_view value);

// Writes `value` only when the sysctl differs (some writes have side effects on every interface,
// as net.ipv6.conf.all.forwarding does).
Result<void> EnsureSysctl(std::string_view name, std::string_view value);

}  // namespace berth
