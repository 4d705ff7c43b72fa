#include "report/run_records.hpp"

#include "plan/plan.hpp"
#include "measure/stats.hpp"

#include <cmath>
#include <utility>

namespace lb {

double record_attr(const RunRecord& r, const std::string& name) {
  for (const auto& [n, v] : r.extra_attrs)
    if (n == name) return v;
  return NAN;
}

std::vector<RunRecord> build_run_records(std::vector<RunRecord> runs, const std::vector<Schedule>& schedules,
                                         const CellContext& ctx) {
  const BenchOptions& o = ctx.options;
  // What one decode step and one prefill move and compute per rank (the --plan arithmetic).
  PlanInput in;
  in.tp = ctx.tp;
  in.batch = ctx.cell.batch;
  in.prompt_len = ctx.cell.prompt_len;
  in.gen_len = ctx.cell.gen_len;
  in.dtype_bytes = dtype_bytes(ctx.weights);
  in.cache_dtype_bytes = sizeof(real);
  const Plan plan = make_plan(ctx.cfg, in, {});
  std::vector<RunRecord> out;
  for (size_t i = 0; i < schedules.size(); ++i) {
    RunRecord& r = runs[i];
    if (r.tokens_per_s.empty()) continue;
    const Schedule& s = schedules[i];
    r.variant = to_string(s.variant());
    r.dtype = o.dtype;
    r.model = ctx.cfg.name;
    r.batch = ctx.cell.batch;
    r.prompt_len = ctx.cell.prompt_len;
    r.gen_len = ctx.cell.gen_len;
    r.tp = ctx.tp;
    r.warmup = o.warmup;
    r.reps = int64_t(r.tokens_per_s.size());  // fewer than --reps only if the job was stopped
    r.vocab = ctx.cfg.vocab_size;
    r.layers = ctx.cfg.num_layers;
    if (s.variant() == Variant::HybridLadder) r.ladder_layers = s.ladder_layers();
    if (s.desync()) r.desync_pattern = to_string(ctx.cfg.desync_pattern);
    r.prompt = ctx.prompt;
    const double step_s = summarize(r.decode_s).median / double(r.gen_len - 1);
    const double decode_Bps = plan.decode_bytes / step_s, prefill_flops = plan.prefill_flops / summarize(r.prefill_s).median;
    r.extra_attrs = {{"cuda_graph", double(o.cuda_graph && !o.breakdown)},
                     {"decode_bytes_per_step", plan.decode_bytes},
                     {"decode_achieved_Bps", decode_Bps},
                     {"prefill_flop", plan.prefill_flops},
                     {"prefill_achieved_flops", prefill_flops}};
    // Summary statistics next to the samples, so a reader without the analysis sees the spread.
    for (const auto& [name, samples] : {std::pair<const char*, const std::vector<double>*>{"prefill_s", &r.prefill_s},
                                        {"decode_s", &r.decode_s},
                                        {"decode_step_s", &r.decode_step_s},
                                        {"tokens_per_s", &r.tokens_per_s}}) {
      const Summary st = summarize(*samples);
      for (const auto& [stat, v] : {std::pair<const char*, double>{"median", st.median}, {"mean", st.mean},
                                    {"stddev", st.stddev}, {"min", st.min}, {"max", st.max}, {"p95", st.p95}, {"cv", st.cv}})
        r.extra_attrs.push_back({std::string(name) + "_" + stat, v});
    }
    if (ctx.roofline) {
      r.extra_attrs.push_back({"decode_pct_of_stream_read", 100 * decode_Bps / ctx.roofline->stream_read_Bps});
      r.extra_attrs.push_back({"decode_pct_of_stream_triad", 100 * decode_Bps / ctx.roofline->stream_triad_Bps});
      r.extra_attrs.push_back({"prefill_pct_of_gemm", 100 * prefill_flops / ctx.roofline->gemm_flops});
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace lb
