// Input refused before a run: comma lists, the link flags' physical bounds, an emulated all-reduce
// longer than the watchdog's timeout, a run that cannot fit in memory, a results file another
// process holds.
#include "options/bench_options.hpp"
#include "app/cli_flags.hpp"
#include "plan/memory_fit.hpp"
#include "core/errors.hpp"
#include "harness.hpp"
#include "io/results_file.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

namespace lb {
namespace {

// Parses `args` (argv[0] first) into the app's options; the CLI11 error message, or "" if accepted.
std::string parse(std::vector<std::string> args, BenchOptions& o) {
  CLI::App app;
  add_bench_flags(app, o);
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  try {
    app.parse(int(argv.size()), const_cast<char**>(argv.data()));
  } catch (const CLI::ParseError& e) {
    return e.what();
  }
  return "";
}

std::string parse(std::vector<std::string> args) {
  BenchOptions o;
  args.insert(args.begin(), {"ladder-bench", "--model", "tiny"});
  return parse(args, o);
}

TEST(CommaList, DistinctPositiveIntegersInOrder) {
  BenchOptions o;
  EXPECT_EQ(parse({"ladder-bench", "--model", "tiny", "--batch", "4,1,16"}, o), "");
  EXPECT_EQ(o.batches, (std::vector<int64_t>{4, 1, 16}));
}

TEST(CommaList, RefusesEmptyRepeatedAndNonNumericElements) {
  EXPECT_NE(parse({"--batch", "1,,2"}).find("empty element"), std::string::npos);
  EXPECT_NE(parse({"--batch", "1,"}).find("empty element"), std::string::npos);
  EXPECT_NE(parse({"--batch", ",1"}).find("empty element"), std::string::npos);
  EXPECT_NE(parse({"--batch", ""}).find("empty element"), std::string::npos);
  EXPECT_NE(parse({"--batch", "2,2"}).find("\"2\" is listed twice"), std::string::npos);
  EXPECT_NE(parse({"--batch", "1,x"}).find("\"x\" in \"1,x\" is not an integer >= 1"), std::string::npos);
  EXPECT_NE(parse({"--batch", "1,2.5"}).find("\"2.5\""), std::string::npos);
  EXPECT_NE(parse({"--batch", "0"}).find("not an integer >= 1"), std::string::npos);
  EXPECT_NE(parse({"--batch", "-3"}).find("not an integer >= 1"), std::string::npos);
  // The other lists, with their own minimum.
  EXPECT_NE(parse({"--prompt-len", "16,,32"}).find("--prompt-len: empty element"), std::string::npos);
  EXPECT_NE(parse({"--prompt-len", "16,16"}).find("listed twice"), std::string::npos);
  EXPECT_NE(parse({"--gen-len", "1"}).find("\"1\" in \"1\" is not an integer >= 2"), std::string::npos);
  EXPECT_NE(parse({"--gen-len", "8,"}).find("--gen-len: empty element"), std::string::npos);
}

TEST(CommaList, VariantsRefuseEmptyElements) {
  EXPECT_THROW(parse_variant_list("standard,"), UserError);
  EXPECT_THROW(parse_variant_list("standard,,ladder"), UserError);
  EXPECT_THROW(parse_variant_list("ladder,ladder"), UserError);
  EXPECT_EQ(parse_variant_list("ladder,standard").size(), 2u);
}

TEST(LinkFlags, PhysicalBoundsAndFiniteValues) {
  BenchOptions o;
  EXPECT_EQ(parse({"ladder-bench", "--model", "tiny", "--link-latency-us", "1000000", "--link-bandwidth-gbps", "0.001"}, o),
            "");
  EXPECT_EQ(o.link.latency_us, 1e6);
  EXPECT_EQ(o.link.bandwidth_gbps, 0.001);
  EXPECT_EQ(parse({"--link-bandwidth-gbps", "0"}), "");  // 0 = no bandwidth term
  for (const char* bad : {"1000001", "1e12", "-5", "inf", "nan", "5us"})
    EXPECT_NE(parse({"--link-latency-us", bad}).find("--link-latency-us"), std::string::npos) << bad;
  for (const char* bad : {"1e-300", "0.0009", "-1", "inf", "1e6", "nan"})
    EXPECT_NE(parse({"--link-bandwidth-gbps", bad}).find("--link-bandwidth-gbps"), std::string::npos) << bad;
  for (const char* bad : {"inf", "-1", "nan"})
    EXPECT_NE(parse({"--timeout-s", bad}).find("--timeout-s"), std::string::npos) << bad;
}

TEST(LinkFlags, AnAllReduceLongerThanTheTimeoutIsRefusedNamingBothFlags) {
  LinkModel link;
  link.latency_us = 900000;
  EXPECT_NO_THROW(check_link_within_timeout(link, 1, 1024, 2, "x"));
  EXPECT_NO_THROW(check_link_within_timeout(link, 0, 1024, 2, "x"));  // no watchdog
  EXPECT_NO_THROW(check_link_within_timeout(link, 0.5, 1024, 1, "x"));  // one rank: no link
  try {
    check_link_within_timeout(link, 0.5, 1024, 2, "the prefill's all-reduce");
    FAIL() << "accepted a 0.9 s all-reduce under a 0.5 s timeout";
  } catch (const UserError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("--link-latency-us 900000"), std::string::npos) << m;
    EXPECT_NE(m.find("--timeout-s 0.5"), std::string::npos) << m;
    EXPECT_NE(m.find("take 0.9 s"), std::string::npos) << m;
  }
  // The bandwidth term alone: 2 (P-1)/P * 1e6 bytes * 8 / 1e7 bit/s = 0.8 s at P = 2.
  link.latency_us = 0;
  link.bandwidth_gbps = 0.01;
  EXPECT_NO_THROW(check_link_within_timeout(link, 0.81, 1000000, 2, "x"));
  EXPECT_THROW(check_link_within_timeout(link, 0.79, 1000000, 2, "x"), UserError);
}

TEST(MemoryFit, HostMemoryIsReadAndSharedAmongTheNodesRanks) {
  const AvailableMemory host = host_available_memory();
  EXPECT_GT(host.bytes, 0);
  EXPECT_NE(host.source.find("MemAvailable"), std::string::npos);
#ifndef LADDERBENCH_CUDA
  const AvailableMemory quarter = memory_per_rank(4);
  EXPECT_NEAR(quarter.bytes, host.bytes / 4, host.bytes * 0.05);  // MemAvailable moves between reads
  EXPECT_NE(quarter.source.find("shared by 4 ranks"), std::string::npos);
#endif
}

TEST(MemoryFit, RefusesWithThePlansNumbersAndTheFlagsToChange) {
  const ModelConfig c = load_model_config(testing::source_path("configs/models/demo-cpu"));
  BenchOptions o;
  o.batches = {1, 100000};
  o.prompt_lens = {16, 1024};
  o.gen_lens = {2};
  const Plan p = plan_of_run(c, o, DType::F32, 2);
  EXPECT_EQ(p.in.batch, 100000);  // the largest of each list decides
  EXPECT_EQ(p.in.prompt_len, 1024);
  // K and V, 8 layers, 8 of 16 KV heads per rank, head_dim 64, 1026 positions, fp32.
  EXPECT_DOUBLE_EQ(p.kv_cache_bytes, 2.0 * 8 * 8 * 64 * 100000 * 1026 * 4);
  const AvailableMemory small{64.0 * 1024 * 1024 * 1024, "test"};
  EXPECT_FALSE(fits(p, small));
  try {
    check_memory_fit(p, small);
    FAIL() << "accepted " << p.total_bytes << " bytes in 64 GiB";
  } catch (const UserError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("GiB per rank"), std::string::npos) << m;
    EXPECT_NE(m.find("64.0 GiB available (test)"), std::string::npos) << m;
    EXPECT_NE(m.find("--batch 100000"), std::string::npos) << m;
  }
  o.batches = {1};
  EXPECT_NO_THROW(check_memory_fit(plan_of_run(c, o, DType::F32, 2), small));
}

TEST(ResultsFileLock, AFileHeldByAnotherWriterIsNamed) {
  const std::string dir = ::testing::TempDir();
  const std::string out = dir + "/held-" + std::to_string(::getpid()) + ".h5";
  const int fd = ::open((out + ".partial").c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  // An flock() conflicts with any other open file description, in this process too: the same
  // lock HDF5 takes on a file it writes.
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  try {
    ResultsFile::check_output_path(out, false);
    FAIL() << "a locked " << out << ".partial was not noticed";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find(out + ".partial is locked by another process"), std::string::npos) << e.what();
  }
  EXPECT_THROW(ResultsFile(out, false), UserError);
  ::close(fd);
  EXPECT_NO_THROW(ResultsFile::check_output_path(out, false));  // released: a stale .partial is replaced
  std::filesystem::remove(out + ".partial");
}

}  // namespace
}  // namespace lb
