// What ladder-allreduce computes about each all-reduce: nccl-tests' bandwidths, OSU's overlap,
// and the exact check (inputs whose sum is exact in any order, compared element by element).
#pragma once

#include "core/types.hpp"

#include <cstdint>

namespace lb {

// nccl-tests' definitions for all-reduce: algbw = bytes / time; busbw = algbw * 2(n-1)/n, the
// bandwidth each link of a ring needs, comparable across rank counts (0 at one rank).
inline double allreduce_bus_factor(int ranks) { return ranks > 1 ? 2.0 * (ranks - 1) / ranks : 0.0; }
inline double algbw(int64_t bytes, double seconds) { return double(bytes) / seconds; }
inline double busbw(int64_t bytes, double seconds, int ranks) {
  return algbw(bytes, seconds) * allreduce_bus_factor(ranks);
}
// OSU's overlap of a non-blocking collective, clamped to [0, 100] (noise can push it outside).
double overlap_percent(double overall_s, double compute_s, double pure_comm_s);

// The exact-check inputs: rank r contributes (r+1)*(i%7)+r at element i; every partial sum is a
// non-negative integer below 2^24, so float sums are exact in any order (up to max_exact_ranks()).
KOKKOS_INLINE_FUNCTION real allreduce_input(int64_t rank, int64_t i) { return real((rank + 1) * (i % 7) + rank); }
KOKKOS_INLINE_FUNCTION real allreduce_expected(int64_t ranks, int64_t i) {
  return real((i % 7) * (ranks * (ranks + 1) / 2) + ranks * (ranks - 1) / 2);
}
int64_t max_exact_ranks();

// Device kernels (no fence): buf[0, n) = this rank's input; the number of elements of buf[0, n)
// that differ from the sum over `ranks`; a dependent-FMA loop of `reps` steps over v.
void fill_allreduce_input(real* buf, int64_t n, int rank);
int64_t count_allreduce_wrong(const real* buf, int64_t n, int ranks);
void synthetic_compute(const Vec& v, int64_t reps);

}  // namespace lb
