// Counter-based random weights: element i of tensor `name` is a pure function of (seed, name, i).
// Every rank can therefore generate exactly its own shard, and the full model is the same for any
// TP degree — which is what makes "TP=P equals TP=1" testable with random weights.
#pragma once

#include <cmath>
#include <cstdint>
#include <string_view>

namespace lb {

inline uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// FNV-1a: a stable id for a tensor name (std::hash is not stable across library versions).
inline uint64_t name_hash(std::string_view name) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : name) h = (h ^ c) * 1099511628211ull;
  return h;
}

// Uniform in (0, 1] from the top 53 bits, never 0 so log() below is finite.
inline double unit_uniform(uint64_t bits) { return (double((bits >> 11) + 1)) * 0x1.0p-53; }

// N(0, stddev) by Box–Muller on two decorrelated counters.
inline float normal_at(uint64_t seed, uint64_t tensor, uint64_t index, double stddev) {
  const uint64_t key = splitmix64(seed ^ splitmix64(tensor));
  const double u1 = unit_uniform(splitmix64(key ^ (2 * index)));
  const double u2 = unit_uniform(splitmix64(key ^ (2 * index + 1)));
  return float(stddev * std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2));
}

}  // namespace lb
