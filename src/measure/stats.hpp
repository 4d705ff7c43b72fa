// Summary statistics of timing samples (median and spread; warm-ups are never passed in).
#pragma once

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace lb {

struct Summary {
  double median = 0, mean = 0, stddev = 0, min = 0, max = 0, p95 = 0, cv = 0;
};

// Linear-interpolated quantile (numpy's default), q in [0, 1].
inline double quantile(std::vector<double> v, double q) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  const double pos = q * double(v.size() - 1);
  const size_t lo = size_t(std::floor(pos)), hi = size_t(std::ceil(pos));
  return v[lo] + (v[hi] - v[lo]) * (pos - double(lo));
}

inline Summary summarize(const std::vector<double>& v) {
  Summary s;
  if (v.empty()) return s;
  s.median = quantile(v, 0.5);
  s.p95 = quantile(v, 0.95);
  s.min = *std::min_element(v.begin(), v.end());
  s.max = *std::max_element(v.begin(), v.end());
  s.mean = std::accumulate(v.begin(), v.end(), 0.0) / double(v.size());
  double ss = 0;
  for (double x : v) ss += (x - s.mean) * (x - s.mean);
  s.stddev = v.size() > 1 ? std::sqrt(ss / double(v.size() - 1)) : 0;
  s.cv = s.mean != 0 ? s.stddev / s.mean : 0;
  return s;
}

}  // namespace lb
