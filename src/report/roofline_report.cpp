#include "report/roofline_report.hpp"

#include <string>

namespace lb {

namespace {

// One row per GEMM shape: the shape, calls and copies, median and best seconds per call, and the
// FLOP rate and weight bandwidth at the median.
GroupRecord gemm_timings_record(const std::vector<GemmTiming>& timings, DType weights) {
  GroupRecord g;
  g.string_attrs = {{"dtype", std::string(dtype_name(weights))}};
  const hsize_t n = timings.size();
  GroupRecord::Data<int64_t> m{"m", {n}, {}}, nn{"n", {n}, {}}, k{"k", {n}, {}}, decode{"decode", {n}, {}},
      calls{"calls", {n}, {}}, copies{"copies", {n}, {}};
  GroupRecord::Data<double> best{"time_best_s", {n}, {}}, median{"time_s", {n}, {}}, flops{"flops_per_s", {n}, {}},
      bw{"weight_Bps", {n}, {}};
  for (const GemmTiming& x : timings) {
    m.data.push_back(x.shape.m);
    nn.data.push_back(x.shape.n);
    k.data.push_back(x.shape.k);
    decode.data.push_back(x.shape.decode ? 1 : 0);
    calls.data.push_back(x.calls);
    copies.data.push_back(x.copies);
    best.data.push_back(x.best_s);
    median.data.push_back(x.median_s);
    flops.data.push_back(2.0 * double(x.shape.m) * double(x.shape.n) * double(x.shape.k) / x.median_s);
    bw.data.push_back(double(x.shape.n) * double(x.shape.k) * double(dtype_bytes(weights)) / x.median_s);
  }
  g.i64 = {m, nn, k, decode, calls, copies};
  g.f64 = {median, best, flops, bw};
  return g;
}

}  // namespace

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
  if (r.model_gemms.empty()) return;
  // The model's own GEMM shapes (ladder-bench): one row per shape in /roofline/gemm.
  GroupRecord g = gemm_timings_record(r.model_gemms, r.options.gemm_weights);
  g.string_attrs.push_back({"scope", "per rank, all ranks measuring concurrently; seconds per gemm_xwt call, best and "
                                     "median trial, each trial the max over ranks (docs/measurement.md)"});
  g.int_attrs = {{"trials", int64_t(r.options.model_gemm_rounds) * r.options.model_gemm_trials},
                 {"rounds", int64_t(r.options.model_gemm_rounds)},
                 {"stream_bytes", r.options.model_gemm_stream_bytes},
                 {"prefill_rows_max", kPrefillGemmRowsMax}};
  f.write_group("roofline/gemm", g);
}

void store_step_calibration(ResultsFile& f, const std::string& path, const Cell& cell, const StepCalibration& c,
                            DType weights) {
  GroupRecord g = gemm_timings_record(c.gemms, weights);
  g.string_attrs.push_back({"scope", "per rank, all ranks at once, on the model's own weights between the cell's "
                                     "generations; seconds per gemm_xwt call, median and best round, each round the "
                                     "max over ranks (docs/measurement.md)"});
  g.int_attrs = {{"batch", cell.batch}, {"prompt_len", cell.prompt_len}, {"gen_len", cell.gen_len},
                 {"rounds", int64_t(c.rounds)}, {"allreduce_bytes", c.allreduce_bytes}};
  g.double_attrs = {{"allreduce_start_s", c.allreduce_start_s},
                    {"allreduce_wait_s", c.allreduce_wait_s},
                    {"allreduce_wait_link_s", c.allreduce_wait_link_s},
                    {"rank_skew_module_s", c.rank_skew_module_s},
                    {"rank_skew_layer_s", c.rank_skew_layer_s},
                    {"allreduce_start_overlapped_s", c.allreduce_start_overlapped_s},
                    {"allreduce_stretch_overlapped_s", c.allreduce_stretch_overlapped_s}};
  f.write_group(path, g);
  // The replayed forwards' other kernels: one group each, seconds per call.
  for (const KernelTiming& k : c.kernels) {
    GroupRecord kg;
    kg.int_attrs = {{"rows", k.rows}, {"calls", k.calls}};
    if (k.keys > 0) kg.int_attrs.push_back({"keys", k.keys});
    kg.double_attrs = {{"time_s", k.median_s}, {"time_best_s", k.best_s}};
    f.write_group(path + (k.decode ? "/kernel/decode/" : "/kernel/prefill/") + k.name, kg);
  }
}

