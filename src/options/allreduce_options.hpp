// ladder-allreduce's flags (nccl-tests' names: -b -e -f -w -n) and the size sweep they describe.
#pragma once

#include "comm/link_model.hpp"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace lb {

struct AllreduceOptions {
  int64_t minbytes = 8, maxbytes = int64_t(64) << 20;
  int64_t stepfactor = 2;
  int64_t warmup = 5, iters = 20;
  // blocking | async | both (those two) | mpi (MPI_Allreduce itself, the floor) | all (the three)
  std::string mode = "both";
  double compute_factor = 1.0;
  std::string out;            // empty: log only
  bool overwrite = false;
  bool roofline = false;
  LinkModel link;
  double timeout_s = 300;

  // Whether the sweep measures `m`: "mpi", "blocking" or "async".
  bool measures(const std::string& m) const;
};

void add_allreduce_flags(CLI::App& app, AllreduceOptions& o);

// "8", "64K", "64M", "2G" (binary multiples, case-insensitive, as nccl-tests) -> bytes.
// Throws UserError naming the text otherwise (empty, negative, fractions, other suffixes, > 2^62).
int64_t parse_size(const std::string& text);

// minbytes, minbytes*f, ... up to maxbytes, each rounded down to whole floats (nccl-tests' sweep).
// Throws UserError if minbytes < sizeof(real), maxbytes < minbytes or stepfactor < 2.
std::vector<int64_t> size_sweep(int64_t minbytes, int64_t maxbytes, int64_t stepfactor);

}  // namespace lb
