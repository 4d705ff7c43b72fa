// Plain float64 references, written for obviousness rather than speed (llm.c style): each kernel
// of src/kernels/kernels.hpp and src/kernels/gemm.hpp, and a whole unsharded model with the standard and ladder
// residual schedules exactly as the spec writes them. Tests compare the Kokkos/BLAS/TP code to these.
#pragma once

#include "model/model_config.hpp"
#include "model/variant.hpp"
#include "model/weight_source.hpp"

#include <cstdint>
#include <vector>

namespace lb::ref {

using Tensor = std::vector<double>;  // row-major

// y[T, n] = x[T, k] @ w[n, k]^T
Tensor matmul_xwt(const Tensor& x, const Tensor& w, int64_t T, int64_t k, int64_t n);
Tensor rms_norm(const Tensor& x, const Tensor& w, int64_t T, int64_t d, double eps);
// In place on `heads` heads of width head_dim starting at column col0 of rows of width `row`.
void rope(Tensor& x, int64_t T, int64_t row, int64_t col0, int64_t heads, int64_t head_dim,
          const std::vector<int64_t>& positions, double theta);
// q [T, H*dh] at `positions`; k, v [Tk, K*dh] at key positions 0..Tk-1 of the same sequence.
Tensor causal_attention(const Tensor& q, const Tensor& k, const Tensor& v, int64_t T, int64_t Tk, int64_t H,
                        int64_t K, int64_t head_dim, const std::vector<int64_t>& positions);
Tensor silu_mul(const Tensor& gu, int64_t T, int64_t f);

// Full-model prefill of one sequence `tokens`: the logits [V] at its last position. Desync's
// function depends on the TP degree `tp`: it simulates every rank's stream (each rank's partial
// from its heads and MLP columns, Shard::of) and its all-reduces; the other variants ignore `tp`.
Tensor model_logits(const ModelConfig& cfg, const WeightSource& src, const std::vector<int32_t>& tokens, Variant v,
                    int tp = 1);

}  // namespace lb::ref
