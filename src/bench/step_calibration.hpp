// The cell's own calibration, measured between its generations (ladder-bench --roofline;
// docs/measurement.md, "Performance model"): its GEMMs timed on the model's own weights, and the
// all-reduce hand-off as a decode step meets it.
//
// Why: the roofline's GEMM table is measured once, at the job's start, on copies of one matrix;
// on a machine whose speed drifts by 10-20 % from minute to minute (a shared VM) that table and
// the cell's steps can be minutes apart, and the performance model then misses by the drift, not
// by its formulas (issue 17). These rounds run in the same minutes as the cell's samples, on the
// same weight matrices (so the same caches see them). And the compute thread's time inside
// start_allreduce (handing the all-reduce to the progress thread, which posts it on the same
// core) is 4x longer right after a module's GEMMs than in ladder-allreduce's hot loop (CPU VM:
// 80-115 us against 19 us), time no other calibration sees.
#pragma once

#include "bench/roofline.hpp"
#include "comm/comm.hpp"
#include "model/weights.hpp"

#include <mpi.h>

#include <vector>

namespace lb {

struct StepCalibration {
  int rounds = 0;
  // Per GEMM shape, seconds per call: median and best round, each round's time the slowest rank's
  // (its sum over the shape's calls); `calls` the calls per round, `copies` the distinct matrices
  // they read (one per layer, one LM head). Decode shapes first (QKV, o_proj, gate/up, down_proj,
  // LM head, fused input), then the prefill's (the same but the LM head).
  std::vector<GemmTiming> gemms;
  // TP > 1: seconds inside start_allreduce of a decode step's all-reduce (`allreduce_bytes`) right
  // after the module's GEMMs: median round of each round's mean over its calls, the slowest rank's.
  double allreduce_start_s = 0;
  int64_t allreduce_bytes = 0;
};

class StepCalibrator {
 public:
  // Buffers for a decode step of `batch` rows and a prefill of `prefill_rows` (0: no prefill
  // pass); the hand-off pass when `comm` has more than one rank. One untimed round on this rank
  // (page faults, BLAS buffers). `w` and `comm` must outlive it.
  StepCalibrator(const ModelWeights& w, int64_t batch, int64_t prefill_rows, Comm& comm);

  // One round, on every rank at once (collective over `world` and the Comm): each layer's QKV,
  // o_proj, gate/up and down_proj projections in a decode step's order, the LM head, every layer's
  // fused input projection (the parallel block's: in a pass of its own, so that the rows of QKV
  // and gate/up it shares are not fresh in the cache), the prefill's projections of every layer,
  // each call timed on its own; then (TP > 1) each layer's attention GEMMs, its all-reduce (the
  // start timed), the MLP's GEMMs and its all-reduce, as standard TP runs them.
  void round(MPI_Comm world);

  // Collective: every rank must have made the same rounds. No GEMMs if no round was made.
  StepCalibration result(MPI_Comm world) const;

 private:
  struct Kind {
    GemmShape shape;
    std::vector<Weight> weights;  // views of the model's matrices, called in this order
    Mat x, y;
  };
  // One pass: this rank's seconds per kind, then its mean seconds per start_allreduce (0 at TP 1).
  std::vector<double> time_calls();
  std::vector<Kind> kinds_;
  Comm& comm_;
  Mat message_;                  // a decode step's all-reduce, [batch, d]
  std::vector<double> seconds_;  // [round][kinds + 1]
};

}  // namespace lb
