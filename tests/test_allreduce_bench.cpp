// ladder-allreduce's pieces: size parsing (K/M/G) and the sweep, the nccl-tests bandwidth
// arithmetic, the OSU overlap, the exact-sum inputs and their check (which must catch a single
// wrong element), ResultsFile::write_group, and the communicators' all-reduces themselves (exact
// sums, the shared-memory comm's buffer reuse and emulated link). Run at np 1 and 2: at 2 the
// checks run on real all-reduces.
#include "allreduce/allreduce_check.hpp"
#include "options/allreduce_options.hpp"
#include "comm/comm_backend.hpp"
#include "comm/comm_mpi.hpp"
#include "comm/comm_shm.hpp"
#include "core/errors.hpp"
#include "harness.hpp"
#include "io/results_file.hpp"

#include <gtest/gtest.h>
#include <hdf5.h>
#include <mpi.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <thread>
#include <vector>

namespace lb {
namespace {

using testing::expect_user_error;

TEST(ParseSize, PlainAndSuffixes) {
  EXPECT_EQ(parse_size("8"), 8);
  EXPECT_EQ(parse_size("0"), 0);
  EXPECT_EQ(parse_size("1K"), 1024);
  EXPECT_EQ(parse_size("64k"), 64 * 1024);
  EXPECT_EQ(parse_size("64M"), int64_t(64) << 20);
  EXPECT_EQ(parse_size("1m"), int64_t(1) << 20);
  EXPECT_EQ(parse_size("2G"), int64_t(2) << 30);
  EXPECT_EQ(parse_size("3g"), int64_t(3) << 30);
}

TEST(ParseSize, RejectsWithTheText) {
  for (const char* bad : {"", "M", "8X", "-1", "1.5M", "8KB", " 8", "8 ", "0x10", "1e3"})
    expect_user_error([&] { parse_size(bad); }, std::string("found \"") + bad + "\"");
  expect_user_error([] { parse_size("99999999999999999999"); }, "too large");
  expect_user_error([] { parse_size("5000000000G"); }, "too large");
}

TEST(SizeSweep, NcclTestsDefaults) {
  const auto s = size_sweep(8, parse_size("64M"), 2);
  ASSERT_EQ(s.size(), 24u);  // 2^3 .. 2^26
  for (size_t i = 0; i < s.size(); ++i) EXPECT_EQ(s[i], int64_t(8) << i);
}

TEST(SizeSweep, FactorsAndRounding) {
  EXPECT_EQ(size_sweep(8, 100, 3), (std::vector<int64_t>{8, 24, 72}));
  EXPECT_EQ(size_sweep(10, 40, 2), (std::vector<int64_t>{8, 20, 40}));  // whole floats
  EXPECT_EQ(size_sweep(6, 7, 2), (std::vector<int64_t>{4}));
  EXPECT_EQ(size_sweep(64, 64, 2), (std::vector<int64_t>{64}));
  const auto big = size_sweep(4, int64_t(1) << 62, 2);  // no overflow at the top
  EXPECT_EQ(big.back(), int64_t(1) << 62);
}

TEST(SizeSweep, RejectsBadRanges) {
  expect_user_error([] { size_sweep(2, 64, 2); }, "less than one float");
  expect_user_error([] { size_sweep(64, 8, 2); }, "is less than -b/--minbytes");
  expect_user_error([] { size_sweep(8, 64, 1); }, "--stepfactor");
}

TEST(Bandwidth, NcclTestsArithmetic) {
  EXPECT_DOUBLE_EQ(allreduce_bus_factor(1), 0.0);
  EXPECT_DOUBLE_EQ(allreduce_bus_factor(2), 1.0);
  EXPECT_DOUBLE_EQ(allreduce_bus_factor(4), 1.5);
  EXPECT_DOUBLE_EQ(allreduce_bus_factor(8), 1.75);
  EXPECT_DOUBLE_EQ(algbw(int64_t(1) << 20, 1e-3), 1048576e3);
  EXPECT_DOUBLE_EQ(busbw(int64_t(1) << 20, 1e-3, 4), 1.5 * 1048576e3);
  EXPECT_DOUBLE_EQ(busbw(4000, 2e-6, 2), 2e9);
}

TEST(Overlap, OsuDefinition) {
  EXPECT_DOUBLE_EQ(overlap_percent(100, 100, 50), 100);  // communication fully hidden
  EXPECT_DOUBLE_EQ(overlap_percent(150, 100, 50), 0);    // fully exposed
  EXPECT_DOUBLE_EQ(overlap_percent(125, 100, 50), 50);
  EXPECT_DOUBLE_EQ(overlap_percent(200, 100, 50), 0);    // clamped
  EXPECT_DOUBLE_EQ(overlap_percent(90, 100, 50), 100);   // clamped
  EXPECT_DOUBLE_EQ(overlap_percent(1, 1, 0), 0);
}

TEST(ExactInputs, SumsAreExactIntegersBelow2To24) {
  for (int64_t p = 1; p <= 64; ++p)
    for (int64_t i = 0; i < 21; ++i) {
      double sum = 0;
      float fsum = 0, rsum = 0;  // two summation orders in float
      for (int64_t r = 0; r < p; ++r) {
        sum += allreduce_input(r, i);
        fsum += allreduce_input(r, i);
        rsum += allreduce_input(p - 1 - r, i);
      }
      EXPECT_EQ(double(allreduce_expected(p, i)), sum) << "p=" << p << " i=" << i;
      EXPECT_EQ(fsum, allreduce_expected(p, i));
      EXPECT_EQ(rsum, allreduce_expected(p, i));
    }
  const int64_t pmax = max_exact_ranks();
  const auto largest = [](int64_t p) { return 6 * (p * (p + 1) / 2) + p * (p - 1) / 2; };
  EXPECT_GE(pmax, 1000);
  EXPECT_LT(largest(pmax), int64_t(1) << 24);
  EXPECT_GE(largest(pmax + 1), int64_t(1) << 24);
}

TEST(ExactInputs, CheckCountsEveryWrongElement) {
  const int64_t n = 1000;
  Vec v("v", n);
  for (int ranks : {1, 2, 5}) {
    // A buffer holding the expected sums: build it as the sum of every rank's input.
    auto h = Kokkos::create_mirror_view(v);
    for (int64_t i = 0; i < n; ++i) {
      h(i) = 0;
      for (int r = 0; r < ranks; ++r) h(i) += allreduce_input(r, i);
    }
    Kokkos::deep_copy(v, h);
    EXPECT_EQ(count_allreduce_wrong(v.data(), n, ranks), 0);
    h(17) += 1;
    h(n - 1) = -h(n - 1) - 1;
    Kokkos::deep_copy(v, h);
    EXPECT_EQ(count_allreduce_wrong(v.data(), n, ranks), 2);
    EXPECT_EQ(count_allreduce_wrong(v.data(), 17, ranks), 0);  // only [0, n) is checked
  }
  // A rank's own input is not the sum (an all-reduce that did nothing is caught) for P >= 2.
  fill_allreduce_input(v.data(), n, 0);
  Kokkos::fence();
  EXPECT_EQ(count_allreduce_wrong(v.data(), n, 2), n);
}

TEST(ExactInputs, FillWritesThisRanksInput) {
  Vec v("v", 50);
  fill_allreduce_input(v.data(), 40, 3);
  const auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), v);
  for (int64_t i = 0; i < 40; ++i) EXPECT_EQ(h(i), real(4 * (i % 7) + 3));
  for (int64_t i = 40; i < 50; ++i) EXPECT_EQ(h(i), 0);
}