void print_step_calibration(std::FILE* out, const Cell& cell, const StepCalibration& c) {
  std::fprintf(out, "# step calibration (batch %lld, model weights, median of %d rounds between generations):",
               (long long)cell.batch, c.rounds);
  if (c.allreduce_bytes > 0)
    std::fprintf(out, " all-reduce hand-off %.1f us, wait %.1f us (%lld B, no emulated link), %.1f us through the run's link; rank skew per sync %.1f us (module), %.1f us (layer); overlapped (ladder) hand-off %.1f us, stretch of the module computing over it %.1f us;",
                 c.allreduce_start_s * 1e6, c.allreduce_wait_s * 1e6, (long long)c.allreduce_bytes, c.allreduce_wait_link_s * 1e6,
                 c.rank_skew_module_s * 1e6, c.rank_skew_layer_s * 1e6, c.allreduce_start_overlapped_s * 1e6,
                 c.allreduce_stretch_overlapped_s * 1e6);
  for (const GemmTiming& x : c.gemms)
    std::fprintf(out, " %s %lldx%lldx%lld %.1f us;", x.shape.decode ? "decode" : "prefill", (long long)x.shape.m,
                 (long long)x.shape.n, (long long)x.shape.k, x.median_s * 1e6);
  for (const KernelTiming& k : c.kernels) {
    std::fprintf(out, " %s %s %.1f us", k.decode ? "decode" : "prefill", k.name.c_str(), k.median_s * 1e6);
    if (k.keys > 0) std::fprintf(out, " (%lld keys)", (long long)k.keys);
    std::fprintf(out, ";");
  }
  std::fprintf(out, "\n");
}

void print_roofline(std::FILE* out, const Roofline& r) {
  std::fprintf(out, "# roofline (per rank, %d ranks concurrently, %s): STREAM read %.2f GB/s, copy %.2f GB/s, triad %.2f GB/s (%lld MiB arrays, best of %d)\n",
               r.ranks, ExecSpace::name(), r.stream_read_Bps / 1e9, r.stream_copy_Bps / 1e9, r.stream_triad_Bps / 1e9,
               (long long)(r.options.stream_bytes >> 20), r.options.stream_trials);
  std::fprintf(out, "# roofline: GEMM %lldx%lldx%lld (gemm_xwt, %s weights) %.2f GFLOP/s (best of %d, %s)\n",
               (long long)r.options.gemm_m, (long long)r.options.gemm_n, (long long)r.options.gemm_k,
               dtype_name(r.options.gemm_weights), r.gemm_flops / 1e9, r.options.gemm_trials, r.timer.c_str());
  for (const GemmTiming& x : r.model_gemms) {
    const double flop = 2.0 * double(x.shape.m) * double(x.shape.n) * double(x.shape.k);
    const double bytes = double(x.shape.n) * double(x.shape.k) * double(dtype_bytes(r.options.gemm_weights));
    std::fprintf(out,
                 "# roofline: model GEMM %-7s %lldx%lldx%lld %9.1f us (best %.1f) = %.2f GFLOP/s, weights %.2f GB/s "
                 "(median of %d, %lld calls each over %lld copies)\n",
                 x.shape.decode ? "decode" : "prefill", (long long)x.shape.m, (long long)x.shape.n, (long long)x.shape.k,
                 x.median_s * 1e6, x.best_s * 1e6, flop / x.median_s / 1e9, bytes / x.median_s / 1e9,
                 r.options.model_gemm_rounds * r.options.model_gemm_trials, (long long)x.calls, (long long)x.copies);
  }
}

}  // namespace lb
