// The rule that splits a rank's cores between compute threads and the progress thread.
#include "core/cpu_layout.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace lb {
namespace {

TEST(CpuLayout, OneCoreIsSharedByEveryThread) {
  const CpuLayout l = layout_for({3}, true, 0);
  EXPECT_EQ(l.progress_cpu, -1);
  EXPECT_EQ(l.compute_cpus, std::vector<int>{3});
  EXPECT_EQ(l.compute_threads, 1);
}

TEST(CpuLayout, TheProgressThreadTakesTheLastCoreOfTwoOrMore) {
  const CpuLayout l = layout_for({4, 5, 6, 7}, true, 0);
  EXPECT_EQ(l.progress_cpu, 7);
  EXPECT_EQ(l.compute_cpus, (std::vector<int>{4, 5, 6}));
  EXPECT_EQ(l.compute_threads, 3);
}

TEST(CpuLayout, WithoutAProgressThreadComputeUsesEveryCore) {
  const CpuLayout l = layout_for({0, 1}, false, 0);
  EXPECT_EQ(l.progress_cpu, -1);
  EXPECT_EQ(l.compute_threads, 2);
}

TEST(CpuLayout, TheJobsThreadVariablesCapComputeThreads) {
  const CpuLayout l = layout_for({0, 1, 2, 3}, true, 1);
  EXPECT_EQ(l.progress_cpu, 3);  // the progress core stays reserved
  EXPECT_EQ(l.compute_threads, 1);
  EXPECT_EQ(layout_for({0, 1, 2, 3}, false, 8).compute_threads, 4);  // a cap above the cores
}

// mpirun --bind-to none: every local rank sees the whole node; none pins, each takes its share.
TEST(CpuLayout, RanksWithOverlappingMasksShareTheCores) {
  const CpuLayout l = layout_for({0, 1, 2, 3, 4, 5, 6, 7}, true, 0, 4);
  EXPECT_EQ(l.progress_cpu, -1);
  EXPECT_EQ(l.compute_threads, 2);
  EXPECT_EQ(layout_for({0, 1}, true, 0, 4).compute_threads, 1);  // never below one
}

TEST(CpuLayout, NoMaskMeansOneSharedCore) {
  const CpuLayout l = layout_for({}, true, 0);
  EXPECT_EQ(l.cpus, std::vector<int>{0});
  EXPECT_EQ(l.progress_cpu, -1);
}

TEST(CpuLayout, ListsRanges) {
  EXPECT_EQ(cpu_list({0, 1, 2, 3, 5, 7, 8}), "0-3,5,7-8");
  EXPECT_EQ(cpu_list({2}), "2");
  EXPECT_EQ(cpu_list({}), "");
}

TEST(CpuLayout, ThisProcessHasAtLeastOneCore) {
  const CpuLayout l = plan_cpu_layout(cpus_of_this_process(), false, 1);
  EXPECT_GE(l.cpus.size(), 1u);
  EXPECT_GE(l.compute_threads, 1);
}

}  // namespace
}  // namespace lb
