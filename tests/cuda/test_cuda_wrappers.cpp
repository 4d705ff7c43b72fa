// Tests of the single-process CUDA wrappers. Host* tests need no GPU and run everywhere; the others
// run on a GPU and skip without one: cuBLAS GEMM (fp32/bf16/fp16) vs a CPU reference, the emulated
// link's delay kernel, and CUDA-graph capture/replay.
#include "kernels/cuda/convert.hpp"
#include "kernels/cuda/cublas_handle.hpp"
#include "comm/cuda/delay.hpp"
#include "core/cuda/device.hpp"
#include "core/cuda/query.hpp"
#include "core/cuda/stream.hpp"
#include "gpu_test_util.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <vector>

namespace lb::cuda {
namespace {

using test::DeviceBuffer;

// ---------------------------------------------------------------- no GPU needed

TEST(HostProbe, NeverThrowsAndExplainsAnAbsentDevice) {
  DeviceProbe p;
  ASSERT_NO_THROW(p = probe_devices());
  EXPECT_GE(p.count, 0);
  EXPECT_EQ(p.count == 0, !p.reason.empty()) << p.reason;
  EXPECT_EQ(cuda_available(), p.count > 0);
  if (p.count == 0) {
    try {
      select_device(0);
      ADD_FAILURE() << "select_device without a device must throw";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("no CUDA device"), std::string::npos) << e.what();
    }
  } else {
    const int dev = select_device(p.count + 1);
    EXPECT_EQ(dev, (p.count + 1) % p.count);
  }
}

TEST(HostVersions, NeedNoDevice) {
  EXPECT_EQ(cublas_version().rfind("cuBLAS ", 0), 0u) << cublas_version();
  EXPECT_EQ(dtype_bytes(DType::F32), 4u);
  EXPECT_EQ(dtype_bytes(DType::BF16), 2u);
  EXPECT_STREQ(dtype_name(DType::F16), "fp16");
  EXPECT_EQ(cuda_data_type(DType::BF16), CUDA_R_16BF);
}

TEST(HostErrors, NameTheStatusAndTheCall) {
  try {
    LB_CUDA_CHECK(cudaErrorInvalidValue);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cudaErrorInvalidValue"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("test_cuda_wrappers.cpp"), std::string::npos) << e.what();
  }
  try {
    LB_CUBLAS_CHECK(CUBLAS_STATUS_INVALID_VALUE);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("CUBLAS_STATUS_INVALID_VALUE"), std::string::npos) << e.what();
  }
  try {
    LB_NCCL_CHECK(ncclInvalidArgument);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("NCCL error"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(LB_NCCL_CHECK(ncclInProgress));  // non-blocking communicators: polled by the caller
}

TEST(HostHalfCodecs, RoundTripExactValues) {
  for (float v : {0.0f, 1.0f, -2.5f, 0.0625f, 3.75f, 1024.0f}) {
    EXPECT_EQ(test::from_bf16(test::to_bf16(v)), v);
    EXPECT_EQ(test::from_f16(test::to_f16(v)), v);
  }
  EXPECT_EQ(test::to_f16(1.0f), 0x3c00);
  EXPECT_EQ(test::to_bf16(1.0f), 0x3f80);
}

TEST(HostHalfCodecs, RoundToNearestEvenAtTheEdgesOfTheRange) {
  EXPECT_EQ(to_bf16(1.0f + 1.0f / 256), 0x3f80);   // halfway: to even
  EXPECT_EQ(to_bf16(1.0f + 3.0f / 256), 0x3f82);   // halfway: to even (up)
  EXPECT_EQ(to_f16(1.0f + 1.0f / 2048), 0x3c00);   // halfway: to even
  EXPECT_EQ(to_f16(1.0f + 3.0f / 2048), 0x3c02);
  EXPECT_EQ(to_f16(65504.0f), 0x7bff);             // largest fp16
  EXPECT_EQ(to_f16(65520.0f), 0x7c00);             // rounds past it: inf
  EXPECT_EQ(to_f16(-1e6f), 0xfc00);
  EXPECT_EQ(to_f16(std::ldexp(1.0f, -24)), 0x0001);  // smallest subnormal
  EXPECT_EQ(to_f16(std::ldexp(1.0f, -26)), 0x0000);  // below half of it: zero
  EXPECT_EQ(from_f16(to_f16(std::ldexp(3.0f, -20))), std::ldexp(3.0f, -20));  // subnormal, exact
  EXPECT_EQ(to_f16(std::ldexp(1.0f, -14) * (1 - 1.0f / 4096)), 0x0400);  // rounds up to the smallest normal
  EXPECT_TRUE(std::isnan(from_f16(to_f16(NAN))));
  EXPECT_TRUE(std::isnan(from_bf16(to_bf16(NAN))));
}

// ---------------------------------------------------------------- GPU

// Inputs that every storage type holds exactly: multiples of 1/4 in [-2, 2].
std::vector<float> quarters(size_t n, uint32_t seed) {
  std::vector<float> v(n);
  uint32_t s = seed * 2654435761u + 12345u;
  for (auto& x : v) {
    s = s * 1664525u + 1013904223u;
    x = float(int((s >> 16) % 17) - 8) * 0.25f;
  }
  return v;
}

std::vector<double> reference_xwt(const std::vector<float>& x, const std::vector<float>& w, int64_t T, int64_t n,
                                  int64_t k, int64_t ldx) {
  std::vector<double> y(size_t(T * n));
  for (int64_t t = 0; t < T; ++t)
    for (int64_t j = 0; j < n; ++j) {
      double acc = 0;
      for (int64_t i = 0; i < k; ++i) acc += double(x[size_t(t * ldx + i)]) * double(w[size_t(j * k + i)]);
      y[size_t(t * n + j)] = acc;
    }
  return y;
}

struct GemmCase {
  int64_t T, n, k, ldx;
};

class Gemm : public ::testing::TestWithParam<DType> {};

TEST_P(Gemm, MatchesCpuReference) {
  LB_REQUIRE_GPUS_OR_SKIP();
  const DType type = GetParam();
  Stream stream;
  CublasHandle handle;
  for (const GemmCase c : {GemmCase{1, 7, 64, 64}, GemmCase{5, 130, 257, 257}, GemmCase{33, 96, 128, 160},
                           GemmCase{64, 256, 512, 512}}) {
    SCOPED_TRACE("T=" + std::to_string(c.T) + " n=" + std::to_string(c.n) + " k=" + std::to_string(c.k) +
                 " ldx=" + std::to_string(c.ldx) + " " + dtype_name(type));
    const auto x = quarters(size_t(c.T * c.ldx), 1), w = quarters(size_t(c.n * c.k), 2);
    const auto ref = reference_xwt(x, w, c.T, c.n, c.k, c.ldx);
    std::vector<float> y(size_t(c.T * c.n));
    if (type == DType::F32) {
      DeviceBuffer<float> dx(x.size()), dw(w.size()), dy(y.size());
      dx.upload(x);
      dw.upload(w);
      gemm_xwt(handle, stream, type, c.T, c.n, c.k, dx.get(), c.ldx, dw.get(), c.k, dy.get(), c.n);
      stream.synchronize();
      y = dy.download();
    } else {
      const auto enc = type == DType::BF16 ? test::to_bf16 : test::to_f16;
      const auto dec = type == DType::BF16 ? test::from_bf16 : test::from_f16;
      std::vector<uint16_t> hx(x.size()), hw(w.size());
      for (size_t i = 0; i < x.size(); ++i) hx[i] = enc(x[i]);
      for (size_t i = 0; i < w.size(); ++i) hw[i] = enc(w[i]);
      DeviceBuffer<uint16_t> dx(hx.size()), dw(hw.size()), dy(y.size());
      dx.upload(hx);
      dw.upload(hw);
      gemm_xwt(handle, stream, type, c.T, c.n, c.k, dx.get(), c.ldx, dw.get(), c.k, dy.get(), c.n);
      stream.synchronize();
      const auto hy = dy.download();
      for (size_t i = 0; i < y.size(); ++i) y[i] = dec(hy[i]);
    }
    // Products of quarters are multiples of 1/16 and |sums| <= 4k: fp32 accumulation is exact, so
    // fp32 storage must match exactly and half storage to within its output rounding.
    const double rel = type == DType::F32 ? 0 : type == DType::BF16 ? 1.0 / 256 : 1.0 / 2048;
    for (size_t i = 0; i < y.size(); ++i)
      ASSERT_LE(std::abs(double(y[i]) - ref[i]), rel * std::abs(ref[i])) << "at " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(AllStorageTypes, Gemm, ::testing::Values(DType::F32, DType::BF16, DType::F16),
                         [](const auto& info) { return std::string(dtype_name(info.param)); });

// The device cast rounds exactly as the host codecs that store the weights.
TEST(Cast, MatchesTheHostCodecsBitForBit) {
  LB_REQUIRE_GPUS_OR_SKIP();
  std::vector<float> x;
  uint32_t s = 7;
  for (int i = 0; i < 100000; ++i) {
    s = s * 1664525u + 1013904223u;
    x.push_back(std::ldexp(float(int32_t(s)) / 2147483648.0f, int(s % 48) - 30));  // 2^-30 .. 2^17
  }
  Stream stream;
  DeviceBuffer<float> dx(x.size());
  dx.upload(x);
  for (const DType type : {DType::BF16, DType::F16}) {
    DeviceBuffer<uint16_t> dy(x.size());
    enqueue_cast(stream, dx.get(), type, dy.get(), x.size());
    stream.synchronize();
    const auto y = dy.download();
    for (size_t i = 0; i < x.size(); ++i)
      ASSERT_EQ(y[i], type == DType::BF16 ? to_bf16(x[i]) : to_f16(x[i])) << dtype_name(type) << " of " << x[i];
  }
}

// bf16/fp16 inputs with an fp32 output: the unrounded fp32 accumulators (what the model's GEMMs use).
TEST(GemmMixed, HalfInputsFp32OutputAreExactOnQuarters) {
  LB_REQUIRE_GPUS_OR_SKIP();
  const int64_t T = 3, n = 70, k = 96;
  const auto x = quarters(size_t(T * k), 3), w = quarters(size_t(n * k), 4);
  const auto ref = reference_xwt(x, w, T, n, k, k);
  Stream stream;
  CublasHandle handle;
  for (const DType type : {DType::BF16, DType::F16}) {
    std::vector<uint16_t> hx, hw;
    for (float v : x) hx.push_back(type == DType::BF16 ? to_bf16(v) : to_f16(v));
    for (float v : w) hw.push_back(type == DType::BF16 ? to_bf16(v) : to_f16(v));
    DeviceBuffer<uint16_t> dx(hx.size()), dw(hw.size());
    DeviceBuffer<float> dy(size_t(T * n));
    dx.upload(hx);
    dw.upload(hw);
    gemm_xwt(handle, stream, type, DType::F32, T, n, k, dx.get(), k, dw.get(), k, dy.get(), n);
    stream.synchronize();
    const auto y = dy.download();
    for (size_t i = 0; i < y.size(); ++i) ASSERT_EQ(double(y[i]), ref[i]) << dtype_name(type) << " at " << i;
  }
  EXPECT_THROW(gemm_xwt(handle, stream, DType::F32, DType::BF16, T, n, k, nullptr, k, nullptr, k, nullptr, n), Error);
}

TEST(GemmShape, RejectsBadLeadingDimension) {
  LB_REQUIRE_GPUS_OR_SKIP();
  CublasHandle handle;
  EXPECT_THROW(gemm_xwt(handle, nullptr, DType::F32, 2, 2, 4, nullptr, 3, nullptr, 4, nullptr, 2), Error);
}

TEST(Delay, LastsAtLeastTheRequestedTimeOnTheGpuClock) {
  LB_REQUIRE_GPUS_OR_SKIP();
  Stream stream;
  DeviceBuffer<uint64_t> stamps(2);
  for (int64_t ns : {int64_t(20'000), int64_t(500'000), int64_t(3'000'000)}) {
    SCOPED_TRACE("requested " + std::to_string(ns) + " ns");
    Event t0(true), t1(true);
    enqueue_read_globaltimer(stream, stamps.get());
    t0.record(stream);
    enqueue_delay(stream, ns);
    t1.record(stream);
    enqueue_read_globaltimer(stream, stamps.get() + 1);
    stream.synchronize();
    const auto s = stamps.download();
    EXPECT_GE(int64_t(s[1] - s[0]), ns);  // same clock as the kernel: strict
    const double event_ns = double(Event::elapsed_ms(t0, t1)) * 1e6;
    EXPECT_GE(event_ns, double(ns) - 2000.0);   // event timer resolution ~0.5 us, different clock
    EXPECT_LE(event_ns, 2.0 * double(ns) + 1e6);  // and it does end
  }
}

// Polling work that is still running (as the NCCL communicator's first all-reduce and its
// watchdog do) leaves no error for the next launch check on the same thread.
TEST(Queries, ANotReadyAnswerLeavesNoLastError) {
  LB_REQUIRE_GPUS_OR_SKIP();
  Stream stream;
  Event done;
  enqueue_delay(stream, 50'000'000);  // 50 ms: both queries below see it running
  done.record(stream);
  EXPECT_EQ(query_stream(stream), cudaErrorNotReady);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
  EXPECT_EQ(query_event(done), cudaErrorNotReady);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
  stream.synchronize();
  EXPECT_EQ(query_stream(stream), cudaSuccess);
}

TEST(Delay, OverlapsWorkOnAnotherStream) {
  LB_REQUIRE_GPUS_OR_SKIP();
  Stream a, b;
  Event start(true), end_a(true), end_b(true);
  const int64_t ns = 5'000'000;
  enqueue_delay(a, 1000);  // warm up the module
  a.synchronize();
  start.record(a);
  start.wait_on(b);
  enqueue_delay(a, ns);
  enqueue_delay(b, ns);
  end_a.record(a);
  end_b.record(b);
  a.synchronize();
  b.synchronize();
  const double total_ms = std::max(Event::elapsed_ms(start, end_a), Event::elapsed_ms(start, end_b));
  EXPECT_GE(total_ms, 5.0 - 0.002);
  EXPECT_LT(total_ms, 8.5) << "two 5 ms delays on two streams must run concurrently";
}

TEST(Graph, CaptureAndReplayGiveTheEagerResult) {
  LB_REQUIRE_GPUS_OR_SKIP();
  const int64_t T = 4, d = 256, f = 512;
  const auto x = quarters(size_t(T * d), 3), w1 = quarters(size_t(f * d), 4), w2 = quarters(size_t(d * f), 5);
  DeviceBuffer<float> dx(x.size()), dw1(w1.size()), dw2(w2.size()), h(size_t(T * f)), y_eager(size_t(T * d)),
      y_graph(size_t(T * d)), y_other(size_t(T * d));
  dx.upload(x);
  dw1.upload(w1);
  dw2.upload(w2);
  Stream stream;
  CublasHandle handle;
  const auto step = [&](float* out) {
    gemm_xwt(handle, stream, DType::F32, T, f, d, dx.get(), dw1.get(), h.get());
    enqueue_delay(stream, 10'000);
    gemm_xwt(handle, stream, DType::F32, T, d, f, h.get(), dw2.get(), out);
  };
  step(y_eager.get());
  stream.synchronize();

  y_graph.zero();
  Graph g = capture_graph(stream, [&] { step(y_graph.get()); });
  ASSERT_TRUE(g.valid());
  EXPECT_FALSE(stream.capturing());
  const auto before = y_graph.download();
  for (float v : before) ASSERT_EQ(v, 0.0f) << "capture must record, not run";
  for (int rep = 0; rep < 3; ++rep) g.launch(stream);
  stream.synchronize();
  EXPECT_EQ(y_graph.download(), y_eager.download());

  // Same topology, other output pointer: updated in place.
  recapture(g, stream, [&] { step(y_other.get()); });
  g.launch(stream);
  stream.synchronize();
  EXPECT_EQ(y_other.download(), y_eager.download());
}

TEST(Graph, ACaptureThatThrowsIsDiscarded) {
  LB_REQUIRE_GPUS_OR_SKIP();
  Stream stream;
  EXPECT_THROW(capture_graph(stream, [&] {
                 enqueue_delay(stream, 1000);
                 throw std::runtime_error("boom");
               }),
               std::runtime_error);
  EXPECT_FALSE(stream.capturing());
  enqueue_delay(stream, 1000);  // the stream is usable again
  EXPECT_NO_THROW(stream.synchronize());
}

}  // namespace
}  // namespace lb::cuda
