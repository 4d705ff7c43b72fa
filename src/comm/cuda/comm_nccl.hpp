// NCCL implementation of lb::Comm for the GPU build: all-reduces run on a dedicated (highest
// priority) communication stream, ordered after the compute stream's work with events, so that a
// ladder schedule's all-reduce overlaps the next module's kernels on the GPU itself.
//
//   start_allreduce: record event on the compute stream; the comm stream waits for it;
//                    ncclAllReduce(sum) on the comm stream; the emulated link's delay kernel (if
//                    any) on the comm stream; record the ticket's completion event.
//   wait(ticket):    the compute stream waits for that event (cudaStreamWaitEvent). This is a
//                    GPU-side wait: it returns at once on the host, and kernels enqueued on the
//                    compute stream afterwards see the reduced buffer. Hence both are capturable
//                    in a CUDA graph (the comm stream forks from and joins the compute stream).
//
// Semantics relative to comm.hpp: "wait returns once the all-reduce is complete" holds for
// everything that is ordered on the compute stream, which is all the model does with the result;
// host code that reads the buffer must fence the compute stream as for any kernel output.
//
// A watchdog thread polls ncclCommGetAsyncError and the completion events of the outstanding
// eager all-reduces; on an NCCL error, or an all-reduce outstanding longer than timeout_s, it calls
// ncclCommAbort (which also releases a stream stuck in a collective, so no fence hangs) and then
// the failure handler (default: message on stderr + MPI_Abort, like the MPI backend's timeout).
// All-reduces started during a graph capture record events of their own (never one the watchdog
// polls: querying an event recorded in a capture fails with cudaErrorCapturedEvent), and
// prepare_capture() empties the watch list first. The abort and every other use of the NCCL
// communicator exclude each other (the abort frees it).
// The communicator is non-blocking (ncclConfig_t::blocking = 0), so init and the first
// connection setup are timed out by the same watchdog logic instead of hanging.
#pragma once

#include "comm/comm.hpp"
#include "kernels/cuda/cublas_handle.hpp"
#include "core/cuda/stream.hpp"

#include <mpi.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

