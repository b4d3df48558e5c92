#include "metrics/registry.h"

#include <cmath>
#include <cstdio>
#include <limits>

namespace berth::metrics {
namespace {

std::string FormatNumber(double value) {
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (std::isnan(value)) return "NaN";
  char buffer[64];
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    std::snprintf(buffer, sizeof buffer, "%.0f", value);
  } else {
    std::snprintf(buffer, sizeof buffer, "%.9g", value);
  }
  return buffer;
}

std::string FormatLabels(const Labels& labels, const std::string& extra_name = "",
                         const std::string& extra_value = "") {
  if (labels.empty() && extra_name.empty()) return "";
  std::string text = "{";
  bool first = true;
  for (const auto& [name, value] : labels) {
    if (!first) text += ",";
    first = false;
    text += name + "=\"" + EscapeLabelValue(value) + "\"";
  }
  if (!extra_name.empty()) {
    if (!first) text += ",";
    text += extra_name + "=\"" + extra_value + "\"";
  }
  return text + "}";
}

// HELP text escaping: backslash and newline.
std::string EscapeHelp(const std::string& help) {
  std::string out;
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::string EscapeLabelValue(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void Registry::DefineCounter(const std::string& name, const std::string& help) {
  std::lock_guard lock(mutex_);
  auto& family = families_[name];
  family.type = Type::kCounter;
  family.help = help;
}

void Registry::DefineGauge(const std::string& name, const std::string& help) {
  std::lock_guard lock(mutex_);
  auto& family = families_[name];
  family.type = Type::kGauge;
  family.help = help;
}

void Registry::DefineHistogram(const std::string& name, const std::string& help,
                               std::vector<double> buckets) {
  std::lock_guard lock(mutex_);
  auto& family = families_[name];
  family.type = Type::kHistogram;
  family.help = help;
  family.buckets = std::move(buckets);
}

Registry::Family* Registry::Find(const std::string& name, Type type) {
  auto found = families_.find(name);
  if (found == families_.end() || found->second.type != type) return nullptr;
  return &found->second;
}

void Registry::Increment(const std::string& name, const Labels& labels, double by) {
  std::lock_guard lock(mutex_);
  if (Family* family = Find(name, Type::kCounter)) family->series[labels].value += by;
}

void Registry::Set(const std::string& name, const Labels& labels, double value) {
  std::lock_guard lock(mutex_);
  if (Family* family = Find(name, Type::kGauge)) family->series[labels].value = value;
}

void Registry::ClearGauge(const std::string& name) {
  std::lock_guard lock(mutex_);
  if (Family* family = Find(name, Type::kGauge)) family->series.clear();
}

void Registry::Observe(const std::string& name, const Labels& labels, double value) {
  std::lock_guard lock(mutex_);
  Family* family = Find(name, Type::kHistogram);
  if (!family) return;
  Series& series = family->series[labels];
  series.bucket_counts.resize(family->buckets.size() + 1);
  size_t bucket = 0;
  while (bucket < family->buckets.size() && value > family->buckets[bucket]) ++bucket;
  ++series.bucket_counts[bucket];
  ++series.count;
  series.sum += value;
}

void Registry::AddCollector(std::function<void(Registry&)> collector) {
  std::lock_guard lock(collectors_mutex_);
  collectors_.push_back(std::move(collector));
}

void Registry::ClearCollectors() {
  std::lock_guard lock(collectors_mutex_);
  collectors_.clear();
  // The process_* collector goes too; DefineBerthMetrics adds it again.
}

std::string Registry::Render() {
  {
    // Collectors call Set: they run before the families' lock is taken.
    std::lock_guard lock(collectors_mutex_);
    for (const auto& collector : collectors_) collector(*this);
  }
  std::lock_guard lock(mutex_);
  std::string text;
  for (const auto& [name, family] : families_) {
    const char* type = family.type == Type::kCounter ? "counter"
                       : family.type == Type::kGauge ? "gauge"
                                                     : "histogram";
    text += "# HELP " + name + " " + EscapeHelp(family.help) + "\n";
    text += "# TYPE " + name + " " + type + "\n";
    for (const auto& [labels, series] : family.series) {
      if (family.type != Type::kHistogram) {
        text += name + FormatLabels(labels) + " " + FormatNumber(series.value) + "\n";
        continue;
      }
      uint64_t cumulative = 0;
      for (size_t i = 0; i <= family.buckets.size(); ++i) {
        cumulative += i < series.bucket_counts.size() ? series.bucket_counts[i] : 0;
        std::string bound = i < family.buckets.size() ? FormatNumber(family.buckets[i]) : "+Inf";
        text += name + "_bucket" + FormatLabels(labels, "le", bound) + " " +
                std::to_string(cumulative) + "\n";
      }
      text += name + "_sum" + FormatLabels(labels) + " " + FormatNumber(series.sum) + "\n";
      text += name + "_count" + FormatLabels(labels) + " " + std::to_string(series.count) + "\n";
    }
  }
  return text;
}

Registry& DefaultRegistry() {
  static Registry* registry = new Registry();  // never destroyed: threads may count at exit
  return *registry;
}

}  // namespace berth::metrics
