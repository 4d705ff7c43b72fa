// Central type aliases: every kernel and buffer in ladderbench is written against these, so the
// same code builds for Kokkos Serial/OpenMP (CPU, Kokkos 3.4+) and Kokkos Cuda (GPU, Kokkos 4.x+).
#pragma once

#include <Kokkos_Core.hpp>

#include <cstdint>

namespace lb {

using ExecSpace = Kokkos::DefaultExecutionSpace;
using MemSpace = ExecSpace::memory_space;

// Compute dtype of the CPU path. (The GPU path stores bf16/fp16 and accumulates in fp32.)
using real = float;

// Row-major device buffers. Kernels never touch host memory directly; host staging goes through
// create_mirror_view + deep_copy.
using Vec = Kokkos::View<real*, Kokkos::LayoutRight, MemSpace>;
using Mat = Kokkos::View<real**, Kokkos::LayoutRight, MemSpace>;
using Tokens = Kokkos::View<int32_t**, Kokkos::LayoutRight, MemSpace>;  // [batch, seq]
// KV cache of one layer: [batch, kv_heads_local, max_seq, head_dim].
using Cache = Kokkos::View<real****, Kokkos::LayoutRight, MemSpace>;

// A position on the device: where the tokens of a forward pass start. Kernels read it, so a
// captured decode step can be replayed at every position.
using Position = Kokkos::View<int64_t, MemSpace>;

// Every kernel is launched light-weight: its functor travels as a kernel argument. By default
// Kokkos-CUDA copies functors of 512 B and more to constant memory and waits on an event before
// reusing that buffer (cudaEventSynchronize), which a CUDA-graph capture of a step cannot contain.
// kernels.hpp keeps the functors well under CUDA's 4 KiB argument limit (check_launch_size).
using LightWeight = Kokkos::Experimental::WorkItemProperty::HintLightWeight_t;
using Range = Kokkos::RangePolicy<ExecSpace, LightWeight>;

// Device math: Kokkos 3.x has it in Kokkos::Experimental, Kokkos 4.x in Kokkos.
namespace kmath {
#if KOKKOS_VERSION >= 40000
using Kokkos::exp;
using Kokkos::sqrt;
#else
using Kokkos::Experimental::exp;
using Kokkos::Experimental::sqrt;
#endif
template <class T>
KOKKOS_INLINE_FUNCTION constexpr T infinity() {
  return Kokkos::Experimental::infinity<T>::value;
}
}  // namespace kmath

}  // namespace lb
