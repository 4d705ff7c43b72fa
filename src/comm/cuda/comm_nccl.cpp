#include "comm/cuda/comm_nccl.hpp"

#include "kernels/cuda/convert.hpp"
#include "comm/cuda/delay.hpp"
#include "comm/cuda/event_state.hpp"
#include "comm/cuda/nccl_transports.hpp"
#include "comm/cuda/nccl_type_size.hpp"
#include "core/cuda/query.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace lb::cuda {
namespace {

using Clock = std::chrono::steady_clock;

bool expired(Clock::time_point since, double timeout_s) {
  return timeout_s > 0 && std::chrono::duration<double>(Clock::now() - since).count() > timeout_s;
}

void default_failure(const std::string& what) {
  std::fprintf(stderr, "ladder-bench: %s; aborting the job\n", what.c_str());
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, 3);
}

}  // namespace

NcclComm::NcclComm(MPI_Comm world, cudaStream_t compute_stream, NcclCommOptions options)
    : opt_(std::move(options)), compute_(compute_stream), stream_(Stream::high_priority()) {
  if (!opt_.on_failure) opt_.on_failure = default_failure;
  LB_CUDA_CHECK(cudaGetDevice(&device_));
  LB_CUDA_CHECK(cudaStreamGetPriority(stream_.get(), &stream_priority_));
  uncaught_at_construction_ = std::uncaught_exceptions();
  done_.reserve(kRing);
  marks_.reserve(kRing);
  for (size_t i = 0; i < kRing; ++i) {
    done_.emplace_back();
    marks_.emplace_back();
  }
  ticket_event_.assign(kRing, nullptr);

  nccl_log_ = route_nccl_log_to_file();  // before NCCL initializes (ncclGetUniqueId, init)
  MPI_Comm_dup(world, &mpi_);
  MPI_Comm_rank(mpi_, &rank_);
  MPI_Comm_size(mpi_, &size_);

  // Rank 0 makes the id; its success travels with it so that no rank waits for an id that never comes.
  struct {
    ncclUniqueId id;
    int ok;
  } msg{};
  std::string id_error;
  if (rank_ == 0) {
    const ncclResult_t r = ncclGetUniqueId(&msg.id);
    msg.ok = r == ncclSuccess;
    if (!msg.ok) id_error = ncclGetErrorString(r);
  }
  MPI_Bcast(&msg, int(sizeof msg), MPI_BYTE, 0, mpi_);
  if (!msg.ok) {
    MPI_Comm_free(&mpi_);
    throw Error("ncclGetUniqueId failed on rank 0" + (id_error.empty() ? "" : ": " + id_error));
  }

  ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
  config.blocking = 0;
  std::string init_error;
  ncclResult_t r = ncclCommInitRankConfig(&comm_, size_, msg.id, rank_, &config);
  if (r == ncclSuccess || r == ncclInProgress) {
    const auto since = Clock::now();
    do {
      if (ncclCommGetAsyncError(comm_, &r) != ncclSuccess) break;
      if (r == ncclInProgress && expired(since, opt_.timeout_s)) {
        init_error = "timed out after " + std::to_string(opt_.timeout_s) + " s (a peer rank died or hangs)";
        break;
      }
      if (r == ncclInProgress) std::this_thread::sleep_for(std::chrono::microseconds(100));
    } while (r == ncclInProgress);
  }
  if (init_error.empty() && r != ncclSuccess) {
    init_error = ncclGetErrorString(r);
    const char* last = ncclGetLastError(comm_);
    if (last && *last) init_error += std::string(": ") + last;
  }
  // Every rank learns whether all succeeded, so that all throw together rather than some hang.
  int ok = init_error.empty(), all_ok = 0;
  MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, mpi_);
  if (!all_ok) {
    if (comm_) ncclCommAbort(comm_);
    comm_ = nullptr;
    MPI_Comm_free(&mpi_);
    throw Error("ncclCommInitRankConfig on rank " + std::to_string(rank_) + " of " + std::to_string(size_) +
                ": " + (ok ? "failed on another rank" : init_error));
  }
  try {
    transports_ = connect_and_read_transports();
  } catch (...) {
    ncclCommAbort(comm_);
    MPI_Comm_free(&mpi_);
    throw;
  }
  watchdog_ = std::thread([this] { watchdog_loop(); });
}

