#include "comm/comm_shm.hpp"

#include "comm/watchdog.hpp"
#include "core/node_comm.hpp"

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <deque>
#include <exception>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace lb {
namespace {

using Clock = std::chrono::steady_clock;
// A chunk's sequence number, the same on every rank (every rank starts the same all-reduces in the
// same order). 64 bits: at a billion chunks a second it would wrap after 584 years, so a number
// seen in a flag always means that chunk and no older one.
using Seq = uint64_t;

// Each rank's segment holds kSlots chunk buffers; chunk s goes to buffer s % kSlots, once every rank
// has finished reading chunk s - kSlots from that buffer (the reuse guard). Ladder keeps up to two
// all-reduces in flight; four buffers let a rank run two messages ahead of its slowest peer before
// the guard makes it wait.
constexpr Seq kSlots = 4;
// A message larger than one buffer travels as consecutive chunks, each with its own sequence
// number; later chunks are copied in while the earlier ones are summed. 1 MiB: every decode
// all-reduce of the CPU models is one chunk, and 4 buffers per rank stay small next to the weights.
constexpr size_t kChunkBytes = size_t(1) << 20;
constexpr size_t kChunkFloats = kChunkBytes / sizeof(real);

static_assert(std::atomic<Seq>::is_always_lock_free, "flags shared between processes must be lock-free");

// The control block at the start of each rank's segment: written by its rank only, read by all.
// The two flags sit on separate cache lines, so that polling one does not pull the other's line
// away from its writer.
struct Control {
  // The last chunk whose data is in this rank's buffers. Stored with release after the data and
  // start_ns; a reader that loads it with acquire sees both.
  alignas(64) std::atomic<Seq> published;
  // Per buffer: when its chunk's message was started on this rank, in steady-clock nanoseconds
  // (CLOCK_MONOTONIC: one clock for every process of the node), for the emulated link.
  int64_t start_ns[kSlots];
  // The last chunk this rank has finished reading from every rank's buffers. Stored with release
  // after those reads; a writer that loads it with acquire before reusing a buffer overwrites
  // nothing still being read.
  alignas(64) std::atomic<Seq> consumed;
};
constexpr size_t kPage = 4096;
constexpr size_t kControlBytes = kPage;  // the buffers start page-aligned
static_assert(sizeof(Control) <= kControlBytes, "the control block must fit before the buffers");

// MPI aligns a rank's segment to nothing in particular (OpenMPI 4.1: 8 bytes into a cache line),
// but every process maps it at a page boundary, so rounding up to a page gives every rank the same
// place in it.
void* page_aligned(void* p) {
  return reinterpret_cast<void*>((reinterpret_cast<uintptr_t>(p) + kPage - 1) / kPage * kPage);
}

// Polls this many times with a pause before yielding the core at each poll: with a core per rank
// the peer's flag usually arrives within them; with ranks sharing a core (--oversubscribe) the
// peer can only run once this rank yields.
constexpr int kPausePolls = 64;

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

// out[i] = src[0][i] + src[1][i] + ... + src[P-1][i], added in rank order: every rank adds the
// same floats in the same order, so every rank gets bit-identical sums. Blocks of 8 KiB keep `out`
// in L1 across the P - 1 passes.
void sum_in_rank_order(real* __restrict out, const real* const* src, int P, size_t n) {
  constexpr size_t kBlock = 2048;
  for (size_t b = 0; b < n; b += kBlock) {
    const size_t e = std::min(n, b + kBlock);
    const real* __restrict s0 = src[0];
    const real* __restrict s1 = src[1];
    for (size_t i = b; i < e; ++i) out[i] = s0[i] + s1[i];
    for (int r = 2; r < P; ++r) {
      const real* __restrict s = src[r];
      for (size_t i = b; i < e; ++i) out[i] += s[i];
    }
  }
}

class ShmComm final : public Comm {
 public:
  ShmComm(MPI_Comm parent, const LinkModel& link, double timeout_s) : link_(link), node_(parent) {
    MPI_Comm_rank(parent, &rank_);
    MPI_Comm_size(parent, &size_);
    if (node_.size() != size_ || node_.rank() != rank_)
      throw std::logic_error("make_shm_comm: the ranks are not all on one node");
    watchdog_start(timeout_s, rank_);
    MPI_Info info;
    MPI_Info_create(&info);
    MPI_Info_set(info, "alloc_shared_noncontig", "true");  // each segment on pages its owner touches first
    void* base = nullptr;
    MPI_Win_allocate_shared(MPI_Aint(kPage + kControlBytes + kSlots * kChunkBytes), 1, info, node_.get(), &base, &win_);
    MPI_Info_free(&info);
    // Loads and stores into the window are coherent with every other rank's only in MPI's unified
    // memory model (osc/sm always is): the flags' ordering is then the C++ atomics' own.
    int* model = nullptr;
    int found = 0;
    MPI_Win_get_attr(win_, MPI_WIN_MODEL, &model, &found);
    if (!found || *model != MPI_WIN_UNIFIED)
      throw std::runtime_error("make_shm_comm: the MPI library's shared window is not in the unified memory model");
    new (page_aligned(base)) Control();  // zeroed flags: nothing published, nothing read
    MPI_Barrier(node_.get());  // every control block initialized before any is read
    control_.resize(size_t(size_));
    data_.resize(size_t(size_));
    sources_.resize(size_t(size_));
    for (int q = 0; q < size_; ++q) {
      MPI_Aint bytes = 0;
      int unit = 0;
      void* p = nullptr;
      MPI_Win_shared_query(win_, q, &bytes, &unit, &p);
      p = page_aligned(p);
      control_[q] = static_cast<Control*>(p);
      data_[q] = reinterpret_cast<real*>(static_cast<char*>(p) + kControlBytes);
    }
  }

