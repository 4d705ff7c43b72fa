#include "model/rope_config.hpp"

#include "core/errors.hpp"

#include <cstdint>
#include <optional>
#include <set>

namespace lb {
namespace {

// One form's settings: theta only if the form states it (absent = no claim, nothing to compare).
struct RopeForm {
  std::optional<double> theta;
  RopeScaling scaling;
};

double positive(const nlohmann::json& obj, const std::string& key, const std::string& w) {
  if (!obj.contains(key)) throw UserError(w + ": missing key \"" + key + "\"");
  const auto& v = obj.at(key);
  if (!v.is_number() || !(v.get<double>() > 0))
    throw UserError(w + ": key \"" + key + "\" must be a number > 0, found " + v.dump());
  return v.get<double>();
}

// The rope type and its parameters from one object (`rope_scaling` or `rope_parameters`, named
// `w`). `theta_key` is the object's own theta key, if this form has one inside.
RopeForm parse_rope_object(const nlohmann::json& s, const std::string& w, bool theta_inside) {
  if (!s.is_object()) throw UserError(w + " must be an object, found " + s.dump());
  for (const char* k : {"rope_type", "type"})
    if (s.contains(k) && !s.at(k).is_string())
      throw UserError(w + ": key \"" + k + "\" must be a string, found " + s.at(k).dump());
  const std::string type = s.value("rope_type", s.value("type", std::string("default")));
  std::set<std::string> known = {"rope_type", "type"};
  if (theta_inside) known.insert("rope_theta");
  if (type == "llama3")
    known.insert({"factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings"});
  else if (type != "default")
    throw UserError(w + ": rope_type \"" + type + "\" is not supported (only \"default\" and \"llama3\", as in Llama-3.1)");
  // Any other key (attention_factor, partial_rotary_factor, mrope_section, ...) changes the angles
  // or the scale in ways this app does not compute: refused rather than ignored.
  for (const auto& [k, v] : s.items())
    if (!known.count(k)) throw UserError(w + ": key \"" + k + "\" is not supported for rope_type \"" + type + "\"");
  RopeForm f;
  if (theta_inside && s.contains("rope_theta")) f.theta = positive(s, "rope_theta", w);
  if (type != "llama3") return f;
  RopeScaling& r = f.scaling;
  r.llama3 = true;
  r.factor = positive(s, "factor", w);
  r.low_freq_factor = positive(s, "low_freq_factor", w);
  r.high_freq_factor = positive(s, "high_freq_factor", w);
  const auto& orig = s.contains("original_max_position_embeddings") ? s.at("original_max_position_embeddings") : nlohmann::json();
  if (!orig.is_number_integer() || orig.get<int64_t>() <= 0 || orig.get<int64_t>() > INT32_MAX)
    throw UserError(w + ": key \"original_max_position_embeddings\" must be an integer in [1, 2^31), found " + orig.dump());
  r.original_max_position_embeddings = orig.get<int64_t>();
  if (!(r.high_freq_factor > r.low_freq_factor)) throw UserError(w + ": high_freq_factor must exceed low_freq_factor");
  return f;
}

bool same_scaling(const RopeScaling& a, const RopeScaling& b) {
  if (a.llama3 != b.llama3) return false;
  return !a.llama3 || (a.factor == b.factor && a.low_freq_factor == b.low_freq_factor &&
                       a.high_freq_factor == b.high_freq_factor &&
                       a.original_max_position_embeddings == b.original_max_position_embeddings);
}

std::string describe(const RopeScaling& s) { return s.llama3 ? "llama3 scaling" : "no scaling"; }

}  // namespace

void parse_rope_config(const nlohmann::json& j, const std::string& where, ModelConfig& cfg) {
  // transformers 4: rope_theta at the top, rope_scaling an object or null (no scaling).
  const bool has_theta = j.contains("rope_theta"), has_scaling = j.contains("rope_scaling");
  RopeForm old;
  if (has_theta) old.theta = positive(j, "rope_theta", where);
  if (has_scaling && !j.at("rope_scaling").is_null())
    old.scaling = parse_rope_object(j.at("rope_scaling"), where + ": rope_scaling", false).scaling;
  // transformers 5: everything in rope_parameters (an object keyed by layer type, as Gemma 3
  // writes, has no rope_type and is refused by the key check below).
  if (!j.contains("rope_parameters") || j.at("rope_parameters").is_null()) {
    cfg.rope_theta = old.theta.value_or(10000.0);
    cfg.rope_scaling = old.scaling;
    return;
  }
  const RopeForm now = parse_rope_object(j.at("rope_parameters"), where + ": rope_parameters", true);
  if (!now.theta) throw UserError(where + ": rope_parameters: missing key \"rope_theta\"");
  if (old.theta && *old.theta != *now.theta)
    throw UserError(where + ": rope_theta " + j.at("rope_theta").dump() + " and rope_parameters.rope_theta " +
                    j.at("rope_parameters").at("rope_theta").dump() + " disagree");
  if (has_scaling && !same_scaling(old.scaling, now.scaling))
    throw UserError(where + ": rope_scaling (" + describe(old.scaling) + ") and rope_parameters (" +
                    describe(now.scaling) + ") disagree");
  cfg.rope_theta = *now.theta;
  cfg.rope_scaling = now.scaling;
}

}  // namespace lb
