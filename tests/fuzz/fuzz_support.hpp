// Shared by the fuzz targets: FUZZ_CHECK, and coverage feedback for the size of numbers.
// The bugs these targets hunt (int64 overflow, huge allocations, dims that wrap negative) sit at
// values reached through no new branch, so plain coverage never rewards an input for making a
// number bigger. libFuzzer's extra counters do: each (slot, bit width of the value) pair is a
// feature, and an input that sets a new one is kept, so the fuzzer climbs towards 2^63 a bit at a
// time.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>

// A violated invariant: print why and abort, which libFuzzer reports as a crash with the input.
#define FUZZ_CHECK(cond)                                                                      \
  do {                                                                                        \
    if (!(cond)) {                                                                            \
      std::fprintf(stderr, "FUZZ_CHECK failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__);     \
      std::abort();                                                                           \
    }                                                                                         \
  } while (0)

namespace fuzz {

constexpr int kHintSlots = 16;
// One translation unit per fuzz target includes this; libFuzzer clears the section before each run.
__attribute__((section("__libfuzzer_extra_counters"), used)) static uint8_t hint_counters[kHintSlots * 65];

inline void hint(int slot, uint64_t v) {
  hint_counters[(slot % kHintSlots) * 65 + (v ? 64 - __builtin_clzll(v) : 0)] = 1;
}

}  // namespace fuzz