  ~ShmComm() override {
    // Unwinding after an error on this rank: the job is being aborted (app/mpi_app.cpp), and the
    // peers may never reach the collectives below.
    if (std::uncaught_exceptions() > 0) return;
    watch_tag_ = -1;
    watch_start_ = false;
    complete_through(issued_);  // the peers still read this rank's buffers until they summed them
    watch_.reset();
    MPI_Win_free(&win_);  // collective: no rank unmaps the segments before all are done with them
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string name() const override { return "shm"; }
  std::string transports() const override {
    return "shm: MPI-3 shared window, each rank sums every slot in rank order (no progress thread)";
  }

  Ticket start_allreduce(real* buf, size_t n, int64_t tag) override {
    if (size_ == 1) return consumed_ = ++issued_;  // the sum over one rank is the identity
    ExecSpace().fence();  // the module's output must be complete before it is copied
    Message m{buf, n, tag, issued_ + 1, issued_ + std::max<size_t>(1, (n + kChunkFloats - 1) / kChunkFloats), now_ns()};
    issued_ = m.last;
    messages_.push_back(m);
    watch_tag_ = tag;
    watch_start_ = true;
    // The first chunk now, so that every peer can complete its wait without this rank; the others
    // if their buffers are free (else wait() copies them in).
    publish_through(m.first);
    publish_ahead();
    watch_.reset();
    return m.last;
  }

  void wait(Ticket ticket) override {
    if (ticket <= consumed_) return;
    watch_tag_ = message_of(ticket).tag;
    watch_start_ = false;
    complete_through(ticket);
    watch_.reset();
  }

 private:
  struct Message {
    real* buf;
    size_t n;
    int64_t tag;
    Seq first, last;  // its chunks
    int64_t start_ns;
  };

  static size_t buffer_of(Seq s) { return size_t(s % kSlots); }
  Control& mine() { return *control_[rank_]; }

  const Message& message_of(Seq s) const {
    for (const Message& m : messages_)
      if (s <= m.last) return m;
    throw std::logic_error("ShmComm: a ticket that was never issued");
  }

  // Whether chunk s may be copied into its buffer: every rank has read the chunk it held before.
  bool buffer_free(Seq s) const {
    if (s <= kSlots) return true;
    const Seq before = s - kSlots;
    if (consumed_ < before) return false;
    for (const Control* c : control_)
      if (c->consumed.load(std::memory_order_acquire) < before) return false;
    return true;
  }

  void copy_in(Seq s) {
    const Message& m = message_of(s);
    const size_t offset = (s - m.first) * kChunkFloats;
    const size_t n = std::min(kChunkFloats, m.n - offset);
    std::memcpy(data_[rank_] + buffer_of(s) * kChunkFloats, m.buf + offset, n * sizeof(real));
    mine().start_ns[buffer_of(s)] = m.start_ns;
    mine().published.store(s, std::memory_order_release);
    published_ = s;
  }

  // Copies in the chunks after the last published one while their buffers are free.
  void publish_ahead() {
    while (published_ < issued_ && buffer_free(published_ + 1)) copy_in(published_ + 1);
  }

  // Copies in every chunk through s, waiting for buffers to be read where needed.
  void publish_through(Seq s) {
    while (published_ < s) {
      const Seq next = published_ + 1;
      if (next > kSlots && consumed_ < next - kSlots) {
        // More chunks in flight than buffers: this rank's own reads of the old chunk come first.
        complete_through(next - kSlots);
        continue;
      }
      spin([&] { return buffer_free(next); });
      copy_in(next);
    }
  }

  // Sums every chunk through `target` into its message's buffer, in order.
  void complete_through(Seq target) {
    while (consumed_ < target) {
      const Seq s = consumed_ + 1;
      publish_through(s);
      publish_ahead();
      spin([&] {
        for (const Control* c : control_)
          if (c->published.load(std::memory_order_acquire) < s) return false;
        return true;
      });
      const Message& m = message_of(s);
      if (s == m.first) emulate_link(m);
      const size_t offset = (s - m.first) * kChunkFloats;
      for (int q = 0; q < size_; ++q) sources_[size_t(q)] = data_[size_t(q)] + buffer_of(s) * kChunkFloats;
      sum_in_rank_order(m.buf + offset, sources_.data(), size_, std::min(kChunkFloats, m.n - offset));
      consumed_ = s;
      mine().consumed.store(s, std::memory_order_release);
      if (s == m.last) messages_.pop_front();
    }
  }

  // The emulated link (link_model.hpp), as the MPI path applies it: the transfer enters the link
  // once the last rank has started it and the previous transfer has left (FIFO), and occupies it
  // for the link's delay; the sum follows. Every rank reads the same start times, so every rank
  // computes the same end.
  void emulate_link(const Message& m) {
    if (!link_.enabled()) return;
    int64_t last_start = 0;
    for (const Control* c : control_) last_start = std::max(last_start, c->start_ns[buffer_of(m.first)]);
    const auto delay = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(link_.delay_s(m.n * sizeof(real), size_)));
    const Clock::time_point entered(std::chrono::duration_cast<Clock::duration>(std::chrono::nanoseconds(last_start)));
    link_free_ = std::max(entered, link_free_) + delay;
    if (Clock::now() >= link_free_) return;
    if (!watch_) arm();
    watch_->spin_until(link_free_);
  }

