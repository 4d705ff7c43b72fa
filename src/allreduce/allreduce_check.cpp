#include "allreduce/allreduce_check.hpp"

#include <algorithm>

namespace lb {
namespace {

using Unmanaged = Kokkos::View<real*, MemSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>>;
using ConstUnmanaged = Kokkos::View<const real*, MemSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>>;

}  // namespace

double overlap_percent(double overall_s, double compute_s, double pure_comm_s) {
  if (!(pure_comm_s > 0)) return 0;
  return std::clamp(100.0 * (1.0 - (overall_s - compute_s) / pure_comm_s), 0.0, 100.0);
}

int64_t max_exact_ranks() {
  int64_t p = 1;
  // The largest element is the sum at i%7 == 6.
  while (6 * ((p + 1) * (p + 2) / 2) + (p + 1) * p / 2 < (int64_t(1) << 24)) ++p;
  return p;
}

void fill_allreduce_input(real* buf, int64_t n, int rank) {
  const Unmanaged v(buf, size_t(n));
  const int64_t r = rank;
  Kokkos::parallel_for("allreduce_fill", Range(0, n), KOKKOS_LAMBDA(const int64_t i) { v(i) = allreduce_input(r, i); });
}

int64_t count_allreduce_wrong(const real* buf, int64_t n, int ranks) {
  const ConstUnmanaged v(buf, size_t(n));
  const int64_t p = ranks;
  int64_t wrong = 0;
  Kokkos::parallel_reduce(
      "allreduce_check", Range(0, n),
      KOKKOS_LAMBDA(const int64_t i, int64_t& w) {
        if (v(i) != allreduce_expected(p, i)) ++w;
      },
      wrong);
  return wrong;
}

void synthetic_compute(const Vec& v, int64_t reps) {
  Kokkos::parallel_for("synthetic_compute", Range(0, int64_t(v.extent(0))), KOKKOS_LAMBDA(const int64_t i) {
    real x = v(i);
    for (int64_t k = 0; k < reps; ++k) x = x * real(0.999999) + real(1e-6);
    v(i) = x;
  });
}

}  // namespace lb
