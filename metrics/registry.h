// berthd's own metrics for operators, in the Prometheus text exposition format (version 0.0.4):
// counters, gauges and histograms with labels, plus collectors that compute gauges at scrape
// time (pods by state, process RSS...). One process-wide registry (DefaultRegistry), so that any
// layer can count what it does without the registry being passed through every constructor.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace berth::metrics {

// Label names and values, in the order the family declares them.
using Labels = std::vector<std::pair<std::string, std::string>>;

class Registry {
 public:
  void DefineCounter(const std::string& name, const std::string& help);
  void DefineGauge(const std::string& name, const std::string& help);
  // `buckets`: the upper bounds, ascending (+Inf is added).
  void DefineHistogram(const std::string& name, const std::string& help,
                       std::vector<double> buckets);

  // On a family that was not defined (or of another type) these do nothing.
  void Increment(const std::string& name, const Labels& labels, double by = 1);
  void Set(const std::string& name, const Labels& labels, double value);
  void Observe(const std::string& name, const Labels& labels, double value);
  // Drops every series of a gauge family (a collector that sets all it has each scrape).
  void ClearGauge(const std::string& name);

  // Run at each Render, before the text is made (they may Set gauges).
  void AddCollector(std::function<void(Registry&)> collector);
  void ClearCollectors();

  // The whole registry as Prometheus text, families sorted by name.
  std::string Render();

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  struct Series {
    double value = 0;                     // counter, gauge
    std::vector<uint64_t> bucket_counts;  // histogram: per bucket (not cumulative)
    uint64_t count = 0;
    double sum = 0;
  };
  struct Family {
    Type type = Type::kCounter;
    std::string help;
    std::vector<double> buckets;
    std::map<Labels, Series> series;
  };
  Family* Find(const std::string& name, Type type);

  std::mutex mutex_;
  std::map<std::string, Family> families_;
  std::mutex collectors_mutex_;
  std::vector<std::function<void(Registry&)>> collectors_;
};

Registry& DefaultRegistry();

// Prometheus label value escaping: backslash, double quote and newline.
std::string EscapeLabelValue(const std::string& value);

}  // namespace berth::metrics