  // Polls `ready` until it holds: a few pauses, then a yield per poll; the watchdog bounds it.
  template <class Ready>
  void spin(Ready&& ready) {
    for (int polls = 0; !ready(); ++polls) {
      if (polls < kPausePolls) {
        cpu_relax();
        continue;
      }
      if (!watch_) arm();
      sched_yield();
    }
  }

  // Arms the watchdog for the call in progress, once it blocks (a wait that completes at once
  // never pays for the description).
  void arm() {
    std::string what = "the all-reduce of " + describe(watch_tag_);
    if (watch_start_) what += "'s start (a buffer still being read by a peer)";
    if (link_.enabled()) what += " (emulated link time included)";
    watch_.emplace(std::move(what));
  }

  LinkModel link_;
  NodeComm node_;
  MPI_Win win_ = MPI_WIN_NULL;
  int rank_ = 0, size_ = 1;
  std::vector<Control*> control_;  // every rank's, in the window
  std::vector<real*> data_;        // every rank's first buffer
  std::vector<const real*> sources_;
  std::deque<Message> messages_;   // started, not yet summed, in order
  Seq issued_ = 0, published_ = 0, consumed_ = 0;
  Clock::time_point link_free_;
  int64_t watch_tag_ = -1;
  bool watch_start_ = false;
  std::optional<WatchdogScope> watch_;
};

}  // namespace

bool all_ranks_on_one_node(MPI_Comm comm) {
  int size = 1;
  MPI_Comm_size(comm, &size);
  return NodeComm(comm).size() == size;  // the same answer on every rank: all are on this node or not
}

std::unique_ptr<Comm> make_shm_comm(MPI_Comm parent, const LinkModel& link, double timeout_s) {
  return std::make_unique<ShmComm>(parent, link, timeout_s);
}

}  // namespace lb
