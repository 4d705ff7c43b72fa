// Coverage feedback for the size of numbers. The bugs these targets hunt (int64 overflow, huge
// allocations, dims that wrap negative) sit at values reached through no new branch, so plain
// coverage never rewards an input for making a number bigger. libFuzzer's extra counters do: each
// (slot, bit width of the value) pair is a feature, and an input that sets a new one is kept, so
// the fuzzer climbs towards 2^63 one bit at a time.
#pragma once

#include <cstdint>

namespace fuzz {

constexpr int kHintSlots = 16;
// One translation unit per fuzz target includes this; libFuzzer clears the section before each run.
__attribute__((section("__libfuzzer_extra_counters"), used)) static uint8_t hint_counters[kHintSlots * 65];

inline void hint(int slot, uint64_t v) {
  hint_counters[(slot % kHintSlots) * 65 + (v ? 64 - __builtin_clzll(v) : 0)] = 1;
}

}  // namespace fuzz
