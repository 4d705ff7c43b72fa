#include "comm/comm_mpi.hpp"

#include "comm/watchdog.hpp"
#include "core/cpu_layout.hpp"

#include <pthread.h>
#include <sched.h>
#include <sys/prctl.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <thread>

namespace lb {
namespace {

// The calling thread's sleeps end when asked, not up to 50 us later (the default timer slack):
// the progress thread sleeps a few microseconds between polls. Once per thread.
void use_tight_timer_slack() {
  static thread_local const bool set = prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0) == 0;
  (void)set;
}

using Clock = std::chrono::steady_clock;

class MpiComm final : public Comm {
 public:
  MpiComm(MPI_Comm parent, const LinkModel& link, double timeout_s) : link_(link) {
    // A private communicator: the progress thread's collectives never match the app's own.
    MPI_Comm_dup(parent, &comm_);
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
    watchdog_start(timeout_s, rank_);
    progress_ = std::thread([this] { progress_loop(); });
  }

  ~MpiComm() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    work_ready_.notify_one();
    progress_.join();
    MPI_Comm_free(&comm_);
  }

  std::string progress_priority() const override {
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [&] { return priority_known_; });
    return realtime_ ? "SCHED_FIFO" : "normal";
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string name() const override { return "mpi"; }
  std::string transports() const override { return "mpi: MPI_Iallreduce driven by a progress thread"; }

  Ticket start_allreduce(real* buf, size_t n, int64_t tag) override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (size_ == 1 && queue_.empty()) {  // the sum over one rank is the identity: nothing to hand off
      completed_ = ++issued_;
      return issued_;
    }
    ExecSpace().fence();  // the module's output must be complete before MPI reads it
    queue_.push_back({buf, n, ++issued_, tag});
    tags_[issued_ % kHistory] = tag;
    work_ready_.notify_one();
    return issued_;
  }

  void wait(Ticket ticket) override {
    std::unique_lock<std::mutex> lock(mutex_);
    const auto done = [&] { return completed_ >= ticket; };
    if (done() && Clock::now() >= ready_at_[ticket % kHistory]) return;
    // The watchdog bounds the whole wait, the emulated link's share included: a delay it did not
    // cover could keep the job waiting past --timeout-s.
    const WatchdogScope watch("the all-reduce of " + describe(tag_of(ticket)) +
                              (link_.enabled() ? " (emulated link time included)" : ""));
    if (!done()) {
      ++waiters_;  // the progress thread may now poll fast: the core is otherwise idle
      work_ready_.notify_one();
      done_.wait(lock, done);
      --waiters_;
    }
    // The emulated link's share of the time: this thread waits it out only if it arrives early.
    const Clock::time_point ready = ready_at_[ticket % kHistory];
    lock.unlock();
    if (Clock::now() < ready) watch.spin_until(ready);
  }

 private:
  struct Request {
    real* buf;
    size_t n;
    Ticket ticket;
    int64_t tag;
  };

  // Per recent ticket: its tag (what a stuck wait was for) and when its emulated transfer ends.
  // The model overlaps at most two all-reduces; eight leave a wide margin.
  static constexpr size_t kHistory = 8;
  int64_t tag_of(Ticket t) const { return tags_[t % kHistory]; }

  void progress_loop() {
    use_tight_timer_slack();
    // mpirun binds a rank to one core, which this thread shares with the compute thread. Under the
    // fair scheduler a woken progress thread may wait milliseconds for the compute thread's slice
    // to end, and the all-reduce it should drive stalls: no overlap. A real-time priority lets it
    // preempt at once; it sleeps whenever it has nothing to do, so it takes little from compute.
    // Without the privilege it runs at normal priority (give each rank a second core instead).
    // With a core of its own (core/cpu_layout.hpp) none of that matters, but costs nothing.
    if (cpu_layout().progress_cpu >= 0) pin_current_thread(cpu_layout().progress_cpu);
    const sched_param rt{1};
    realtime_ = pthread_setschedparam(pthread_self(), SCHED_FIFO, &rt) == 0;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      priority_known_ = true;
    }
    done_.notify_all();
    for (;;) {
      Request r;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        work_ready_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;
        r = queue_.front();
        queue_.pop_front();
      }
      MPI_Request req;
      MPI_Iallreduce(MPI_IN_PLACE, r.buf, int(r.n), MPI_FLOAT, MPI_SUM, comm_, &req);
      poll_until_complete(req);
      // The emulated link: this transfer occupies it for `delay` once the real all-reduce is done
      // and the previous transfer has left it. Only the end time is recorded; wait() waits until
      // then if needed, so this thread need not wake up again (fewer switches on a shared core).
      const auto delay = std::chrono::duration_cast<Clock::duration>(
          std::chrono::duration<double>(link_.delay_s(r.n * sizeof(real), size_)));
      link_free_ = std::max(Clock::now(), link_free_) + delay;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        ready_at_[r.ticket % kHistory] = link_free_;
        completed_ = r.ticket;
      }
      done_.notify_all();
    }
  }

  // While the compute thread is blocked in wait() its core is free: poll every few microseconds.
  // While it computes (ladder), poll every 20-50 us, so this real-time thread preempts the compute
  // thread rarely yet still completes the all-reduce well within the next module. A wait() that
  // begins cuts the current pause short, so standard's blocking all-reduce is not slowed by it.
  // The thread always sleeps between polls: busy-waiting at real-time priority would starve a peer
  // rank sharing the core when ranks are oversubscribed.
  void poll_until_complete(MPI_Request& req) {
    int flag = 0;
    auto pause = std::chrono::microseconds(20);
    for (;;) {
      MPI_Test(&req, &flag, MPI_STATUS_IGNORE);
      if (flag) return;
      std::unique_lock<std::mutex> lock(mutex_);
      if (waiters_ > 0) {
        lock.unlock();
        std::this_thread::sleep_for(std::chrono::microseconds(2));
      } else {
        work_ready_.wait_for(lock, pause, [&] { return waiters_ > 0; });
        pause = std::min(2 * pause, std::chrono::microseconds(50));
      }
    }
  }

  LinkModel link_;
  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0, size_ = 1;
  mutable std::mutex mutex_;
  mutable std::condition_variable work_ready_, done_;
  bool priority_known_ = false, realtime_ = false;
  int waiters_ = 0;  // threads blocked in wait(), under mutex_
  std::deque<Request> queue_;
  Ticket issued_ = 0, completed_ = 0;
  bool stopping_ = false;
  int64_t tags_[kHistory] = {};
  Clock::time_point ready_at_[kHistory] = {};
  Clock::time_point link_free_;  // progress thread only
  std::thread progress_;
};

}  // namespace

std::unique_ptr<Comm> make_mpi_comm(MPI_Comm parent, const LinkModel& link, double timeout_s) {
  return std::make_unique<MpiComm>(parent, link, timeout_s);
}

}  // namespace lb