TEST(SyntheticCompute, DeterministicAndBounded) {
  Vec a("a", 64), b("b", 64);
  Kokkos::deep_copy(a, real(1));
  Kokkos::deep_copy(b, real(1));
  synthetic_compute(a, 1000);
  synthetic_compute(b, 1000);
  const auto ha = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), a);
  const auto hb = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), b);
  for (int i = 0; i < 64; ++i) {
    EXPECT_EQ(ha(i), hb(i));
    EXPECT_TRUE(std::isfinite(ha(i)) && ha(i) > 0.5f && ha(i) <= 1.0f);
  }
}

// The exact check on real all-reduces (np 2: a real reduction), at sizes around the MPI library's
// algorithm switches and the shared-memory comm's chunk size, with and without the asynchronous wait.
void expect_exact_allreduces(Comm& comm) {
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const int64_t max_n = int64_t(1) << 20;
  Vec buf("buf", max_n);
  for (int64_t bytes : size_sweep(4, max_n * 4, 8)) {
    const int64_t n = bytes / 4;
    fill_allreduce_input(buf.data(), n, rank);
    comm.wait(comm.start_allreduce(buf.data(), size_t(n)));
    int64_t wrong = count_allreduce_wrong(buf.data(), n, size);
    MPI_Allreduce(MPI_IN_PLACE, &wrong, 1, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
    EXPECT_EQ(wrong, 0) << comm.name() << " bytes=" << bytes;
  }
  // One rank sends one wrong value: every rank's result is wrong at exactly that element.
  const int64_t n = 4096;
  fill_allreduce_input(buf.data(), n, rank);
  if (rank == size - 1) Kokkos::deep_copy(Kokkos::subview(buf, 123), real(1000));
  Kokkos::fence();
  comm.allreduce(buf.data(), size_t(n));
  EXPECT_EQ(count_allreduce_wrong(buf.data(), n, size), 1) << comm.name();
}

// The backend the apps use (on this machine the shared-memory comm; NCCL in the GPU build) and, on
// the CPU, the MPI comm that carries all-reduces across nodes.
TEST(Allreduce, ExactCheckPassesAndCatchesACorruptedInput) {
  expect_exact_allreduces(*make_backend_comm(MPI_COMM_WORLD, LinkModel{}, 60));
  if (Kokkos::SpaceAccessibility<Kokkos::HostSpace, MemSpace>::accessible)
    expect_exact_allreduces(*make_mpi_comm(MPI_COMM_WORLD, LinkModel{}, 60));
}

// The shared-memory comm's sequence numbers and buffer reuse (comm/comm_shm.cpp): two all-reduces
// in flight as ladder keeps them (start a, start b, wait a, wait b), more in flight than the comm
// has buffers, messages of several chunks, waits out of order, every message on new data: every
// sum exact on every rank. A buffer overwritten while a peer still read it, or a sequence number
// mistaken for another, shows up as a wrong element.
TEST(ShmAllreduce, InFlightAllreducesStayExactWhileBuffersAreReused) {
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  auto comm = make_shm_comm(MPI_COMM_WORLD, LinkModel{}, 60);
  // Rank r's element i of message k: every sum is an integer below 2^24, exact in any order.
  const auto value = [](int64_t k, int64_t i, int64_t r) { return real((r + 1) * ((i + 3 * k) % 11) + k % 7); };
  int64_t message = 0, wrong = 0;
  // Starts one message of each size, then waits for them (the last first if `reverse`: that wait
  // completes the earlier ones too) and checks them.
  const auto round = [&](const std::vector<size_t>& sizes, bool reverse = false) {
    std::vector<std::vector<real>> bufs;
    std::vector<Comm::Ticket> tickets;
    const int64_t first = message;
    for (const size_t n : sizes) {
      bufs.emplace_back(n);
      for (size_t i = 0; i < n; ++i) bufs.back()[i] = value(message, int64_t(i), rank);
      tickets.push_back(comm->start_allreduce(bufs.back().data(), n));
      ++message;
    }
    if (reverse) std::reverse(tickets.begin(), tickets.end());
    for (const Comm::Ticket t : tickets) comm->wait(t);
    for (size_t j = 0; j < bufs.size(); ++j)
      for (size_t i = 0; i < bufs[j].size(); ++i) {
        real expected = 0;
        for (int r = 0; r < size; ++r) expected += value(first + int64_t(j), int64_t(i), r);
        wrong += bufs[j][i] != expected;
      }
  };
  for (int it = 0; it < 500; ++it) round({size_t(1 + it % 7) * 256, 1024});  // ladder's two in flight
  for (int it = 0; it < 50; ++it) round({3, 1000, 4096, 1, 20000, 7}, it % 2 == 1);  // more than the buffers
  round({size_t(3) << 18, size_t(5) << 18, 5});  // 3 and 5 chunks of 1 MiB, then a small one
  MPI_Allreduce(MPI_IN_PLACE, &wrong, 1, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
  EXPECT_EQ(wrong, 0);
}

// The emulated link on the shared-memory comm, as on the MPI one: a transfer enters the link once
// the last rank has started it, and after the previous transfer has left it (FIFO).
TEST(ShmAllreduce, EmulatedLinkStartsAtTheLastRankAndQueues) {
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (size < 2) GTEST_SKIP() << "one rank: the link is off";
  using Clock = std::chrono::steady_clock;
  const auto ns = [](Clock::time_point t) { return int64_t(t.time_since_epoch().count()); };
  const double latency_s = 2e-3;
  auto comm = make_shm_comm(MPI_COMM_WORLD, LinkModel{latency_s * 1e6, 0}, 60);
  std::vector<real> a(64, 1), b(64, 1);
  // The last rank starts 5 ms after the others: every rank's wait ends a latency after that.
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank == size - 1) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  int64_t last_start = ns(Clock::now());
  const Comm::Ticket ta = comm->start_allreduce(a.data(), a.size());
  MPI_Allreduce(MPI_IN_PLACE, &last_start, 1, MPI_INT64_T, MPI_MAX, MPI_COMM_WORLD);
  comm->wait(ta);
  EXPECT_GE(ns(Clock::now()) - last_start, int64_t(latency_s * 1e9));
  // Two started together: the second leaves the link a latency after the first.
  MPI_Barrier(MPI_COMM_WORLD);
  const auto t0 = Clock::now();
  const Comm::Ticket t1 = comm->start_allreduce(a.data(), a.size());
  const Comm::Ticket t2 = comm->start_allreduce(b.data(), b.size());
  comm->wait(t2);
  EXPECT_GE(std::chrono::duration<double>(Clock::now() - t0).count(), 2 * latency_s);
  comm->wait(t1);
  EXPECT_EQ(a[0], real(size * size));  // a's second all-reduce: `size` copies of `size`
  EXPECT_EQ(b[0], real(size));
}

TEST(ResultsFileGroups, WriteGroupRoundTrip) {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank != 0) return;
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("ladderbench-group-" + std::to_string(::getpid()) + ".h5")).string();
  {
    ResultsFile f(path, true);
    GroupRecord g;
    g.string_attrs = {{"mode", "blocking"}};
    g.int_attrs = {{"iters", 3}};
    g.f64 = {{"time_s", {2, 3}, {1, 2, 3, 4, 5, 6}}};
    g.i64 = {{"bytes", {2}, {8, 16}}};
    f.write_group("allreduce/blocking", g);
    GroupRecord bad;
    bad.f64 = {{"x", {2, 2}, {1, 2, 3}}};
    EXPECT_THROW(f.write_group("allreduce/bad", bad), std::logic_error);
    f.finalize();
  }
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  double t[6] = {};
  const hid_t d = H5Dopen2(file, "allreduce/blocking/time_s", H5P_DEFAULT);
  ASSERT_GE(d, 0);
  H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, t);
  EXPECT_EQ(t[5], 6);
  H5Dclose(d);
  int64_t b[2] = {};
  const hid_t db = H5Dopen2(file, "allreduce/blocking/bytes", H5P_DEFAULT);
  H5Dread(db, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, b);
  EXPECT_EQ(b[1], 16);
  H5Dclose(db);
  int64_t iters = 0;
  const hid_t a = H5Aopen_by_name(file, "allreduce/blocking", "iters", H5P_DEFAULT, H5P_DEFAULT);
  H5Aread(a, H5T_NATIVE_INT64, &iters);
  EXPECT_EQ(iters, 3);
  H5Aclose(a);
  H5Fclose(file);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace lb
