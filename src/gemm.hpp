// y = x @ w^T for row-major x [T, k], w [n, k] (Hugging Face weight layout: [out, in]), y [T, n].
// The one GEMM shape of the model: every projection is this call, on CPU through CBLAS.
#pragma once

#include "types.hpp"

#include <string>

namespace lb {

void gemm_xwt(const Mat& x, const Mat& w, const Mat& y);

// Name and version of the BLAS the binary uses, for the results' provenance.
std::string blas_version();

}  // namespace lb
