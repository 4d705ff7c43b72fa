// The cell's own calibration, measured between its generations (ladder-bench --roofline;
// docs/measurement.md, "Performance model"): every kernel of a decode step timed on the model's
// own weights, buffers and KV cache, and so is a prefill; the projections of the parallel block;
// and the all-reduce hand-off as a decode step meets it.
//
// Why: the roofline's GEMM table is measured once, at the job's start, on copies of one matrix;
// on a machine whose speed drifts by 10-20 % from minute to minute (a shared VM) that table and
// the cell's steps can be minutes apart, and the performance model then misses by the drift, not
// by its formulas (issue 17). These rounds run in the same minutes as the cell's samples, on the
// same weight matrices (so the same caches see them). A prefill and a decode step are replayed
// through the model's own forward (upper-bound's schedule: no communication), each kernel fenced
// and timed on its own: the model's per-kernel costs are then measured, not derived from bytes and
// a STREAM bandwidth (CPU VM, demo-cpu at batch 4: the decode step's kernels between the GEMMs took
// 1.6 ms, 4x what bytes / bandwidth gives; Kokkos Serial runs them as scalar loops). And the compute thread's time inside start_allreduce (handing the all-reduce
// to the progress thread, which posts it on the same core) is 4x longer right after a module's
// GEMMs than in ladder-allreduce's hot loop (CPU VM: 80-115 us against 19 us), time no other
// calibration sees; so is the wait that follows it. That pass runs through a Comm without the
// emulated link (the model adds the link's time itself), in the same minutes as the cell: a
// ladder-allreduce run minutes or hours away measured the same all-reduce 68 to 168 us (CPU VM,
// six sweeps; issue 17). With an emulated link the pass runs again through the model's own Comm,
// whose wait then also holds the link and what waiting it out takes beyond its end. The replayed
// decode step's modules, timed rank by rank, give what synchronising after each of them adds. A
// decode step replayed with ladder's schedule gives what an all-reduce costs the module computing
// over it and its hand-off there: the same modules' GEMMs alone, computed over the previous
// module's all-reduce, overstated both (CPU VM: 100-128 us of stretch where ladder's steps showed
// 56-107; issue 17, session 12).
#pragma once

#include "options/bench_options.hpp"
#include "measure/roofline.hpp"
#include "model/module_observer.hpp"
#include "model/schedule.hpp"
#include "model/transformer.hpp"

#include <mpi.h>

#include <string>
#include <vector>

namespace lb {

// A replayed forward's kernel other than a GEMM, per call, in a forward of `rows` tokens: its mean
// over its `calls` in the median round and in the best. A round's forward is its slowest rank's
// (kernel by kernel), and the median round is the one whose forward is the median (the mean of the
// two middle ones for an even count), so that the kernels add up to the median forward, as a
// step's sample is the slowest rank's whole step.
struct KernelTiming {
  std::string name;  // kernel_name(): rms_norm, apply_rope (a layer's queries and keys), ...
  bool decode = true;  // the decode step's (else the prefill's)
  int64_t rows = 0, calls = 0;
  int64_t keys = 0;  // causal_attention: keys per query (the mean decode step's; the prefill's last query's)
  double median_s = 0, best_s = 0;
};

struct StepCalibration {
  int rounds = 0;
  // Per GEMM shape, seconds per call: median and best round, each round's time the slowest rank's
  // (its sum over the shape's calls; in a replayed forward its median round, as KernelTiming's);
  // `calls` the calls per round, `copies` the distinct matrices they read (one per layer, one LM
  // head). Decode shapes first (QKV, o_proj, gate/up, down_proj, LM head: in the replayed step; the
  // fused input: in a pass of its own), then the prefill's (the same but the LM head; the fused
  // input at no more than kPrefillGemmRowsMax rows).
  std::vector<GemmTiming> gemms;
  // The replayed decode step's other kernels, then the replayed prefill's.
  std::vector<KernelTiming> kernels;
  // TP > 1: seconds inside start_allreduce of a decode step's all-reduce (`allreduce_bytes`) right
  // after the module's GEMMs, and in the wait() right after it (until the sum is usable): each the
  // median round of each round's mean over its calls; per call the slowest rank's hand-off, and
  // the wait of the rank that started the all-reduce last (the shortest).
  double allreduce_start_s = 0, allreduce_wait_s = 0;
  // With an emulated link: the same wait through the model's own Comm (the link's time and what
  // waiting it out takes beyond its end included); 0 without one.
  double allreduce_wait_link_s = 0;
  // TP > 1: what a rank waits per synchronisation for the other ranks' lag in the replayed decode
  // step, beyond the slowest rank's forward: the all-reduce after every module (standard, ladder)
  // and after every layer (the parallel block, whose layer does about the work of its two modules).
  double rank_skew_module_s = 0, rank_skew_layer_s = 0;
  // TP > 1: the all-reduce as ladder meets it, the next module computing while it moves: a decode
  // step replayed through the model's forward with ladder's schedule and again without
  // communication, modules and steps timed. Per all-reduce, the ladder step beyond the step
  // without communication and its waits (each step the slowest rank's); of it the stretch, the
  // ranks' mean of a module's compute beyond the same module's without communication (the
  // progress thread's hand-off work and its polls, preempting on the shared core; on a GPU,
  // NCCL's SMs), and the rest the hand-off. The median round of each.
  double allreduce_start_overlapped_s = 0, allreduce_stretch_overlapped_s = 0;
  int64_t allreduce_bytes = 0;
};

// What a synchronisation after every `group` consecutive modules costs on average beyond the
// slowest rank's forward: each sync waits for the rank that computed the group slowest, so a
// synchronised forward takes the sum over groups of the slowest rank's group, not the slowest
// rank's sum. module_s[rank][module]: seconds; the result per sync (>= 0; 0 for one rank).
double rank_skew_per_sync(const std::vector<std::vector<double>>& module_s, size_t group);

class StepCalibrator {
 public:
  // For the cell's prefill and decode steps; the hand-off pass when the model's Comm has more than
  // one rank, through `link_free` (the model's ranks, no emulated link). One untimed round on this
  // rank (page faults, BLAS buffers). `model` and `link_free` must outlive it; `model` must have
  // been reserved for the cell.
  StepCalibrator(Transformer& model, const Cell& cell, Comm& link_free);

