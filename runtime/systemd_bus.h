// systemd's manager over D-Bus (libsystemd's sd-bus): the few calls the systemd cgroup driver
// makes. One connection per process, opened on first use (systemd's private socket
// /run/systemd/private when it is there, as systemctl does as root, else the system bus), guarded
// by a lock (sd-bus is not thread-safe) and opened again once after a lost connection.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "base/result.h"

namespace berth::systemd {

// A unit property: its D-Bus type follows from the value (b, t, s, au, ay).
struct Property {
  std::string name;
  std::variant<bool, uint64_t, std::string, std::vector<uint32_t>, std::vector<uint8_t>> value;
};

// systemd's "infinity" for t-typed limits.
inline constexpr uint64_t kInfinity = UINT64_MAX;

// Whether systemd runs as PID 1 (sd_booted: /run/systemd/system exists).
bool Booted();

// StartTransientUnit(name, "fail", properties) and waits for its job; an error names the unit
// and the job's result ("failed", "timeout"...) or systemd's D-Bus error.
Result<void> StartTransientUnit(const std::string& name, const std::vector<Property>& properties,
                                std::chrono::seconds timeout = std::chrono::seconds(30));
// StopUnit(name, "replace") and waits for its job; a unit systemd does not know is fine.
Result<void> StopUnit(const std::string& name,
                      std::chrono::seconds timeout = std::chrono::seconds(30));
// SetUnitProperties(name, runtime=true, properties): limits on a live unit.
Result<void> SetUnitProperties(const std::string& name, const std::vector<Property>& properties);
// Whether systemd has the unit loaded (GetUnit).
Result<bool> UnitLoaded(const std::string& name);

}  // namespace berth::systemd
