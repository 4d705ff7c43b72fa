// Tests of the NCCL communicator (run by ctest at np 1 and np 2; each rank needs its own GPU, and
// every test skips, on every rank, without). Exact sums, the ladder order of starts and waits, the
// emulated link on the comm stream, capture into a CUDA graph, and the watchdog.
#include "comm/cuda/comm_nccl.hpp"
#include "kernels/cuda/cublas_handle.hpp"
#include "comm/cuda/delay.hpp"
#include "core/cuda/stream.hpp"
#include "gpu_test_util.hpp"

#include <gtest/gtest.h>
#include <mpi.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace lb::cuda {
namespace {

using test::DeviceBuffer;

int world_rank() {
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}
int world_size() {
  int s = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &s);
  return s;
}

// Rank r contributes (r + 1) * (i % 7 + 1): small integers, so every sum is exact in fp32.
std::vector<float> contribution(size_t n, int rank) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = float((rank + 1) * int(i % 7 + 1));
  return v;
}
std::vector<float> expected_sum(size_t n, int ranks) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = float(ranks * (ranks + 1) / 2 * int(i % 7 + 1));
  return v;
}

NcclCommOptions test_options() {
  NcclCommOptions o;
  o.timeout_s = 60;
  o.on_failure = [](const std::string& what) { ADD_FAILURE() << "NCCL watchdog: " << what; };
  return o;
}

TEST(Nccl, AllReduceSumIsExact) {
  LB_REQUIRE_GPUS_OR_SKIP();
  Stream compute;
  NcclComm comm(MPI_COMM_WORLD, compute, test_options());
  EXPECT_EQ(comm.rank(), world_rank());
  EXPECT_EQ(comm.size(), world_size());
  EXPECT_EQ(comm.name(), "nccl");
  for (size_t n : {size_t(1), size_t(1000), size_t(1) << 20}) {
    SCOPED_TRACE("n=" + std::to_string(n));
    DeviceBuffer<float> buf(n);
    buf.upload(contribution(n, comm.rank()));
    comm.allreduce(buf.get(), n);
    compute.synchronize();
    EXPECT_EQ(buf.download(), expected_sum(n, comm.size()));
  }
}

TEST(Nccl, LadderOrderTwoOutstandingThenWait) {
  LB_REQUIRE_GPUS_OR_SKIP();
  Stream compute;
  NcclComm comm(MPI_COMM_WORLD, compute, test_options());
  const size_t n = 4096;
  DeviceBuffer<float> a(n), b(n);
  // Many rounds so that the ring of completion events wraps around.
  for (int round = 0; round < 100; ++round) {
    a.upload(contribution(n, comm.rank()));
    b.upload(contribution(n, comm.rank()));
    const auto ta = comm.start_allreduce(a.get(), n);
    const auto tb = comm.start_allreduce(b.get(), n);
    EXPECT_EQ(tb, ta + 1);
    comm.wait(ta);
    comm.wait(tb);
    compute.synchronize();
    ASSERT_EQ(a.download(), expected_sum(n, comm.size())) << "round " << round;
    ASSERT_EQ(b.download(), expected_sum(n, comm.size())) << "round " << round;
  }
  EXPECT_THROW(comm.wait(0), std::logic_error);
  EXPECT_THROW(comm.wait(1'000'000), std::logic_error);
}

TEST(Nccl, Bf16AllReduce) {
  LB_REQUIRE_GPUS_OR_SKIP();
  Stream compute;
  NcclComm comm(MPI_COMM_WORLD, compute, test_options());
  const size_t n = 999;
  const auto c = contribution(n, comm.rank()), e = expected_sum(n, comm.size());
  std::vector<uint16_t> h(n);
  for (size_t i = 0; i < n; ++i) h[i] = test::to_bf16(c[i]);
  DeviceBuffer<uint16_t> buf(n);
  buf.upload(h);
  comm.wait(comm.start_allreduce_as(buf.get(), n, ncclBfloat16));
  compute.synchronize();
  const auto out = buf.download();
  for (size_t i = 0; i < n; ++i) ASSERT_EQ(test::from_bf16(out[i]), e[i]) << i;  // small integers: exact
}

