#include "bench/plan_mode.hpp"

#include "bench/plan.hpp"
#include "core/errors.hpp"
#include "core/dtype.hpp"

#include <cstdio>
#include <fstream>

namespace lb {

int run_plan(const BenchOptions& o) {
  try {
    const ModelConfig cfg = load_model_config(o.model);
    check_tp_divides(cfg, int(o.plan_tp));
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
      all.push_back(plan_json(cfg, p));
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
