// Emulated interconnect on the GPU: a kernel that occupies a stream for a given time. Enqueued on
// the communication stream right after the all-reduce, it delays the completion event exactly as a
// slower all-reduce would, so the emulation overlaps compute wherever the schedule lets the real
// all-reduce overlap (the GPU counterpart of the MPI Comm's wait until the link's end).
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace lb::cuda {

// Enqueues one single-thread kernel on `stream` that spins for `ns` nanoseconds on the GPU's
// global timer (%globaltimer, ns resolution), backing off with __nanosleep so it takes next to no
// issue slots from kernels sharing its SM. Capturable into a CUDA graph. No-op for ns <= 0.
// Throws lb::cuda::Error if the launch fails.
void enqueue_delay(cudaStream_t stream, int64_t ns);

// Launches a kernel that writes the global timer (ns) to *out_ns (device memory); for tests.
void enqueue_read_globaltimer(cudaStream_t stream, uint64_t* out_ns);

}  // namespace lb::cuda
