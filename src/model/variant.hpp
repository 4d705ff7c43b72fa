// The model variants compared by the suite. All run the same kernels on the same weights; they
// differ only in where a module's all-reduce is waited for and added to the residual stream.
#pragma once

#include <string>
#include <vector>

namespace lb {

enum class Variant {
  Standard,    // Megatron TP: all-reduce, then add, right after each module
  Ladder,      // all-reduce overlaps the next module; waited for and added one module later
  UpperBound,  // no communication at all: each rank adds its own partial sums
  Parallel,    // PaLM/GPT-J block: attention and MLP from one shared norm, one all-reduce per layer
  HybridLadder,  // standard for the first layers, ladder for the last ladder_layers (spec 5)
};

// Every variant, in the order `all` runs them.
inline constexpr Variant kAllVariants[] = {Variant::Standard, Variant::Ladder, Variant::UpperBound, Variant::Parallel,
                                           Variant::HybridLadder};

std::string to_string(Variant v);
// Every variant's name, in kAllVariants' order: "standard, ladder, ..., hybrid-ladder".
std::string variant_names();
// Accepts any name of variant_names(); throws UserError otherwise.
Variant parse_variant(const std::string& s);
// A comma list of the names above, or "all". Throws UserError naming the bad entry.
std::vector<Variant> parse_variant_list(const std::string& s);

}  // namespace lb
