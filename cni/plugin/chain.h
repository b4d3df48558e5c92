// Running a network's plugin list per the CNI spec: ADD in order, each plugin getting the previous
// one's result as prevResult; DEL in reverse order with the cached ADD result; CHECK in order with
// the cached result; STATUS (1.1.0) in order.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/result.h"
#include "cni/plugin/network_list.h"
#include "cni/plugin/plugin_exec.h"

namespace berth::cni {

struct ChainRequest {
  const NetworkList* network = nullptr;
  std::vector<std::string> bin_dirs;
  std::string container_id;
  std::string netns;  // empty on DEL when the namespace is gone
  std::string ifname = "eth0";
  std::string cni_args;
  nlohmann::json capability_args = nlohmann::json::object();
  ExecLimits limits;
};

// The first executable file named `type` in the bin dirs.
Result<std::string> FindPlugin(const std::string& type, const std::vector<std::string>& bin_dirs);

// ADD through the whole list; returns the last plugin's result. When a plugin fails, the plugins
// that ran (the failing one included: it may have half-done its work) get a DEL in reverse order
// before the error is returned.
Result<nlohmann::json> RunAdd(const ChainRequest& request);

// DEL through the list in reverse. `cached_result` (may be null) is the ADD result; it is passed
// as prevResult from 0.4.0 on. Every plugin is run even after one fails (so one broken plugin does
// not keep the others' resources); the first error is returned.
Result<void> RunDel(const ChainRequest& request, const nlohmann::json* cached_result);

// CHECK in order with the cached result; a no-op for 0.3.x and when disableCheck is set.
Result<void> RunCheck(const ChainRequest& request, const nlohmann::json& cached_result);

// STATUS in order (networks of cniVersion 1.1.0 and later; a no-op before).
Result<void> RunStatus(const ChainRequest& request);

}  // namespace berth::cni
