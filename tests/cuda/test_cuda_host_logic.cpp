// Host-side logic of the GPU path, tested without a GPU (ctest: cuda_host_logic_np1, _np2, on one
// node): device selection from the node-local communicator and the duplicate-GPU refusal
// (collective), the NCCL watchdog's reading of event queries, and the NCCL transports for the
// provenance.
#include "comm/cuda/event_state.hpp"
#include "comm/cuda/nccl_transports.hpp"
#include "core/cuda/check.hpp"
#include "core/cuda/device.hpp"
#include "core/cuda/query.hpp"

#include <gtest/gtest.h>
#include <mpi.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

namespace lb::cuda {
namespace {

int world_rank() {
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}

// ctest runs the Host* tests at np 1 and 2 (cuda_host, cuda_host_np2), on one node.
TEST(HostLocalRank, IsTheRankOnTheNodeWhateverSlurmLocalIdSays) {
  // mpirun inside an sbatch allocation: every rank inherits the batch step's SLURM_LOCALID=0.
  const char* saved = std::getenv("SLURM_LOCALID");
  const std::string saved_value = saved ? saved : "";
  setenv("SLURM_LOCALID", "0", 1);
  EXPECT_EQ(node_local_rank(MPI_COMM_WORLD), world_rank());
  if (saved)
    setenv("SLURM_LOCALID", saved_value.c_str(), 1);
  else
    unsetenv("SLURM_LOCALID");
}

TEST(HostDuplicateDevices, MessageNamesTheRanksSharingABusId) {
  EXPECT_EQ(duplicate_device_message({}), "");
  EXPECT_EQ(duplicate_device_message({"0000:41:00.0"}), "");
  EXPECT_EQ(duplicate_device_message({"0000:41:00.0", "0000:42:00.0", "0000:43:00.0"}), "");
  const std::string m = duplicate_device_message({"0000:41:00.0", "0000:42:00.0", "0000:41:00.0"});
  EXPECT_NE(m.find("ranks 0 and 2"), std::string::npos) << m;
  EXPECT_NE(m.find("0000:41:00.0"), std::string::npos) << m;
}

TEST(HostDuplicateDevices, EveryRankRefusesWhenTwoRanksShareAGpu) {
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  // Distinct devices: accepted on every rank.
  EXPECT_NO_THROW(require_distinct_devices(MPI_COMM_WORLD, "0000:4" + std::to_string(world_rank()) + ":00.0"));
  // The same device on every rank (each rank saw SLURM_LOCALID=0, or one GPU each of which is the
  // same): refused on every rank, so none goes on to wait in the NCCL bootstrap.
  bool threw = false;
  std::string what;
  try {
    require_distinct_devices(MPI_COMM_WORLD, "0000:41:00.0");
  } catch (const Error& e) {
    threw = true;
    what = e.what();
  }
  EXPECT_EQ(threw, size > 1) << what;
  if (size > 1) EXPECT_NE(what.find("duplicate GPU: node-local ranks 0 and 1"), std::string::npos) << what;
}

// The NCCL watchdog's reading of cudaEventQuery: a capture-state answer is never a comm failure.
TEST(HostWatchdogEvents, CaptureStateIsNoCommFailure) {
  EXPECT_EQ(classify_event_query(cudaSuccess), EventState::Done);
  EXPECT_EQ(classify_event_query(cudaErrorNotReady), EventState::Pending);
  for (cudaError_t e : {cudaErrorCapturedEvent, cudaErrorStreamCaptureUnsupported, cudaErrorStreamCaptureInvalidated,
                        cudaErrorStreamCaptureImplicit, cudaErrorStreamCaptureWrongThread, cudaErrorStreamCaptureIsolation})
    EXPECT_EQ(classify_event_query(e), EventState::Unusable) << cudaGetErrorName(e);
  for (cudaError_t e : {cudaErrorIllegalAddress, cudaErrorLaunchFailure, cudaErrorInvalidResourceHandle})
    EXPECT_EQ(classify_event_query(e), EventState::Failed) << cudaGetErrorName(e);
}

// A query answering "not yet" must not leave cudaErrorNotReady as the thread's last error (the
// next cudaGetLastError check after a launch would throw); other answers are left to the caller.
TEST(HostQueries, NotReadyIsClearedFromTheLastError) {
  for (const cudaError_t answer : {cudaSuccess, cudaErrorNotReady, cudaErrorIllegalAddress}) {
    int cleared = 0;
    EXPECT_EQ(query_clearing_not_ready([&] { return answer; }, [&] { ++cleared; }), answer);
    EXPECT_EQ(cleared, answer == cudaErrorNotReady ? 1 : 0) << cudaGetErrorName(answer);
  }
}

// The transports NCCL logs for its connections (lines as NCCL 2.2x writes them), for provenance.
TEST(HostNcclTransports, ReadFromTheInfoLog) {
  const std::string log =
      "gpu1:123:456 [0] NCCL INFO Channel 00/0 : 0[0] -> 1[1] via P2P/CUMEM/read\n"
      "gpu1:123:456 [0] NCCL INFO Channel 01/0 : 0[0] -> 1[1] via P2P/CUMEM/read\n"
      "gpu1:123:460 [0] NCCL INFO Channel 00/0 : 1[1] -> 0[0] [receive] via NET/IB/0/GDRDMA\n"
      "gpu1:123:456 [0] NCCL INFO Channel 02 : 0[0] -> 1[1] via SHM/direct/direct\n"
      "gpu1:123:456 [0] NCCL INFO Connected all rings, use ring PXN 0 GDR 1\n"
      "unrelated line with via in it\n";
  EXPECT_EQ(nccl_transports_in_log(log), "NET/IB/0/GDRDMA, P2P/CUMEM/read, SHM/direct/direct");
  EXPECT_EQ(nccl_transports_in_log(""), "");
}

TEST(HostNcclTransports, LogRoutedToAFileOnlyIfTheUserConfiguredNone) {
  const char* names[] = {"NCCL_DEBUG", "NCCL_DEBUG_SUBSYS", "NCCL_DEBUG_FILE"};
  std::vector<std::optional<std::string>> saved;
  for (const char* n : names) saved.push_back(std::getenv(n) ? std::optional<std::string>(std::getenv(n)) : std::nullopt);
  setenv("NCCL_DEBUG", "WARN", 1);
  unsetenv("NCCL_DEBUG_FILE");
  EXPECT_EQ(route_nccl_log_to_file(), "");
  EXPECT_EQ(std::getenv("NCCL_DEBUG_FILE"), nullptr);
  unsetenv("NCCL_DEBUG");
  const std::string path = route_nccl_log_to_file();
  EXPECT_NE(path.find("ladderbench-nccl-"), std::string::npos) << path;
  EXPECT_STREQ(std::getenv("NCCL_DEBUG"), "INFO");
  EXPECT_STREQ(std::getenv("NCCL_DEBUG_SUBSYS"), "INIT");
  EXPECT_EQ(std::getenv("NCCL_DEBUG_FILE"), path);
  EXPECT_EQ(route_nccl_log_to_file(), path);  // a second communicator of the process: the same file
  for (size_t i = 0; i < saved.size(); ++i) {
    if (saved[i])
      setenv(names[i], saved[i]->c_str(), 1);
    else
      unsetenv(names[i]);
  }
}

}  // namespace
}  // namespace lb::cuda
