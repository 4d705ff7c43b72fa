#include "model/schedule.hpp"

namespace lb {
namespace {

int64_t first_ladder_layer(Variant v, const ModelConfig& cfg) {
  switch (v) {
    case Variant::Ladder: return 0;
    case Variant::HybridLadder: return cfg.num_layers - cfg.hybrid_ladder_layers();
    default: return cfg.num_layers;
  }
}

}  // namespace

Schedule::Schedule(Variant variant, const ModelConfig& cfg, int tp)
    : variant_(variant),
      tp_(tp),
      layers_(cfg.num_layers),
      ladder_from_(first_ladder_layer(variant, cfg)),
      // On a GPU an NCCL all-reduce of one rank would still cost a fork, a copy kernel and a join
      // per module: TP=1 starts none.
      communicates_(variant != Variant::UpperBound && tp > 1) {}

int64_t Schedule::allreduces_per_forward() const {
  if (!communicates_) return 0;
  return parallel_block() ? layers_ : 2 * layers_;  // ladder and hybrid only move the waits
}

}  // namespace lb