namespace lb::cuda {

struct NcclCommOptions {
  LinkModel link;            // emulated interconnect; its delay runs on the comm stream
  // What start_allreduce's fp32 buffers travel as: F32, or BF16/F16 as a model whose activations
  // are 16-bit sends them (half the bytes): cast on the comm stream, summed by NCCL in that type,
  // widened back into the fp32 buffer before the completion event.
  DType wire = DType::F32;
  double timeout_s = 300;    // watchdog and init timeout; <= 0: never time out
  double extra_delay_s = 0;  // added to every all-reduce whatever the rank count (tests, calibration)
  // Called once, from the watchdog thread, after ncclCommAbort. Default: print `what` on stderr and
  // MPI_Abort(MPI_COMM_WORLD, 3). If it returns, every later call on the comm throws.
  std::function<void(const std::string& what)> on_failure;
  // Watchdog polling period.
  double poll_interval_s = 0.005;
};

class NcclComm final : public Comm {
 public:
  // Collective over `world`: rank 0 creates the ncclUniqueId, MPI_Bcast shares it. The current CUDA
  // device (select_device) must be this rank's, and distinct from every other rank's on the node.
  // `compute_stream`: where the model's kernels run (Kokkos: ExecSpace().cuda_stream()).
  NcclComm(MPI_Comm world, cudaStream_t compute_stream, NcclCommOptions options = {});
  ~NcclComm() override;
  NcclComm(const NcclComm&) = delete;
  NcclComm& operator=(const NcclComm&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string name() const override { return "nccl"; }
  std::string progress_priority() const override;
  // NCCL's transports on this rank after a first all-reduce (the constructor's), from NCCL's log.
  std::string transports() const override { return transports_; }

  // fp32 (lb::real) in-place sum, sent as options.wire. `tag` (Comm::describe) names the buffer in
  // watchdog messages. With a 16-bit wire, the first all-reduce of a size must not be captured
  // (it sizes the wire buffer).
  Ticket start_allreduce(real* buf, size_t n, int64_t tag = -1) override;
  std::string wire_type() const override { return dtype_name(opt_.wire); }
  // Any NCCL type, in place (device pointer): e.g. ncclBfloat16 for a bf16 residual stream.
  Ticket start_allreduce_as(void* buf, size_t n, ncclDataType_t type, int64_t tag = -1);
  void wait(Ticket ticket) override;

  // Later all-reduces are ordered against (and waited for on) this stream instead.
  void set_compute_stream(cudaStream_t s) { compute_ = s; }
  cudaStream_t compute_stream() const { return compute_; }
  cudaStream_t comm_stream() const { return stream_.get(); }
  ncclComm_t nccl() const { return comm_; }
  bool failed() const { return failed_.load(); }

  // Records an event on `s` now and puts it under the watchdog's timeout: for work the watchdog
  // cannot see per ticket, e.g. a launched CUDA graph containing all-reduces (tickets started
  // during a capture are not watched: their events exist only inside the graph).
  void watch(cudaStream_t s);
  void watch_replayed_step() override { watch(compute_); }
  // Waits (under the watchdog) for every eager all-reduce and clears the watch list.
  void prepare_capture() override;
  // Blocks until every all-reduce started so far is complete (or throws after a failure).
  void synchronize();

 private:
  struct Watched {
    Ticket ticket;  // 0: a watch() mark
    int64_t tag;
    cudaEvent_t event;
    std::chrono::steady_clock::time_point since;
  };
  static constexpr size_t kRing = 64;

  // Polls a non-blocking communicator out of ncclInProgress; on an error or the timeout, keeps the
  // reason in enqueue_failure_ and throws (enqueue then fails the communicator, outside its lock).
  void wait_nccl_ready(const char* what);
  // The comm-stream part of every all-reduce: fork from the compute stream, `body` (the collective
  // and any casts), the emulated link's delay for `bytes`, the completion event.
  Ticket enqueue(int64_t tag, size_t bytes, const std::function<void(cudaStream_t)>& body);
  // The completion event of a new ticket: a ring slot for eager work, a capture-only event otherwise.
  cudaEvent_t completion_event(Ticket ticket, bool capturing);
  // The constructor's first all-reduce (one float: NCCL connects lazily), then the transports its
  // log names.
  std::string connect_and_read_transports();
  void watchdog_loop();
  void fail(const std::string& what);
  void abort_comm();  // ncclCommAbort once, excluding every other use of comm_
  void check_not_failed(const char* where) const;

  NcclCommOptions opt_;
  MPI_Comm mpi_ = MPI_COMM_NULL;
  int rank_ = 0, size_ = 1, device_ = 0;
  ncclComm_t comm_ = nullptr;
  cudaStream_t compute_ = nullptr;
  Stream stream_;
  void* wire_buf_ = nullptr;  // 16-bit copies of the buffers in flight (one: the comm stream is serial)
  size_t wire_bytes_ = 0;
  int stream_priority_ = 0;
  Event start_;
  std::vector<Event> done_;   // completion event of eager ticket t: done_[t % kRing]
  std::vector<Event> captured_done_;  // completion events of the tickets of one capture, reused by the next
  size_t captured_used_ = 0;
  std::vector<cudaEvent_t> ticket_event_;  // the event ticket t recorded: ticket_event_[t % kRing]
  std::vector<Event> marks_;  // watch(): watch marks, also a ring
  size_t next_mark_ = 0;
  Ticket issued_ = 0;

  std::string enqueue_failure_;
  std::string nccl_log_;    // NCCL's log file of this process, "" where the environment configures it
  std::string transports_;
  int uncaught_at_construction_ = 0;  // std::uncaught_exceptions(): a destructor run by unwinding aborts at once

  std::shared_mutex comm_use_;  // shared: any call on comm_; exclusive: its abort
  bool aborted_ = false;
  std::mutex mutex_;  // the watch list; never held while taking comm_use_ exclusively
  std::condition_variable stop_cv_;
  std::deque<Watched> watched_;
  bool stopping_ = false;
  std::atomic<bool> failed_{false};
  std::once_flag abort_once_;
  std::thread watchdog_;
};

// The factory the benchmark calls in the LADDERBENCH_CUDA build, mirroring make_mpi_comm.
std::unique_ptr<Comm> make_nccl_comm(MPI_Comm world, cudaStream_t compute_stream, const LinkModel& link,
                                     double timeout_s, DType wire = DType::F32);

// "NCCL 2.28.9"; needs no device.
std::string nccl_version();

}  // namespace lb::cuda