std::string NcclComm::connect_and_read_transports() {
  // Freed only once the all-reduce completed: on a failure cudaFree would wait for a stuck
  // collective, and the process is about to abort anyway.
  float* one = nullptr;
  LB_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&one), sizeof(float)));
  LB_CUDA_CHECK(cudaMemsetAsync(one, 0, sizeof(float), stream_.get()));
  const ncclResult_t r = ncclAllReduce(one, one, 1, ncclFloat32, ncclSum, comm_, stream_.get());
  LB_NCCL_CHECK_COMM(r, comm_);
  if (r == ncclInProgress) wait_nccl_ready("the first ncclAllReduce");
  const auto since = Clock::now();
  cudaError_t q;
  while ((q = query_stream(stream_.get())) == cudaErrorNotReady) {
    if (expired(since, opt_.timeout_s))
      throw Error("the first all-reduce did not complete within " + std::to_string(opt_.timeout_s) +
                  " s (a peer rank died or hangs)");
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  LB_CUDA_CHECK(q);
  LB_CUDA_CHECK(cudaFree(one));
  if (nccl_log_.empty()) return "not recorded (NCCL_DEBUG is set by the environment)";
  std::ifstream in(nccl_log_);
  std::stringstream text;
  text << in.rdbuf();
  const std::string found = nccl_transports_in_log(text.str());
  return found.empty() ? "none named in " + nccl_log_ : found;
}

NcclComm::~NcclComm() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (watchdog_.joinable()) watchdog_.join();
  // Unwinding from an exception (e.g. an allocation failed on this rank): the peers may be blocked
  // in a collective this rank will never join, so draining would only wait out --timeout-s.
  if (comm_ && !aborted_ && std::uncaught_exceptions() > uncaught_at_construction_) {
    ncclCommAbort(comm_);
    aborted_ = true;
  }
  if (comm_ && !aborted_) {
    // Drain and finalize under the timeout; abort whatever does not finish.
    bool clean = true;
    const auto since = Clock::now();
    for (;;) {
      const cudaError_t q = query_stream(stream_.get());
      if (q == cudaSuccess) break;
      ncclResult_t st = ncclSuccess;
      ncclCommGetAsyncError(comm_, &st);
      if (q != cudaErrorNotReady || (st != ncclSuccess && st != ncclInProgress) || expired(since, opt_.timeout_s)) {
        cudaGetLastError();
        clean = false;
        break;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    if (clean) {
      ncclResult_t st = ncclCommFinalize(comm_);
      while (st == ncclInProgress || st == ncclSuccess) {
        if (ncclCommGetAsyncError(comm_, &st) != ncclSuccess) break;
        if (st == ncclSuccess) break;
        if (expired(since, opt_.timeout_s)) break;
        std::this_thread::sleep_for(std::chrono::microseconds(100));
      }
      clean = st == ncclSuccess;
    }
    if (clean)
      ncclCommDestroy(comm_);
    else
      ncclCommAbort(comm_);
  }
  comm_ = nullptr;
  if (wire_buf_) cudaFree(wire_buf_);  // after the drain (or abort) above: nothing uses it any more
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized && mpi_ != MPI_COMM_NULL) MPI_Comm_free(&mpi_);
}

std::string NcclComm::progress_priority() const {
  return "cuda-stream-priority " + std::to_string(stream_priority_);
}

void NcclComm::check_not_failed(const char* where) const {
  if (failed_.load()) throw Error(std::string(where) + ": the NCCL communicator was aborted after a failure");
}

void NcclComm::wait_nccl_ready(const char* what) {
  const auto since = Clock::now();
  for (;;) {
    ncclResult_t st = ncclSuccess;
    LB_NCCL_CHECK_COMM(ncclCommGetAsyncError(comm_, &st), comm_);
    if (st == ncclSuccess) return;
    if (st != ncclInProgress) enqueue_failure_ = std::string(what) + ": " + ncclGetErrorString(st);
    else if (expired(since, opt_.timeout_s))
      enqueue_failure_ = std::string(what) + " was not enqueued within " + std::to_string(opt_.timeout_s) +
                         " s (a peer rank died or hangs)";
    if (!enqueue_failure_.empty()) throw Error(enqueue_failure_);
    std::this_thread::yield();
  }
}

