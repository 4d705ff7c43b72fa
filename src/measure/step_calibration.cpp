#include "measure/step_calibration.hpp"

#include "measure/concurrent_timing.hpp"
#include "measure/module_profile.hpp"
#include "kernels/gemm.hpp"

#include <algorithm>
#include <chrono>
#include <numeric>

namespace lb {

namespace {
// The projections timed outside the replayed forwards: the standard module's four (the hand-off
// pass's GEMMs, not timed), the parallel block's fused input at decode and at prefill rows.
enum KindIndex { kQkv, kO, kGateUp, kDown, kFusedIn, kFusedInPrefill };
// The replayed forwards, in a round's order; each records seconds then calls per Kernel.
enum Replay { kPrefill, kDecode, kReplays };
// The replayed ladder step's columns (TP > 1), after the waits through the model's Comm: its
// seconds, the same step's without communication, its waits, its mean stretch of a module after
// the first.
enum StepColumn { kLadderStep, kLadderAlone, kLadderWaits, kLadderStretch, kStepColumns };
constexpr size_t kClock = 2 * kKernelKinds;
bool is_gemm(Kernel k) { return k >= Kernel::GemmQkv; }

// Seconds and calls per kernel kind of the forwards it observes, each kernel fenced; with
// `module_s`, also each module's seconds (its own kernels, by module index).
class KernelClock final : public ModuleObserver {
 public:
  explicit KernelClock(double* seconds_then_calls, double* module_s = nullptr)
      : out_(seconds_then_calls), module_s_(module_s) {}
  void kernel_begin(Kernel) override { timer_.start(); }
  void kernel_end(Kernel k) override {
    out_[int(k)] += timer_.stop();
    out_[kKernelKinds + int(k)] += 1;
  }
  void compute_begin(int64_t) override {
    if (module_s_) module_timer_.start();
  }
  void compute_end(int64_t i) override {
    if (module_s_) module_s_[i] += module_timer_.stop();
  }

