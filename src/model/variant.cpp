#include "model/variant.hpp"

#include "core/errors.hpp"

#include <iterator>
#include <sstream>

namespace lb {

std::string to_string(Variant v) {
  switch (v) {
    case Variant::Standard: return "standard";
    case Variant::Ladder: return "ladder";
    case Variant::UpperBound: return "upper-bound";
    case Variant::Parallel: return "parallel";
    case Variant::HybridLadder: return "hybrid-ladder";
    case Variant::Desync: return "desync";
  }
  return "?";
}

std::string to_string(DesyncPattern p) {
  switch (p) {
    case DesyncPattern::Default: return "default";
    case DesyncPattern::Every2: return "4x";
    case DesyncPattern::Infinite: return "infinite";
  }
  return "?";
}

DesyncPattern parse_desync_pattern(const std::string& s, const std::string& what) {
  for (DesyncPattern p : {DesyncPattern::Default, DesyncPattern::Every2, DesyncPattern::Infinite})
    if (s == to_string(p)) return p;
  throw UserError(what + ": unknown desync pattern \"" + s + "\" (expected default, 4x or infinite)");
}

std::string variant_names() {
  std::string names;
  for (Variant v : kEveryVariant) names += (names.empty() ? "" : ", ") + to_string(v);
  return names;
}

Variant parse_variant(const std::string& s) {
  for (Variant v : kEveryVariant)
    if (s == to_string(v)) return v;
  throw UserError("--variant: unknown variant \"" + s + "\" (expected " + variant_names() + " or all)");
}

std::vector<Variant> parse_variant_list(const std::string& s) {
  if (s == "all") return std::vector<Variant>(std::begin(kAllVariants), std::end(kAllVariants));
  std::vector<Variant> out;
  std::stringstream in(s);
  std::string item;
  // getline drops a trailing empty element ("standard,"), hence the check of the last character.
  const UserError empty("--variant: empty element in the comma list \"" + s + "\"");
  if (!s.empty() && s.back() == ',') throw empty;
  while (std::getline(in, item, ',')) {
    if (item.empty()) throw empty;
    const Variant v = parse_variant(item);
    for (Variant seen : out)
      if (seen == v) throw UserError("--variant: \"" + item + "\" is listed twice");
    out.push_back(v);
  }
  if (out.empty()) throw UserError("--variant: empty list");
  return out;
}

}  // namespace lb
