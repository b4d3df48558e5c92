// The benchmarks' percentiles: the value at rank p (0..1) of the sorted samples, nearest rank;
// 0 for no samples.
#pragma once

#include <algorithm>
#include <vector>

namespace berth::bench {

inline double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[static_cast<size_t>(p * (values.size() - 1) + 0.5)];
}

}  // namespace berth::bench
