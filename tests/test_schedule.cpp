// The residual schedule of every variant, against the spec's rules (sections 2-5) written out.
#include "model/schedule.hpp"

#include <gtest/gtest.h>

namespace lb {
namespace {

ModelConfig layers(int64_t n, int64_t ladder_layers = -1) {
  ModelConfig c;
  c.num_layers = n;
  c.ladder_layers = ladder_layers;
  return c;
}

TEST(Schedule, StandardReadsThroughThePreviousModule) {
  const Schedule s(Variant::Standard, layers(3), 2);
  EXPECT_TRUE(s.communicates());
  EXPECT_FALSE(s.parallel_block());
  EXPECT_EQ(s.ladder_layers(), 0);
  for (int64_t i = 0; i < s.modules(); ++i) EXPECT_EQ(s.reads_through(i), i - 1) << i;
  EXPECT_EQ(s.allreduces_per_forward(), 6);
}

TEST(Schedule, LadderReadsOneModuleStale) {
  // attention_l sees the stream through attention_{l-1}; mlp_l through mlp_{l-1} (spec section 3).
  const Schedule s(Variant::Ladder, layers(3), 4);
  EXPECT_EQ(s.ladder_from(), 0);
  for (int64_t i = 0; i < s.modules(); ++i) EXPECT_EQ(s.reads_through(i), i - 2) << i;
  EXPECT_EQ(s.allreduces_per_forward(), 6);  // the count of standard's: only the waits move
}

TEST(Schedule, HybridIsStandardBelowAndLadderInTheLastLayers) {
  const Schedule s(Variant::HybridLadder, layers(4, 1), 2);
  EXPECT_EQ(s.ladder_from(), 3);
  EXPECT_EQ(s.ladder_layers(), 1);
  const int64_t expect[] = {-1, 0, 1, 2, 3, 4, 4, 5};  // modules 6, 7 (layer 3) read one stale
  for (int64_t i = 0; i < s.modules(); ++i) EXPECT_EQ(s.reads_through(i), expect[i]) << i;
  EXPECT_EQ(Schedule(Variant::HybridLadder, layers(4), 2).ladder_layers(), 2);  // half by default
}

TEST(Schedule, ParallelReducesOncePerLayer) {
  const Schedule s(Variant::Parallel, layers(5), 8);
  EXPECT_TRUE(s.parallel_block());
  EXPECT_EQ(s.allreduces_per_forward(), 5);
}

TEST(Schedule, UpperBoundAndOneRankNeverCommunicate) {
  EXPECT_FALSE(Schedule(Variant::UpperBound, layers(2), 4).communicates());
  EXPECT_EQ(Schedule(Variant::UpperBound, layers(2), 4).allreduces_per_forward(), 0);
  for (Variant v : kEveryVariant) {
    EXPECT_FALSE(Schedule(v, layers(2), 1).communicates()) << to_string(v);
    EXPECT_EQ(Schedule(v, layers(2), 1).allreduces_per_forward(), 0) << to_string(v);
  }
}

// The paper repo's reduce_pattern per layer, its last layer's MLP always kept; attention never.
TEST(Schedule, DesyncKeepsTheMlpAllReducesItsPatternNames) {
  ModelConfig c = layers(5);
  const auto kept_mlps = [&](DesyncPattern p) {
    c.desync_pattern = p;
    const Schedule s(Variant::Desync, c, 2);
    EXPECT_TRUE(s.desync());
    EXPECT_EQ(s.reads_through(3), 2);  // standard's order
    std::vector<int64_t> layers_kept;
    for (int64_t i = 0; i < s.modules(); ++i) {
      if (i % 2 == 0) EXPECT_FALSE(s.reduces(i)) << i;
      if (i % 2 == 1 && s.reduces(i)) layers_kept.push_back(i / 2);
    }
    EXPECT_EQ(s.allreduces_per_forward(), int64_t(layers_kept.size()));
    return layers_kept;
  };
  EXPECT_EQ(kept_mlps(DesyncPattern::Default), (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(kept_mlps(DesyncPattern::Every2), (std::vector<int64_t>{1, 3, 4}));
  EXPECT_EQ(kept_mlps(DesyncPattern::Infinite), (std::vector<int64_t>{4}));
  EXPECT_FALSE(Schedule(Variant::Standard, c, 2).desync());
}

}  // namespace
}  // namespace lb
