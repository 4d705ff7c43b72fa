#include "options/allreduce_options.hpp"

#include "app/cli_flags.hpp"
#include "core/errors.hpp"
#include "core/types.hpp"

#include <cctype>

namespace lb {
namespace {

// A byte count flag: validated by parse_size, stored in bytes.
CLI::Option* add_size_option(CLI::App& app, const std::string& flags, int64_t& target, const std::string& help) {
  return app
      .add_option_function<std::string>(flags, [&target](const std::string& s) { target = parse_size(s); }, help)
      ->check(CLI::Validator(
          [](std::string& s) -> std::string {
            try {
              parse_size(s);
            } catch (const UserError& e) {
              return e.what();
            }
            return {};
          },
          "SIZE"))
      ->default_str(std::to_string(target));
}

}  // namespace

int64_t parse_size(const std::string& text) {
  const auto bad = [&](const std::string& why) {
    return UserError("must be a byte count like 8, 64K, 1M or 2G (binary multiples), found \"" + text + "\"" +
                     (why.empty() ? "" : " (" + why + ")"));
  };
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0) throw bad("");
  int shift = 0;
  if (digits < text.size()) {
    if (digits + 1 != text.size()) throw bad("");
    switch (std::toupper(static_cast<unsigned char>(text[digits]))) {
      case 'K': shift = 10; break;
      case 'M': shift = 20; break;
      case 'G': shift = 30; break;
      default: throw bad("");
    }
  }
  if (digits > 18) throw bad("too large");
  const int64_t v = std::stoll(text.substr(0, digits));
  if (v > (int64_t(1) << (62 - shift))) throw bad("too large");
  return v << shift;
}

std::vector<int64_t> size_sweep(int64_t minbytes, int64_t maxbytes, int64_t stepfactor) {
  const int64_t word = sizeof(real);
  if (minbytes < word)
    throw UserError("-b/--minbytes " + std::to_string(minbytes) + " is less than one float (" + std::to_string(word) +
                    " bytes)");
  if (maxbytes < minbytes)
    throw UserError("-e/--maxbytes " + std::to_string(maxbytes) + " is less than -b/--minbytes " + std::to_string(minbytes));
  if (stepfactor < 2) throw UserError("-f/--stepfactor must be an integer >= 2, found " + std::to_string(stepfactor));
  std::vector<int64_t> sizes;
  for (int64_t b = minbytes;; b *= stepfactor) {
    const int64_t rounded = b / word * word;
    if (sizes.empty() || sizes.back() != rounded) sizes.push_back(rounded);
    if (b > maxbytes / stepfactor) break;  // the next step would pass maxbytes (or overflow)
  }
  return sizes;
}

bool AllreduceOptions::measures(const std::string& m) const {
  if (mode == "all") return true;
  if (mode == "both") return m == "blocking" || m == "async";
  return mode == m;
}

void add_allreduce_flags(CLI::App& app, AllreduceOptions& o) {
  add_size_option(app, "-b,--minbytes", o.minbytes, "smallest message in bytes (K/M/G suffixes)");
  add_size_option(app, "-e,--maxbytes", o.maxbytes, "largest message in bytes (K/M/G suffixes)");
  app.add_option("-f,--stepfactor", o.stepfactor, "multiply the size by this from one message to the next")
      ->check(at_least(2, "an integer >= 2"))
      ->capture_default_str();
  app.add_option("-w,--warmup", o.warmup, "untimed all-reduces per size (and mode)")->check(kNonNegative)->capture_default_str();
  app.add_option("-n,--iters", o.iters, "timed all-reduces per size (and mode)")->check(kPositive)->capture_default_str();
  app.add_option("--mode", o.mode,
                 "blocking: start + wait at once (standard TP); async: start, synthetic compute, wait (ladder TP), "
                 "with the OSU overlap; both; mpi: the MPI library's blocking MPI_Allreduce on the same buffers "
                 "(the floor blocking is compared with); all: mpi, blocking and async")
      ->check(CLI::IsMember({"blocking", "async", "both", "mpi", "all"}))
      ->capture_default_str();
  app.add_option("--compute-factor", o.compute_factor,
                 "async: the synthetic compute lasts this multiple of the size's pure all-reduce time")
      ->check(CLI::Range(0.1, 100.0))
      ->capture_default_str();
  app.add_option("--out", o.out, "results file (HDF5); written as <out>.partial until complete (default: log only)");
  app.add_flag("--overwrite", o.overwrite, "replace an existing --out file");
  add_comm_flags(app, o.link, o.timeout_s);
  app.add_flag("--roofline", o.roofline, "also measure STREAM copy/triad and GEMM ceilings first (docs/measurement.md)");
}

}  // namespace lb
