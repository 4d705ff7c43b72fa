// Host loops worth threads: the weight set-up of large models (an 8B model is 8e9 random values,
// then 8e9 conversions to bf16), which otherwise eats minutes of a short GPU lease.
#pragma once

#include <algorithm>
#include <cstdint>
#include <thread>
#include <vector>

namespace lb {

// Calls body(begin, end) on disjoint ranges covering [0, n), on up to hardware_concurrency threads
// with at least `grain` items each (one call on this thread when n < 2 * grain).
template <class Body>
void host_parallel_ranges(int64_t n, int64_t grain, const Body& body) {
  const int64_t threads =
      std::min<int64_t>(std::max(1u, std::thread::hardware_concurrency()), n / std::max<int64_t>(grain, 1));
  if (threads <= 1) return body(int64_t(0), n);
  std::vector<std::thread> pool;
  for (int64_t i = 0; i < threads; ++i) pool.emplace_back(body, n * i / threads, n * (i + 1) / threads);
  for (auto& t : pool) t.join();
}

}  // namespace lb