  // One round, on every rank at once (collective over `world` and the Comm), between two
  // generations (the replayed forwards write the KV cache; the next prefill overwrites it): a
  // prefill and a decode step (at the cell's mean decode position) through the model's forward,
  // each kernel timed; every layer's fused input projection at decode and prefill rows (the
  // parallel block's: in a pass of its own, so that the rows of QKV and gate/up it shares are not
  // fresh in the cache), each call timed on its own; then (TP > 1) each layer's attention GEMMs, its
  // all-reduce (the start and the wait timed), the MLP's GEMMs and its all-reduce, as standard TP
  // runs them, through the link-free Comm, then (emulated link) through the model's, waits timed;
  // then a decode step as ladder runs it (the model's Comm) and as upper-bound, modules timed.
  void round(MPI_Comm world);

  // Collective: every rank must have made the same rounds. No GEMMs if no round was made.
  StepCalibration result(MPI_Comm world) const;

 private:
  // A projection timed outside the step: views of the model's matrices, called in this order.
  struct Kind {
    GemmShape shape;
    std::vector<Weight> weights;
    Mat x, y;
  };
  // One pass: this rank's seconds and calls per kernel kind of the replayed prefill, then of the
  // replayed decode step, seconds per Kind, then its mean seconds per start_allreduce, then the
  // seconds of each wait (0 at TP 1), then each module's seconds in the replayed decode step, then
  // each wait through the model's Comm (0 without an emulated link), then the replayed ladder
  // step's seconds, the same step's without communication, the ladder step's waits, and its mean
  // stretch of a module after the first (all 0 at TP 1).
  std::vector<double> time_calls();
  size_t first_wait() const;    // the column of a pass's first wait
  size_t first_module() const;  // of the replayed decode step's first module
  size_t first_link_wait() const;  // of the first wait through the model's Comm (emulated link)
  size_t first_step() const;   // of the replayed ladder step's seconds (StepColumn)
  size_t columns() const;       // of a pass
  size_t modules() const;       // in a forward: two per layer
  Transformer& model_;
  Comm& link_free_;
  Schedule no_communication_;
  Schedule ladder_;
  Tokens prompt_;    // [batch, prompt_len]: the replayed prefill's input
  Tokens token_;     // [batch, 1]: the replayed decode step's
  int64_t position_;  // its position: the cell's mean decode position
  std::vector<Kind> kinds_;
  Mat message_;                  // a decode step's all-reduce, [batch, d]
  std::vector<double> seconds_;  // [round][columns()]
};

}  // namespace lb
