// How a rank uses the CPU cores its launcher gave it (`mpirun --map-by slot:PE=N`,
// `srun --cpus-per-task=N`, or one core: mpirun's default binding). Decided once per process, before
// Kokkos starts: with two or more cores and a communication progress thread (a CPU build whose
// ranks span nodes: comm/comm_mpi.hpp), that thread gets the last core to itself and every other
// thread (main, BLAS, Kokkos' host threads) the rest; otherwise they all share every core. Compute
// threads: the cores left, capped by OPENBLAS_NUM_THREADS / OMP_NUM_THREADS when the job sets them
// (docs/measurement.md).
// Ranks of one node whose masks overlap (`mpirun --bind-to none`) share their cores instead: nothing
// is pinned, and each rank takes its share of the cores as compute threads.
#pragma once

#include <string>
#include <vector>

namespace lb {

struct CpuLayout {
  std::vector<int> cpus;          // the process' affinity mask as launched
  std::vector<int> compute_cpus;  // where the main, BLAS and Kokkos host threads run
  bool progress_thread = false;   // whether the rank's all-reduces have a progress thread at all
  int progress_cpu = -1;          // the progress thread's own core; -1: none, or it shares compute_cpus
  int compute_threads = 1;        // BLAS and Kokkos host threads
  int ranks_sharing = 1;          // ranks of this node whose masks overlap this one's (itself included)
};

// The layout for this process: its affinity mask `cpus` (cpus_of_this_process), the two variables
// above, and how many ranks of its node have masks overlapping it (app/mpi_app.cpp counts them).
CpuLayout plan_cpu_layout(const std::vector<int>& cpus, bool progress_thread, int ranks_sharing);
// The rule itself: `cpus` the mask, `thread_cap` the variables' limit (0: none).
CpuLayout layout_for(const std::vector<int>& cpus, bool progress_thread, int thread_cap, int ranks_sharing = 1);

std::vector<int> cpus_of_this_process();

// Pins every thread of the process to layout.compute_cpus (when a core is reserved) and records the
// layout for cpu_layout(). Threads created later inherit the pin of their creator.
void apply_cpu_layout(const CpuLayout& layout);

// The layout applied in this process (the default, all shared, if none was).
const CpuLayout& cpu_layout();

// Pins the calling thread to one core; false if the system refused.
bool pin_current_thread(int cpu);

// "0-3" style list of cores, for logs and the provenance.
std::string cpu_list(const std::vector<int>& cpus);

}  // namespace lb