 private:
  double* out_;
  double* module_s_;
  TrialTimer timer_, module_timer_;
};
}  // namespace

double rank_skew_per_sync(const std::vector<std::vector<double>>& module_s, size_t group) {
  const size_t modules = module_s.front().size(), syncs = modules / group;
  double sum_of_slowest = 0, slowest_forward = 0;
  for (const std::vector<double>& rank : module_s)
    slowest_forward = std::max(slowest_forward, std::accumulate(rank.begin(), rank.end(), 0.0));
  for (size_t first = 0; first + group <= modules; first += group) {
    double slowest = 0;
    for (const std::vector<double>& rank : module_s)
      slowest = std::max(slowest, std::accumulate(rank.begin() + first, rank.begin() + first + group, 0.0));
    sum_of_slowest += slowest;
  }
  return (sum_of_slowest - slowest_forward) / double(syncs);
}

StepCalibrator::StepCalibrator(Transformer& model, const Cell& cell, Comm& link_free)
    : model_(model),
      link_free_(link_free),
      no_communication_(Variant::UpperBound, model.config(), model.comm().size()),
      ladder_(Variant::Ladder, model.config(), model.comm().size()),
      prompt_("step_prompt", cell.batch, cell.prompt_len),
      token_("step_token", cell.batch, 1),
      // Decode steps sit at positions prompt_len .. prompt_len + gen_len - 2; attention's cost grows
      // linearly with the position, so the mean position's is the mean step's.
      position_(cell.prompt_len + (cell.gen_len - 2) / 2) {
  const ModelWeights& w = model.weights();
  std::vector<std::vector<Weight>> groups(kFusedIn + 1);
  for (const LayerWeights& l : w.layers) {
    groups[kQkv].push_back(l.wqkv);
    groups[kO].push_back(l.wo);
    groups[kGateUp].push_back(l.w13);
    groups[kDown].push_back(l.w2);
    groups[kFusedIn].push_back(l.w_in);
  }
  const auto add = [&](const std::vector<Weight>& g, int64_t rows, bool decode) {
    Kind k;
    k.shape = {rows, g.front().rows(), g.front().cols(), decode};
    k.weights = g;
    k.x = Mat(Kokkos::view_alloc(Kokkos::WithoutInitializing, "step_gemm_x"), rows, k.shape.k);
    k.y = Mat(Kokkos::view_alloc(Kokkos::WithoutInitializing, "step_gemm_y"), rows, k.shape.n);
    Kokkos::deep_copy(k.x, real(0.01));  // the time of a GEMM does not depend on its values
    kinds_.push_back(std::move(k));
  };
  for (const std::vector<Weight>& g : groups) add(g, cell.batch, true);
  add(groups[kFusedIn], std::min(cell.batch * cell.prompt_len, kPrefillGemmRowsMax), false);
  message_ = Mat("step_allreduce", cell.batch, kinds_[kO].shape.n);  // o_proj's output: [batch, d]
  time_calls();  // warm-up, not kept
}

size_t StepCalibrator::first_wait() const { return kReplays * kClock + kinds_.size() + 1; }
size_t StepCalibrator::first_module() const { return first_wait() + modules(); }  // a wait per module before
size_t StepCalibrator::first_link_wait() const { return first_module() + modules(); }
size_t StepCalibrator::first_step() const { return first_link_wait() + modules(); }
size_t StepCalibrator::columns() const { return first_step() + kStepColumns; }
size_t StepCalibrator::modules() const { return 2 * kinds_[kQkv].weights.size(); }

std::vector<double> StepCalibrator::time_calls() {
  std::vector<double> t(columns(), 0.0);
  const auto replay = [&](Replay r, const Tokens& tokens, int64_t pos0) {  // every kernel, as the model runs it
    KernelClock clock(t.data() + r * kClock, r == kDecode ? t.data() + first_module() : nullptr);
    model_.set_observer(&clock);
    model_.forward(tokens, pos0, no_communication_);
    model_.set_observer(nullptr);
  };
  replay(kPrefill, prompt_, 0);
  replay(kDecode, token_, position_);
  double* const kind_s = t.data() + kReplays * kClock;
  TrialTimer timer;
  const size_t layers = kinds_[kQkv].weights.size();
  for (size_t kind : {kFusedIn, kFusedInPrefill})
    for (size_t l = 0; l < layers; ++l) {
      Kind& k = kinds_[kind];
      timer.start();
      gemm_xwt(k.x, k.weights[l], k.y);
      kind_s[kind] += timer.stop();
    }
  if (link_free_.size() > 1) {
    // A host clock around the call, then around the wait: the hand-off is the host thread's time,
    // and the wait ends once the sum is usable (the fence: on a GPU the all-reduce runs on the
    // stream; the one before the call keeps the module's GEMMs out of both). Each wait is kept:
    // result() takes each all-reduce's from the rank that started it last.
    double& start_s = t[first_wait() - 1];
    double* wait_s = t.data() + first_wait();
    using Clock = std::chrono::steady_clock;
    const auto seconds_since = [](Clock::time_point t0) {
      return std::chrono::duration<double>(Clock::now() - t0).count();
    };
    // Through `comm`: its hand-off (timed into start_s where given) and each wait (into *wait_s++).
    const auto module = [&](Comm& comm, size_t first, size_t second, size_t l, double* start, double*& wait) {
      gemm_xwt(kinds_[first].x, kinds_[first].weights[l], kinds_[first].y);
      gemm_xwt(kinds_[second].x, kinds_[second].weights[l], kinds_[second].y);
      Kokkos::fence();
      auto t0 = Clock::now();
      const Comm::Ticket ticket = comm.start_allreduce(message_.data(), message_.size());
      if (start) *start += seconds_since(t0);
      t0 = Clock::now();
      comm.wait(ticket);
      Kokkos::fence();
      *wait++ = seconds_since(t0);
    };
    for (size_t l = 0; l < layers; ++l) {
      module(link_free_, kQkv, kO, l, &start_s, wait_s);
      module(link_free_, kGateUp, kDown, l, &start_s, wait_s);
    }
    // With an emulated link, the same through the model's own Comm: the wait then also holds the
    // link's time and what the compute thread's wait takes beyond its end (ω, as a step meets it).
    if (&link_free_ != &model_.comm()) {
      double* link_wait_s = t.data() + first_link_wait();
      for (size_t l = 0; l < layers; ++l) {
        module(model_.comm(), kQkv, kO, l, nullptr, link_wait_s);
        module(model_.comm(), kGateUp, kDown, l, nullptr, link_wait_s);
      }
    }
    start_s /= double(modules());
    // The decode step as ladder runs it, through the model's own Comm, and the same step without
    // communication, each module timed (--breakdown's profile) and each whole forward.
    const auto profiled = [&](const Schedule& schedule, ModuleProfile& profile) {
      // The ranks start the step together, as after a generation's barrier: a rank that came
      // early would hand its first all-reduce off milliseconds before its peer and poll through
      // its next module (CI VM: 1-2 ms of stretch on the first module the ranks' last step apart).
      link_free_.wait(link_free_.start_allreduce(message_.data(), message_.size()));
      profile.reset(int64_t(layers));
      model_.set_observer(&profile);
      const auto t0 = Clock::now();
      model_.forward(token_, position_, schedule);
      Kokkos::fence();
      const double forward_s = seconds_since(t0);
      model_.set_observer(nullptr);
      return forward_s;
    };
    double* const step = t.data() + first_step();
    ModuleProfile alone, overlapped;
    step[kLadderStep] = profiled(ladder_, overlapped);
    step[kLadderAlone] = profiled(no_communication_, alone);
    for (size_t i = 0; i < modules(); ++i) {
      step[kLadderWaits] += overlapped.wait_s[i];
      if (i > 0)  // the first module computes over no all-reduce
        step[kLadderStretch] += (overlapped.compute_s[i] - alone.compute_s[i]) / double(modules() - 1);
    }
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
  const size_t n = columns(), rounds = seconds_.size() / n;
  int ranks = 1;
  MPI_Comm_size(world, &ranks);
  std::vector<double> all(seconds_.size() * size_t(ranks));
  MPI_Allgather(seconds_.data(), int(seconds_.size()), MPI_DOUBLE, all.data(), int(seconds_.size()), MPI_DOUBLE, world);
  const auto at = [&](int rank, size_t round, size_t j) { return all[size_t(rank) * seconds_.size() + round * n + j]; };
  // The rank whose value(rank) is the largest (the first of equals): a round's slowest, as a sample is.
  const auto slowest_rank = [&](auto&& value) {
    int slowest = 0;
    for (int rank = 1; rank < ranks; ++rank)
      if (value(rank) > value(slowest)) slowest = rank;
    return slowest;
  };
  const auto kernel_seconds = [&](auto&& value, Replay b) {  // a replayed forward's total
    double sum = 0;
    for (size_t k = 0; k < size_t(kKernelKinds); ++k) sum += value(b * kClock + k);
    return sum;
  };
  // Each round as a sample is: a replayed forward the slowest rank's, kernel by kernel (the rank
  // with the longest forward, so that its kernels add up to the forward's time as the step's
  // sample does: the max over ranks of the whole); an all-reduce's wait the shortest over ranks
  // (the rank that started it last: the all-reduce's own time, not the other rank's lag in the
  // GEMMs before it, which the replayed forward's slowest rank already holds); any other column
  // the max over ranks.
  std::vector<double> s(seconds_.size());
  for (size_t r = 0; r < rounds; ++r) {
    for (size_t j = kReplays * kClock; j < n; ++j) {
      if (j >= first_module() && j < first_link_wait()) continue;  // the modules: rank by rank below
      if (j >= first_step()) continue;  // the replayed ladder step's: below
      double v = at(0, r, j);
      for (int rank = 1; rank < ranks; ++rank) v = j < first_wait() ? std::max(v, at(rank, r, j)) : std::min(v, at(rank, r, j));
      s[r * n + j] = v;
    }
    for (const Replay b : {kPrefill, kDecode}) {
      const int slowest =
          slowest_rank([&](int rank) { return kernel_seconds([&](size_t j) { return at(rank, r, j); }, b); });
      for (size_t j = b * kClock; j < (b + 1) * kClock; ++j) s[r * n + j] = at(slowest, r, j);
    }
  }
  StepCalibration out;
  out.rounds = int(rounds);
  if (rounds == 0) return out;
  const auto column = [&](size_t j, double divisor) {
    std::vector<double> v;
    for (size_t r = 0; r < rounds; ++r) v.push_back(s[r * n + j] / divisor);
    return v;
  };
  // A replayed forward's median round(s): its kernels then add up to the median forward (the mean
  // of the two middle rounds for an even count, as median_of).
  std::vector<size_t> median_rounds[kReplays];
  for (const Replay b : {kPrefill, kDecode}) {
    std::vector<size_t> order(rounds);
    std::vector<double> forward_s(rounds);
    for (size_t r = 0; r < rounds; ++r) {
      order[r] = r;
      forward_s[r] = kernel_seconds([&](size_t j) { return s[r * n + j]; }, b);
    }
    std::sort(order.begin(), order.end(), [&](size_t x, size_t y) { return forward_s[x] < forward_s[y]; });
    median_rounds[b] = {order[(rounds - 1) / 2], order[rounds / 2]};
  }
  struct Times {
    double median_s, best_s;
  };
  const auto per_call = [&](size_t j, int64_t calls) {
    const std::vector<double> v = column(j, double(calls));
    const std::vector<size_t>* m = j < kReplays * kClock ? &median_rounds[j / kClock] : nullptr;
    const double median = m ? (v[(*m)[0]] + v[(*m)[1]]) / 2 : median_of(v);
    return Times{median, *std::min_element(v.begin(), v.end())};
  };
  const auto gemm = [&](const GemmShape& shape, size_t j, int64_t calls) {
    const Times t = per_call(j, calls);
    GemmTiming g;
    g.shape = shape;
    g.calls = g.copies = calls;
    g.median_s = t.median_s;
    g.best_s = t.best_s;
    out.gemms.push_back(g);
  };
  const int64_t batch = token_.extent(0), prompt_len = prompt_.extent(1);
  const auto calls_of = [&](Replay r, Kernel k) {  // the same every round
    return int64_t(s[r * kClock + kKernelKinds + size_t(k)]);
  };
  const ModelWeights& w = model_.weights();
  const std::pair<Kernel, const Weight&> projections[] = {{Kernel::GemmQkv, w.layers[0].wqkv},
                                                          {Kernel::GemmO, w.layers[0].wo},
                                                          {Kernel::GemmGateUp, w.layers[0].w13},
                                                          {Kernel::GemmDown, w.layers[0].w2},
                                                          {Kernel::GemmLmHead, w.lm_head}};
  // Decode shapes, then the prefill's (whose LM head, on one row per sequence, is a decode shape).
  for (const Replay r : {kDecode, kPrefill}) {
    const bool decode = r == kDecode;
    for (const auto& [k, weight] : projections)
      if (decode || k != Kernel::GemmLmHead)
        gemm({decode ? batch : batch * prompt_len, weight.rows(), weight.cols(), decode}, r * kClock + size_t(k),
             calls_of(r, k));
    const size_t fused = decode ? kFusedIn : kFusedInPrefill;
    gemm(kinds_[fused].shape, kReplays * kClock + fused, int64_t(kinds_[fused].weights.size()));
  }
  for (const Replay r : {kDecode, kPrefill})
    for (int i = 0; i < kKernelKinds; ++i) {
      const Kernel k = Kernel(i);
      if (is_gemm(k) || calls_of(r, k) == 0) continue;
      const Times t = per_call(r * kClock + size_t(i), calls_of(r, k));
      const bool decode = r == kDecode;
      // Attention's keys per query: the mean decode step's; in the prefill the last query's.
      const int64_t keys = k != Kernel::Attention ? 0 : decode ? position_ + 1 : prompt_len;
      out.kernels.push_back({kernel_name(k), decode, decode ? batch : batch * prompt_len, calls_of(r, k), keys,
                             t.median_s, t.best_s});
    }
  if (link_free_.size() > 1) {
    out.allreduce_start_s = median_of(column(first_wait() - 1, 1.0));
    const auto mean_wait = [&](size_t first) {  // each round's mean over its all-reduces; the median round
      std::vector<double> wait(rounds, 0.0);
      for (size_t r = 0; r < rounds; ++r)
        for (size_t j = first; j < first + modules(); ++j) wait[r] += s[r * n + j] / double(modules());
      return median_of(wait);
    };
    out.allreduce_wait_s = mean_wait(first_wait());
    out.allreduce_wait_link_s = mean_wait(first_link_wait());
    // The replayed decode step's modules, rank by rank, in each round; the median round.
    const auto skew = [&](size_t group) {
      std::vector<double> per_round(rounds);
      for (size_t r = 0; r < rounds; ++r) {
        std::vector<std::vector<double>> by_rank(static_cast<size_t>(ranks), std::vector<double>(modules()));
        for (int rank = 0; rank < ranks; ++rank)
          for (size_t i = 0; i < modules(); ++i) by_rank[size_t(rank)][i] = at(rank, r, first_module() + i);
        per_round[r] = rank_skew_per_sync(by_rank, group);
      }
      return median_of(per_round);
    };
    // The replayed ladder step: per all-reduce, what it took beyond the step without communication
    // and its waits, each step the slowest rank's as a sample is (the waits the ladder step's
    // slowest rank's); of that the stretch is the ranks' mean (a rank that reaches an all-reduce
    // first polls through its next module longer, in time it would otherwise wait for the
    // slowest), the rest the hand-off. Each the median round.
    std::vector<double> start(rounds), stretch(rounds);
    const double m = double(modules());
    const auto step_at = [&](int rank, size_t r, StepColumn c) { return at(rank, r, first_step() + c); };
    const auto slowest = [&](size_t r, StepColumn c) {  // the rank whose column is the longest
      return slowest_rank([&](int rank) { return step_at(rank, r, c); });
    };
    for (size_t r = 0; r < rounds; ++r) {
      const int ladder_rank = slowest(r, kLadderStep);
      const double alone_s = step_at(slowest(r, kLadderAlone), r, kLadderAlone);
      double mean_stretch_s = 0;
      for (int rank = 0; rank < ranks; ++rank) mean_stretch_s += step_at(rank, r, kLadderStretch) / ranks;
      const double per_allreduce_s =
          (step_at(ladder_rank, r, kLadderStep) - alone_s - step_at(ladder_rank, r, kLadderWaits)) / m;
      stretch[r] = std::clamp(mean_stretch_s, 0.0, std::max(per_allreduce_s, 0.0) * m / (m - 1));
      start[r] = per_allreduce_s - stretch[r] * (m - 1) / m;
    }
    out.allreduce_start_overlapped_s = median_of(start);
    out.allreduce_stretch_overlapped_s = median_of(stretch);
    out.rank_skew_module_s = skew(1);
    out.rank_skew_layer_s = skew(2);
    out.allreduce_bytes = model_.comm().wire_bytes(message_.size());  // a 16-bit GPU model sends 2 bytes each
  }
  return out;
}

}  // namespace lb