// fp32 buffers sent as bf16 / fp16 (a 16-bit model's all-reduce): small integers survive the
// cast, the 16-bit sum and the widening exactly; a value bf16 cannot hold comes back rounded.
TEST(Nccl, HalfWireReducesFp32BuffersInSixteenBits) {
  LB_REQUIRE_GPUS_OR_SKIP();
  for (const DType wire : {DType::BF16, DType::F16}) {
    SCOPED_TRACE(dtype_name(wire));
    Stream compute;
    NcclCommOptions o = test_options();
    o.wire = wire;
    NcclComm comm(MPI_COMM_WORLD, compute, o);
    EXPECT_EQ(comm.wire_type(), dtype_name(wire));
    for (size_t n : {size_t(999), size_t(1) << 16, size_t(17)}) {  // grows, then reuses the wire buffer
      DeviceBuffer<float> buf(n);
      buf.upload(contribution(n, comm.rank()));
      comm.wait(comm.start_allreduce(buf.get(), n));
      compute.synchronize();
      EXPECT_EQ(buf.download(), expected_sum(n, comm.size())) << "n=" << n;
    }
    DeviceBuffer<float> one(1);
    one.upload({comm.rank() == 0 ? 1.0f + 1.0f / 4096 : 0.0f});  // rounds to 1 in bf16 and fp16
    comm.wait(comm.start_allreduce(one.get(), 1));
    compute.synchronize();
    EXPECT_EQ(one.download()[0], 1.0f);
  }
}

TEST(Nccl, EmulatedLinkDelaysCompletionOnTheCommStream) {
  LB_REQUIRE_GPUS_OR_SKIP();
  Stream compute;
  NcclCommOptions o = test_options();
  o.extra_delay_s = 2e-3;  // 2 ms on every all-reduce, whatever the rank count
  NcclComm comm(MPI_COMM_WORLD, compute, o);
  DeviceBuffer<float> buf(256);
  comm.allreduce(buf.get(), 256);  // warm-up (connection setup)
  compute.synchronize();
  Event t0(true), t1(true);
  t0.record(compute);
  const auto t = comm.start_allreduce(buf.get(), 256);
  // Compute that does not depend on the all-reduce proceeds meanwhile (ladder overlap).
  Event mid(true);
  mid.record(compute);
  comm.wait(t);
  t1.record(compute);
  compute.synchronize();
  EXPECT_GE(Event::elapsed_ms(t0, t1), 2.0 - 0.002);
  EXPECT_LT(Event::elapsed_ms(t0, mid), 1.0) << "the delay must run on the comm stream, not the compute stream";
}

TEST(Nccl, CapturedInACudaGraphGivesTheEagerResult) {
  LB_REQUIRE_GPUS_OR_SKIP();
  Stream compute;
  NcclComm comm(MPI_COMM_WORLD, compute, test_options());
  CublasHandle handle;
  // A miniature row-parallel step: y = x @ w^T (partial), all-reduce(y), z = y @ w2^T.
  const int64_t T = 2, d = 64, f = 128;
  std::vector<float> x(size_t(T * f)), w(size_t(d * f)), w2(size_t(d * d));
  for (size_t i = 0; i < x.size(); ++i) x[i] = float(int(i % 5) - 2 + comm.rank());
  for (size_t i = 0; i < w.size(); ++i) w[i] = float(int(i % 3) - 1);
  for (size_t i = 0; i < w2.size(); ++i) w2[i] = float(int(i % 4) - 2) * 0.5f;
  DeviceBuffer<float> dx(x.size()), dw(w.size()), dw2(w2.size()), y(size_t(T * d)), z_eager(size_t(T * d)),
      z_graph(size_t(T * d));
  dx.upload(x);
  dw.upload(w);
  dw2.upload(w2);
  const auto step = [&](float* z) {
    gemm_xwt(handle, compute, DType::F32, T, d, f, dx.get(), dw.get(), y.get());
    const auto t = comm.start_allreduce(y.get(), size_t(T * d));
    comm.wait(t);
    gemm_xwt(handle, compute, DType::F32, T, d, d, y.get(), dw2.get(), z);
  };
  step(z_eager.get());  // eager, also the warm-up NCCL wants before capture
  compute.synchronize();

  Graph g = capture_graph(compute, [&] { step(z_graph.get()); });
  for (int rep = 0; rep < 5; ++rep) g.launch(compute);
  comm.watch(compute);  // the watchdog times graph launches through a mark
  compute.synchronize();
  EXPECT_EQ(z_graph.download(), z_eager.download());
  EXPECT_FALSE(comm.failed());
}

