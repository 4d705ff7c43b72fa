#include "bench/step_calibration.hpp"

#include "bench/concurrent_timing.hpp"
#include "kernels/gemm.hpp"

#include <algorithm>
#include <chrono>

namespace lb {

namespace {
// The decode kinds, in the order a decode step meets them; the prefill's follow.
enum KindIndex { kQkv, kO, kGateUp, kDown, kLmHead, kFusedIn, kDecodeKinds };
}  // namespace

StepCalibrator::StepCalibrator(const ModelWeights& w, int64_t batch, int64_t prefill_rows, Comm& comm) : comm_(comm) {
  std::vector<std::vector<Weight>> groups(kDecodeKinds);
  for (const LayerWeights& l : w.layers) {
    groups[kQkv].push_back(l.wqkv);
    groups[kO].push_back(l.wo);
    groups[kGateUp].push_back(l.w13);
    groups[kDown].push_back(l.w2);
    groups[kFusedIn].push_back(l.w_in);
  }
  groups[kLmHead].push_back(w.lm_head);
  const auto add = [&](const std::vector<Weight>& g, int64_t rows, bool decode) {
    Kind k;
    k.shape = {rows, g.front().rows(), g.front().cols(), decode};
    k.weights = g;
    k.x = Mat(Kokkos::view_alloc(Kokkos::WithoutInitializing, "step_gemm_x"), rows, k.shape.k);
    k.y = Mat(Kokkos::view_alloc(Kokkos::WithoutInitializing, "step_gemm_y"), rows, k.shape.n);
    Kokkos::deep_copy(k.x, real(0.01));  // the time of a GEMM does not depend on its values
    kinds_.push_back(std::move(k));
  };
  for (const std::vector<Weight>& g : groups) add(g, batch, true);
  // The prefill's: the same matrices but the LM head (a prefill's LM head sees one row per sequence).
  if (prefill_rows > 0)
    for (int kind : {kQkv, kO, kGateUp, kDown, kFusedIn}) add(groups[size_t(kind)], prefill_rows, false);
  message_ = Mat("step_allreduce", batch, kinds_[kO].shape.n);  // o_proj's output: [batch, d]
  time_calls();  // warm-up, not kept
}

std::vector<double> StepCalibrator::time_calls() {
  std::vector<double> t(kinds_.size() + 1, 0.0);
  TrialTimer timer;
  const auto call = [&](size_t kind, size_t matrix) {
    Kind& k = kinds_[kind];
    timer.start();
    gemm_xwt(k.x, k.weights[matrix], k.y);
    t[kind] += timer.stop();
  };
  const size_t layers = kinds_[kQkv].weights.size();
  for (size_t l = 0; l < layers; ++l)
    for (size_t kind : {kQkv, kO, kGateUp, kDown}) call(kind, l);
  call(kLmHead, 0);
  for (size_t l = 0; l < layers; ++l) call(kFusedIn, l);
  for (size_t kind = kDecodeKinds; kind < kinds_.size(); ++kind)
    for (size_t l = 0; l < layers; ++l) call(kind, l);
  if (comm_.size() > 1) {
    // A host clock around the call alone: the hand-off is the host thread's time, not the device's.
    const auto module = [&](size_t first, size_t second, size_t l) {
      gemm_xwt(kinds_[first].x, kinds_[first].weights[l], kinds_[first].y);
      gemm_xwt(kinds_[second].x, kinds_[second].weights[l], kinds_[second].y);
      const auto t0 = std::chrono::steady_clock::now();
      const Comm::Ticket ticket = comm_.start_allreduce(message_.data(), message_.size());
      t.back() += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      comm_.wait(ticket);
    };
    for (size_t l = 0; l < layers; ++l) {
      module(kQkv, kO, l);
      module(kGateUp, kDown, l);
    }
    t.back() /= double(2 * layers);
  }
  return t;
}

void StepCalibrator::round(MPI_Comm world) {
  Kokkos::fence();
  MPI_Barrier(world);
  const std::vector<double> t = time_calls();
  seconds_.insert(seconds_.end(), t.begin(), t.end());
}

StepCalibration StepCalibrator::result(MPI_Comm world) const {
  std::vector<double> s = seconds_;
  MPI_Allreduce(MPI_IN_PLACE, s.data(), int(s.size()), MPI_DOUBLE, MPI_MAX, world);
  const size_t n = kinds_.size() + 1, rounds = s.size() / n;
  StepCalibration out;
  out.rounds = int(rounds);
  if (rounds == 0) return out;
  const auto column = [&](size_t j, double divisor) {
    std::vector<double> v;
    for (size_t r = 0; r < rounds; ++r) v.push_back(s[r * n + j] / divisor);
    return v;
  };
  for (size_t kind = 0; kind + 1 < n; ++kind) {
    const Kind& k = kinds_[kind];
    const std::vector<double> per_call = column(kind, double(k.weights.size()));
    GemmTiming g;
    g.shape = k.shape;
    g.calls = g.copies = int64_t(k.weights.size());
    g.best_s = *std::min_element(per_call.begin(), per_call.end());
    g.median_s = median_of(per_call);
    out.gemms.push_back(g);
  }
  if (comm_.size() > 1) {
    out.allreduce_start_s = median_of(column(n - 1, 1.0));
    out.allreduce_bytes = int64_t(message_.size() * sizeof(real));
  }
  return out;
}

}  // namespace lb
