// Bias addition of a linear layer whose output lies in a column block of a wider matrix (the
// fused [q | k | v | gate | up] projection) or fills it (o_proj, down_proj).
#pragma once

#include "kernels/kernels.hpp"

namespace lb {

// x[t, col0 + j] += bias[j] for every row t and j < bias.extent(0).
inline void add_bias(const Mat& x, int64_t col0, const Vec& bias) {
  for_each_element("add_bias", x.extent(0), bias.extent(0),
                   KOKKOS_LAMBDA(const int64_t t, const int64_t j) { x(t, col0 + j) += bias(j); });
}

}  // namespace lb
