// Structure-aware half of the fuzz targets: builds JSON from fuzz bytes. Raw-byte fuzzing rarely
// gets past the JSON grammar to the semantic bugs (a key of the wrong type, a product of dims that
// overflows, a zero dim hiding a huge one): libFuzzer's integer mutator never adds digits, and a
// wrong-typed key needs several coordinated edits. Here every byte string decodes to a well-formed
// document whose numbers are drawn from edge cases, so those bugs are one mutation away.
#pragma once

#include <fuzzer/FuzzedDataProvider.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <limits>
#include <string>

namespace fuzz {

// An integer with edge cases over-represented: 2^k + {-1, 0, 1} for every k, 0, extremes.
inline int64_t edge_int(FuzzedDataProvider& p) {
  switch (p.ConsumeIntegralInRange(0, 5)) {
    case 0: return p.ConsumeIntegralInRange<int64_t>(0, 16);
    case 1: {
      const int k = p.ConsumeIntegralInRange(0, 62);
      return (int64_t(1) << k) + p.ConsumeIntegralInRange<int64_t>(-1, 1);
    }
    case 2: return p.PickValueInArray({std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min(),
                                       int64_t(-1), int64_t(0), int64_t(1)});
    default: return p.ConsumeIntegral<int64_t>();
  }
}

inline double edge_double(FuzzedDataProvider& p) {
  return p.PickValueInArray({0.0, -0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 1e-300, 4.9e-324, 1e300,
                             std::numeric_limits<double>::max(), -1.0, p.ConsumeFloatingPoint<double>()});
}

// Any JSON value; `words` supplies plausible strings and object keys.
template <size_t N>
nlohmann::json any_value(FuzzedDataProvider& p, const char* const (&words)[N], int depth = 0) {
  switch (p.ConsumeIntegralInRange(0, depth < 3 ? 9 : 6)) {
    case 0: return nullptr;
    case 1: return p.ConsumeBool();
    case 2: return edge_int(p);
    case 3: return uint64_t(edge_int(p)) | (uint64_t(p.ConsumeBool()) << 63);  // unsigned, maybe >= 2^63
    case 4: return edge_double(p);
    case 5: return std::string(p.PickValueInArray(words));
    case 6: return p.ConsumeRandomLengthString(16);
    case 7: {
      nlohmann::json a = nlohmann::json::array();
      for (int n = p.ConsumeIntegralInRange(0, 4); n > 0; --n) a.push_back(any_value(p, words, depth + 1));
      return a;
    }
    default: {
      nlohmann::json o = nlohmann::json::object();
      for (int n = p.ConsumeIntegralInRange(0, 4); n > 0; --n)
        o[p.PickValueInArray(words)] = any_value(p, words, depth + 1);
      return o;
    }
  }
}

}  // namespace fuzz