Comm::Ticket NcclComm::start_allreduce(real* buf, size_t n, int64_t tag) {
  static_assert(sizeof(real) == 4, "lb::real is fp32: the all-reduce type is ncclFloat32");
  if (opt_.wire == DType::F32) return start_allreduce_as(buf, n, ncclFloat32, tag);
  const size_t bytes = n * dtype_bytes(opt_.wire);
  if (bytes > wire_bytes_) {
    if (is_capturing(compute_))
      throw Error("NcclComm::start_allreduce: a first all-reduce of " + std::to_string(n) +
                  " elements inside a graph capture (run the step eagerly once first)");
    if (wire_buf_) {
      LB_CUDA_CHECK(cudaStreamSynchronize(stream_.get()));  // the old buffer may still be in use
      LB_CUDA_CHECK(cudaFree(wire_buf_));
      wire_buf_ = nullptr;
    }
    LB_CUDA_CHECK(cudaMalloc(&wire_buf_, bytes));
    wire_bytes_ = bytes;
  }
  const DType wire = opt_.wire;
  void* w = wire_buf_;
  return enqueue(tag, bytes, [&](cudaStream_t s) {
    enqueue_cast(s, buf, wire, w, n);
    const ncclResult_t r = ncclAllReduce(w, w, n, wire == DType::BF16 ? ncclBfloat16 : ncclFloat16, ncclSum, comm_, s);
    LB_NCCL_CHECK_COMM(r, comm_);
    if (r == ncclInProgress) wait_nccl_ready("ncclAllReduce");
    enqueue_widen(s, w, wire, buf, n);
  });
}

Comm::Ticket NcclComm::start_allreduce_as(void* buf, size_t n, ncclDataType_t type, int64_t tag) {
  return enqueue(tag, n * nccl_type_size(type), [&](cudaStream_t s) {
    const ncclResult_t r = ncclAllReduce(buf, buf, n, type, ncclSum, comm_, s);
    LB_NCCL_CHECK_COMM(r, comm_);
    if (r == ncclInProgress) wait_nccl_ready("ncclAllReduce");
  });
}

cudaEvent_t NcclComm::completion_event(Ticket ticket, bool capturing) {
  cudaEvent_t e = done_[ticket % kRing].get();
  if (capturing) {
    // A 70B step has 160 all-reduces: more than the ring, whose events the watchdog may still poll.
    if (captured_used_ == captured_done_.size()) captured_done_.emplace_back();
    e = captured_done_[captured_used_++].get();
  }
  ticket_event_[ticket % kRing] = e;
  return e;
}

Comm::Ticket NcclComm::enqueue(int64_t tag, size_t bytes, const std::function<void(cudaStream_t)>& body) {
  check_not_failed("NcclComm::start_allreduce");
  const bool capturing = is_capturing(compute_);
  const Ticket ticket = issued_ + 1;
  cudaEvent_t done = nullptr;
  enqueue_failure_.clear();
  try {
    std::shared_lock<std::shared_mutex> use(comm_use_);
    check_not_failed("NcclComm::start_allreduce");
    // Fork: the comm stream runs the all-reduce once the compute stream's work so far is done.
    start_.record(compute_);
    start_.wait_on(stream_.get());
    body(stream_.get());
    const double delay_s = opt_.link.delay_s(bytes, size_) + opt_.extra_delay_s;
    if (delay_s > 0) enqueue_delay(stream_.get(), int64_t(delay_s * 1e9 + 0.5));
    done = completion_event(ticket, capturing);
    LB_CUDA_CHECK(cudaEventRecord(done, stream_.get()));
  } catch (const Error&) {
    if (!enqueue_failure_.empty()) fail("rank " + std::to_string(rank_) + ": " + enqueue_failure_);
    throw;
  }
  issued_ = ticket;
  if (!capturing) {
    std::lock_guard<std::mutex> lock(mutex_);
    watched_.push_back({ticket, tag, done, Clock::now()});
  }
  return ticket;
}

void NcclComm::prepare_capture() {
  synchronize();  // under the watchdog's timeout
  std::lock_guard<std::mutex> lock(mutex_);
  // Only the tickets' ring events can be recorded again in the capture; graph-launch marks stay.
  watched_.erase(std::remove_if(watched_.begin(), watched_.end(), [](const Watched& w) { return w.ticket != 0; }),
                 watched_.end());
  captured_used_ = 0;  // a finished capture's events are free: a graph keeps no reference to them
}

