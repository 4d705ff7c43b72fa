#include "bench/roofline_report.hpp"

#include <string>

namespace lb {

void store_roofline(ResultsFile& f, const Roofline& r) {
  f.set_attr("roofline_stream_read_Bps", r.stream_read_Bps);
  f.set_attr("roofline_stream_copy_Bps", r.stream_copy_Bps);
  f.set_attr("roofline_stream_triad_Bps", r.stream_triad_Bps);
  f.set_attr("roofline_gemm_flops", r.gemm_flops);
  f.set_attr("roofline_scope", std::string("per rank, all ranks measuring concurrently; best of trials, each trial "
                                           "the max over ranks (docs/measurement.md)"));
  f.set_attr("roofline_execution_space", std::string(ExecSpace::name()));
  f.set_attr("roofline_stream_bytes_per_array", r.options.stream_bytes);
  f.set_attr("roofline_stream_trials", int64_t(r.options.stream_trials));
  f.set_attr("roofline_gemm_m", r.options.gemm_m);
  f.set_attr("roofline_gemm_n", r.options.gemm_n);
  f.set_attr("roofline_gemm_k", r.options.gemm_k);
  f.set_attr("roofline_gemm_trials", int64_t(r.options.gemm_trials));
  f.set_attr("roofline_gemm_dtype", std::string(dtype_name(r.options.gemm_weights)));
  f.set_attr("roofline_timer", r.timer);
}

void print_roofline(std::FILE* out, const Roofline& r) {
  std::fprintf(out, "# roofline (per rank, %d ranks concurrently, %s): STREAM read %.2f GB/s, copy %.2f GB/s, triad %.2f GB/s (%lld MiB arrays, best of %d)\n",
               r.ranks, ExecSpace::name(), r.stream_read_Bps / 1e9, r.stream_copy_Bps / 1e9, r.stream_triad_Bps / 1e9,
               (long long)(r.options.stream_bytes >> 20), r.options.stream_trials);
  std::fprintf(out, "# roofline: GEMM %lldx%lldx%lld (gemm_xwt, %s weights) %.2f GFLOP/s (best of %d, %s)\n",
               (long long)r.options.gemm_m, (long long)r.options.gemm_n, (long long)r.options.gemm_k,
               dtype_name(r.options.gemm_weights), r.gemm_flops / 1e9, r.options.gemm_trials, r.timer.c_str());
}

}  // namespace lb
