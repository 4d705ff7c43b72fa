#include "plan/plan_mode.hpp"

#include "plan/memory_fit.hpp"
#include "plan/plan.hpp"
#include "core/errors.hpp"
#include "core/dtype.hpp"
#include "core/types.hpp"

#include <cstdio>
#include <fstream>

namespace lb {
namespace {

// The memory check a run makes before allocating (memory_fit.hpp), printed for this machine as
// if all --tp ranks ran on it, with the app's own buffers (fp32 KV cache and activations).
nlohmann::json print_fit_here(const ModelConfig& cfg, PlanInput in) {
  in.cache_dtype_bytes = sizeof(real);
  const Plan run = make_plan(cfg, in, {});
  try {
    const AvailableMemory per_rank = memory_per_rank(int(in.tp));
    const bool ok = fits(run, per_rank);
    std::printf("  this machine, %lld ranks on it: %s -> %s\n", (long long)in.tp, memory_need(run, per_rank).c_str(),
                ok ? "fits" : "DOES NOT FIT");
    return {{"needs_bytes_per_rank", run.total_bytes}, {"available_bytes_per_rank", per_rank.bytes},
            {"available_source", per_rank.source}, {"fits", ok}};
  } catch (const UserError& e) {
    std::printf("  this machine: available memory unknown (%s)\n", e.what());
    return nullptr;
  }
}

}  // namespace

int run_plan(const BenchOptions& o) {
  try {
    ModelConfig cfg = load_model_config(o.model);
    check_tp_divides(cfg, int(o.plan_tp));
    if (!o.desync_pattern.empty()) cfg.desync_pattern = parse_desync_pattern(o.desync_pattern, "--desync-pattern");
    const std::vector<Variant> variants = parse_variant_list(o.variants);
    PlanInput in;
    in.tp = o.plan_tp;
    in.dtype_bytes = in.cache_dtype_bytes = dtype_bytes(parse_dtype(o.dtype));
    in.device_mem_gib = o.device_mem_gib;
    nlohmann::json all = nlohmann::json::array();
    for (const Cell& cell : sweep_cells(o)) {
      in.batch = cell.batch;
      in.prompt_len = cell.prompt_len;
      in.gen_len = cell.gen_len;
      const Plan p = make_plan(cfg, in, variants);
      print_plan(cfg, p);
      nlohmann::json j = plan_json(cfg, p);
      j["this_machine"] = print_fit_here(cfg, in);
      all.push_back(j);
    }
    if (!o.out.empty()) {
      std::ofstream out(o.out);
      if (!(out << nlohmann::json{{"format", "ladderbench-plan"}, {"format_version", 1}, {"plans", all}}.dump(2) << "\n"))
        throw UserError("--out " + o.out + ": cannot write the plan");
    }
    return 0;
  } catch (const UserError& e) {
    std::fprintf(stderr, "%s: error: %s\n", program_name(), e.what());
    return 1;
  }
}

}  // namespace lb