void NcclComm::wait(Ticket ticket) {
  check_not_failed("NcclComm::wait");
  if (ticket == 0 || ticket > issued_)
    throw std::logic_error("NcclComm::wait: ticket " + std::to_string(ticket) + " was never issued");
  // All-reduces complete in order on the comm stream, so a later one's event covers an earlier one
  // whose slot in the ring has been reused.
  const Ticket t = ticket + kRing <= issued_ ? issued_ : ticket;
  LB_CUDA_CHECK(cudaStreamWaitEvent(compute_, ticket_event_[t % kRing], 0));
}

void NcclComm::watch(cudaStream_t s) {
  check_not_failed("NcclComm::watch");
  Event& e = marks_[next_mark_++ % kRing];
  e.record(s);
  std::lock_guard<std::mutex> lock(mutex_);
  watched_.push_back({0, -1, e.get(), Clock::now()});
}

void NcclComm::synchronize() {
  check_not_failed("NcclComm::synchronize");
  // The watchdog aborts the communicator (which releases the stream) if this would hang.
  LB_CUDA_CHECK(cudaStreamSynchronize(stream_.get()));
  check_not_failed("NcclComm::synchronize");
}

void NcclComm::abort_comm() {
  std::unique_lock<std::shared_mutex> exclusive(comm_use_);
  failed_.store(true);
  if (comm_ && !aborted_) ncclCommAbort(comm_);
  aborted_ = true;
}

void NcclComm::fail(const std::string& what) {
  std::call_once(abort_once_, [&] {
    abort_comm();
    opt_.on_failure(what);
  });
}

void NcclComm::watchdog_loop() {
  const auto period = std::chrono::duration<double>(opt_.poll_interval_s > 0 ? opt_.poll_interval_s : 0.005);
  cudaSetDevice(device_);  // the events belong to this rank's device
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    stop_cv_.wait_for(lock, period, [&] { return stopping_; });
    if (stopping_ || failed_.load()) break;
    // Completed entries leave the queue in order; the oldest pending one is the one to time.
    while (!watched_.empty()) {
      const cudaError_t q = query_event(watched_.front().event);
      const EventState state = classify_event_query(q);
      if (state == EventState::Pending) break;
      if (state == EventState::Failed) {
        cudaGetLastError();
        const std::string err = std::string(cudaGetErrorName(q)) + " (" + cudaGetErrorString(q) + ")";
        lock.unlock();
        fail("rank " + std::to_string(rank_) + ": CUDA error while waiting for an all-reduce: " + err);
        return;
      }
      if (state == EventState::Unusable) cudaGetLastError();  // not sticky; nothing to report
      watched_.pop_front();
    }
    std::string what;
    if (!watched_.empty() && expired(watched_.front().since, opt_.timeout_s)) {
      const Watched& w = watched_.front();
      what = "rank " + std::to_string(rank_) + ": " +
             (w.ticket ? "all-reduce #" + std::to_string(w.ticket) + " (" + describe(w.tag) + ")"
                       : std::string("GPU work holding all-reduces (a graph launch)")) +
             " did not complete within --timeout-s " + std::to_string(opt_.timeout_s) +
             " s (a peer rank died or hangs)";
    }
    if (what.empty()) {
      ncclResult_t st = ncclSuccess;
      std::shared_lock<std::shared_mutex> use(comm_use_);
      if (!aborted_ && ncclCommGetAsyncError(comm_, &st) == ncclSuccess && st != ncclSuccess && st != ncclInProgress)
        what = "rank " + std::to_string(rank_) + ": NCCL asynchronous error: " + ncclGetErrorString(st);
    }
    if (!what.empty()) {
      lock.unlock();
      fail(what);
      return;
    }
  }
}

std::unique_ptr<Comm> make_nccl_comm(MPI_Comm world, cudaStream_t compute_stream, const LinkModel& link,
                                     double timeout_s, DType wire) {
  NcclCommOptions o;
  o.link = link;
  o.timeout_s = timeout_s;
  o.wire = wire;
  return std::make_unique<NcclComm>(world, compute_stream, std::move(o));
}

std::string nccl_version() {
  int v = 0;
  ncclGetVersion(&v);
  // NCCL >= 2.9 encodes MAJOR*10000 + MINOR*100 + PATCH.
  return "NCCL " + std::to_string(v / 10000) + "." + std::to_string(v / 100 % 100) + "." + std::to_string(v % 100);
}

}  // namespace lb::cuda
