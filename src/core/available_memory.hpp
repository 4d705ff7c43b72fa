// How much memory this process may still allocate, read before any large allocation so that a
// configuration that cannot fit is refused by name instead of failing inside an allocator.
#pragma once

#include <string>

namespace lb {

struct AvailableMemory {
  double bytes = 0;    // what may still be allocated
  std::string source;  // where the number comes from, for messages: "MemAvailable 20.1 GiB"
};

// The host: MemAvailable from /proc/meminfo, lowered to the memory cgroup's headroom (limit minus
// usage not reclaimable, v2 or v1, at every level up to the root) where a limit is set.
// Throws UserError if /proc/meminfo cannot be read.
AvailableMemory host_available_memory();

#ifdef LADDERBENCH_CUDA
// The current device: cudaMemGetInfo's free memory. Throws UserError if no device answers.
AvailableMemory device_available_memory();
#endif

}  // namespace lb
