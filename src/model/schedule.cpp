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
      desync_pattern_(cfg.desync_pattern),
      // On a GPU an NCCL all-reduce of one rank would still cost a fork, a copy kernel and a join
      // per module: TP=1 starts none.
      communicates_(variant != Variant::UpperBound && tp > 1) {}

bool Schedule::reduces(int64_t module) const {
  if (!communicates_) return false;
  if (!desync()) return true;
  const int64_t layer = module / 2;
  if (module % 2 == 0) return false;         // every desync pattern drops attention's
  if (layer == layers_ - 1) return true;     // the LM head reads one stream
  switch (desync_pattern_) {
    case DesyncPattern::Default: return true;
    case DesyncPattern::Every2: return layer % 2 == 1;  // the repo's [{}, {mlp}] * L/2
    case DesyncPattern::Infinite: return false;
  }
  return true;
}

int64_t Schedule::allreduces_per_forward() const {
  if (!communicates_) return 0;
  if (parallel_block()) return layers_;
  int64_t n = 0;  // ladder and hybrid only move the waits; desync drops some
  for (int64_t i = 0; i < modules(); ++i) n += reduces(i);
  return n;
}

}  // namespace lb
