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
  Desync,        // the paper's gpt_desync: a residual stream per rank, some all-reduces dropped
};

// Which all-reduces desync keeps (the paper repo's reduce_pattern; its last layer's MLP
// all-reduce is always kept, so the LM head reads one stream):
//   default   attention's dropped, every MLP's kept (half the all-reduces);
//   4x        attention's dropped, the MLP's in every second layer (layers 1, 3, 5, ...);
//   infinite  none but the last layer's MLP.
enum class DesyncPattern { Default, Every2, Infinite };
std::string to_string(DesyncPattern p);
// "default", "4x" or "infinite"; throws UserError naming `what` (the flag or key) otherwise.
DesyncPattern parse_desync_pattern(const std::string& s, const std::string& what);

// The variants `all` runs, in that order: every one-stream variant. Desync is named on its own
// (--variant desync): it changes the model's function with TP and with its pattern, and the paper
// measured it in one table only (405B).
inline constexpr Variant kAllVariants[] = {Variant::Standard, Variant::Ladder, Variant::UpperBound, Variant::Parallel,
                                           Variant::HybridLadder};
// Every variant --variant accepts.
inline constexpr Variant kEveryVariant[] = {Variant::Standard, Variant::Ladder,       Variant::UpperBound,
                                            Variant::Parallel, Variant::HybridLadder, Variant::Desync};

std::string to_string(Variant v);
// Every variant's name, in kEveryVariant's order: "standard, ladder, ..., hybrid-ladder, desync".
std::string variant_names();
// Accepts any name of variant_names(); throws UserError otherwise.
Variant parse_variant(const std::string& s);
// A comma list of the names above, or "all". Throws UserError naming the bad entry.
std::vector<Variant> parse_variant_list(const std::string& s);

}  // namespace lb