// A step with more all-reduces than the communicator's ring of eager completion events (a 70B
// step has 160), captured while the watchdog polls the eager step's events: captured work records
// events of its own, so the watchdog never queries an event recorded in the capture
// (cudaErrorCapturedEvent) and the replayed step gives the eager sums.
TEST(Nccl, CapturedStepWithMoreAllReducesThanRingSlotsLeavesTheWatchdogQuiet) {
  LB_REQUIRE_GPUS_OR_SKIP();
  Stream compute;
  NcclCommOptions o = test_options();
  o.poll_interval_s = 0.0005;  // poll often, so that a capture-state error would be seen
  NcclComm comm(MPI_COMM_WORLD, compute, o);
  const size_t n = 256, count = 160;
  DeviceBuffer<float> src(n), work(n * count);
  src.upload(contribution(n, comm.rank()));
  const auto step = [&] {
    Comm::Ticket previous = 0;
    for (size_t k = 0; k < count; ++k) {
      LB_CUDA_CHECK(cudaMemcpyAsync(work.get() + k * n, src.get(), n * sizeof(float), cudaMemcpyDeviceToDevice, compute));
      const Comm::Ticket t = comm.start_allreduce(work.get() + k * n, n, int64_t(k));
      if (previous) comm.wait(previous);  // ladder order: one outstanding
      previous = t;
    }
    comm.wait(previous);
  };
  step();  // eager: connects NCCL, leaves the last ring slots' events under the watchdog
  comm.prepare_capture();
  Graph g = capture_graph(compute, step, cudaStreamCaptureModeRelaxed);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the watchdog polls meanwhile
  work.zero();
  for (int rep = 0; rep < 3; ++rep) {
    g.launch(compute);
    comm.watch(compute);
  }
  compute.synchronize();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const std::vector<float> got = work.download(), want = expected_sum(n, comm.size());
  for (size_t k = 0; k < count; ++k)
    ASSERT_EQ(std::vector<float>(got.begin() + long(k * n), got.begin() + long((k + 1) * n)), want) << "all-reduce " << k;
  EXPECT_FALSE(comm.failed());
  // And eagerly again afterwards: the ring events are usable after the capture.
  step();
  compute.synchronize();
  EXPECT_FALSE(comm.failed());
}

// One rank never joins the all-reduce: the other's watchdog must abort the communicator (which
// releases its stream) and report, instead of hanging. Needs two ranks.
TEST(Nccl, WatchdogAbortsAnAllReduceAPeerNeverJoins) {
  LB_REQUIRE_GPUS_OR_SKIP();
  if (world_size() < 2) GTEST_SKIP() << "needs 2 ranks (ctest runs it at np 2)";
  Stream compute;
  std::atomic<int> fired{0};
  std::string message;
  NcclCommOptions o;
  o.timeout_s = 3;
  o.poll_interval_s = 0.01;
  o.on_failure = [&](const std::string& what) {
    message = what;
    fired = 1;
  };
  {
    NcclComm comm(MPI_COMM_WORLD, compute, o);
    DeviceBuffer<float> buf(1024);
    comm.allreduce(buf.get(), 1024);  // everyone connected
    compute.synchronize();
    MPI_Barrier(MPI_COMM_WORLD);
    if (comm.rank() == 0) {
      comm.allreduce(buf.get(), 1024);  // rank 1 never joins
      const auto since = std::chrono::steady_clock::now();
      while (!fired && std::chrono::steady_clock::now() - since < std::chrono::seconds(30))
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      ASSERT_TRUE(fired.load()) << "the watchdog did not fire";
      EXPECT_NE(message.find("did not complete within"), std::string::npos) << message;
      EXPECT_TRUE(comm.failed());
      EXPECT_THROW(comm.start_allreduce(buf.get(), 1), Error);
      cudaStreamSynchronize(compute);  // must return: the abort released the stream
      cudaGetLastError();
    }
    MPI_Barrier(MPI_COMM_WORLD);
  }  // destructors: rank 0's comm is aborted; rank 1 finalizes under its timeout (or, having seen the
     // peer's abort as an NCCL error, is aborted by its own watchdog)
}

}  // namespace
}  // namespace lb::cuda
