// Fuzz target: what a CNI plugin prints (cni/plugin/protocol) — an ADD result or an error object
// — and what berth does with a result: the pod IPs, prevResult in the next plugin's input, the
// result cache entry written and read back. The same input is also read as a cache entry and as a
// network config file, the other JSON the plugin path parses.
#include <cstdint>
#include <string>
#include <string_view>

#include "cni/plugin/network_list.h"
#include "cni/plugin/protocol.h"
#include "cni/plugin/result_cache.h"
#include "test/fuzz/fuzz_check.h"

using namespace berth::cni;

namespace {

const NetworkList& Network() {
  static const NetworkList network = [] {
    auto parsed =
        ParseNetworkList(R"({"cniVersion":"1.0.0","name":"fuzz","plugins":[{"type":"bridge"},)"
                         R"({"type":"portmap","capabilities":{"portMappings":true}}]})",
                         "fuzz.conflist");
    BERTH_FUZZ_CHECK(parsed.ok(), "the fixed network list does not parse");
    return *parsed;
  }();
  return network;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view out(reinterpret_cast<const char*>(data), size);
  if (auto error = ParsePluginError(out)) (void)ErrorCodeForPlugin(error->code);

  if (auto result = ParseAddResult(out); result.ok()) {
    BERTH_FUZZ_CHECK(result->is_object(), "a result that is not an object");
    if (auto ips = PodIpsFromResult(*result, "eth0"); ips.ok()) {
      for (const std::string& ip : *ips) BERTH_FUZZ_CHECK(!ip.empty(), "an empty pod IP");
    }
    const NetworkList& network = Network();
    auto capability_args = BuildCapabilityArgs({}, "10.88.0.0/16");
    for (const PluginConfig& plugin : network.plugins) {
      (void)BuildPluginInput(network, plugin, capability_args, &*result);
    }
    CacheEntry entry;
    entry.container_id = "0123456789abcdef";
    entry.network = network;
    entry.result = *result;
    auto cached = ParseCacheEntry(SerializeCacheEntry(entry), "cache");
    BERTH_FUZZ_CHECK(cached.ok(), "a cache entry berth wrote does not parse");
    BERTH_FUZZ_CHECK(cached->result == *result, "the result changed through the cache");
  }

  if (auto entry = ParseCacheEntry(std::string(out), "cache"); entry.ok()) {
    (void)SerializeCacheEntry(*entry);
  }
  for (const char* path : {"/etc/cni/net.d/10-fuzz.conflist", "/etc/cni/net.d/10-fuzz.conf"}) {
    if (auto network = ParseNetworkFile(out, path); network.ok()) (void)network->ToJson().dump();
  }
  return 0;
}
