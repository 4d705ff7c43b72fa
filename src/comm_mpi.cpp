#include "comm_mpi.hpp"

#include "watchdog.hpp"

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

  Ticket start_allreduce(real* buf, size_t n, int64_t tag) override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (size_ == 1 && queue_.empty()) {  // the sum over one rank is the identity: nothing to hand off
      completed_ = ++issued_;
      return issued_;
    }
    ExecSpace().fence();  // the module's output must be complete before MPI reads it
    queue_.push_back({buf, n, ++issued_, tag});
    tags_[issued_ % kTagHistory] = tag;
    work_ready_.notify_one();
    return issued_;
  }

  void wait(Ticket ticket) override {
    std::unique_lock<std::mutex> lock(mutex_);
    const auto done = [&] { return completed_ >= ticket; };
    if (done()) return;
    const WatchdogScope watch("the all-reduce of " + describe(tag_of(ticket)));
    done_.wait(lock, done);
  }

 private:
  struct Request {
    real* buf;
    size_t n;
    Ticket ticket;
    int64_t tag;
  };

  // Tags of the most recent tickets, to say what a timed-out wait was for.
  static constexpr size_t kTagHistory = 8;
  int64_t tag_of(Ticket t) const { return tags_[t % kTagHistory]; }

  void progress_loop() {
    // Sleeps below should end when asked, not 50 us later (the default timer slack).
    prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
    // mpirun binds a rank to one core, which this thread shares with the compute thread. Under the
    // fair scheduler a woken progress thread may wait milliseconds for the compute thread's slice
    // to end, and the all-reduce it should drive stalls: no overlap. A real-time priority lets it
    // preempt at once; it sleeps whenever it has nothing to do, so it takes little from compute.
    // Without the privilege it runs at normal priority (give each rank a second core instead).
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
      const auto began = Clock::now();
      MPI_Request req;
      MPI_Iallreduce(MPI_IN_PLACE, r.buf, int(r.n), MPI_FLOAT, MPI_SUM, comm_, &req);
      poll_until_complete(req, began);
      const double delay = link_.delay_s(r.n * sizeof(real), size_);
      if (delay > 0)
        std::this_thread::sleep_until(Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                          std::chrono::duration<double>(delay)));
      {
        std::lock_guard<std::mutex> lock(mutex_);
        completed_ = r.ticket;
      }
      done_.notify_all();
    }
  }

  // Spins briefly (small messages finish in microseconds), then polls with sleeps that double up
  // to 200 us: a peer that lags by milliseconds must not make this real-time thread preempt the
  // compute thread on its core every few microseconds.
  static void poll_until_complete(MPI_Request& req, Clock::time_point began) {
    int flag = 0;
    auto pause = std::chrono::microseconds(10);
    while (!flag) {
      MPI_Test(&req, &flag, MPI_STATUS_IGNORE);
      if (!flag && Clock::now() - began > std::chrono::microseconds(20)) {
        std::this_thread::sleep_for(pause);
        pause = std::min(2 * pause, std::chrono::microseconds(200));
      }
    }
  }

  LinkModel link_;
  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0, size_ = 1;
  mutable std::mutex mutex_;
  mutable std::condition_variable work_ready_, done_;
  bool priority_known_ = false, realtime_ = false;
  std::deque<Request> queue_;
  Ticket issued_ = 0, completed_ = 0;
  bool stopping_ = false;
  int64_t tags_[kTagHistory] = {};
  std::thread progress_;
};

}  // namespace

std::unique_ptr<Comm> make_mpi_comm(MPI_Comm parent, const LinkModel& link, double timeout_s) {
  return std::make_unique<MpiComm>(parent, link, timeout_s);
}

}  // namespace lb
