#include "core/cpu_layout.hpp"

#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <sys/types.h>

#include <algorithm>
#include <cstdlib>
#include <string>

namespace lb {
namespace {

CpuLayout& applied() {
  static CpuLayout layout;
  return layout;
}

cpu_set_t to_set(const std::vector<int>& cpus) {
  cpu_set_t set;
  CPU_ZERO(&set);
  for (const int c : cpus) CPU_SET(c, &set);
  return set;
}

// A positive thread count from the environment, or 0 when unset or not a positive number.
int env_threads(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return 0;
  char* end = nullptr;
  const long n = std::strtol(v, &end, 10);
  return *end == '\0' && n > 0 ? int(n) : 0;
}

}  // namespace

CpuLayout layout_for(const std::vector<int>& cpus, bool progress_thread, int thread_cap, int ranks_sharing) {
  CpuLayout l;
  l.cpus = cpus.empty() ? std::vector<int>{0} : cpus;  // no mask to read: one core, shared
  l.compute_cpus = l.cpus;
  l.ranks_sharing = std::max(ranks_sharing, 1);
  l.progress_thread = progress_thread;
  if (l.ranks_sharing > 1) {  // other ranks run on these cores too: pin nothing, take a share
    l.compute_threads = std::max(1, int(l.cpus.size()) / l.ranks_sharing);
  } else {
    if (progress_thread && l.cpus.size() >= 2) {
      l.progress_cpu = l.cpus.back();
      l.compute_cpus.pop_back();
    }
    l.compute_threads = int(l.compute_cpus.size());
  }
  if (thread_cap > 0) l.compute_threads = std::min(l.compute_threads, thread_cap);
  return l;
}

std::vector<int> cpus_of_this_process() {
  std::vector<int> cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0)
    for (int c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &set)) cpus.push_back(c);
  return cpus;
}

CpuLayout plan_cpu_layout(const std::vector<int>& cpus, bool progress_thread, int ranks_sharing) {
  int cap = 0;
  for (const char* name : {"OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"})
    if (const int n = env_threads(name)) cap = cap ? std::min(cap, n) : n;
  return layout_for(cpus, progress_thread, cap, ranks_sharing);
}

void apply_cpu_layout(const CpuLayout& layout) {
  applied() = layout;
  if (layout.progress_cpu < 0) return;
  // Every thread there is now: this one, the BLAS pool (started when the library loaded), any
  // others a library started. The progress thread, created later, moves to its core itself.
  const cpu_set_t set = to_set(layout.compute_cpus);
  if (DIR* tasks = opendir("/proc/self/task")) {
    while (const dirent* e = readdir(tasks))
      if (const pid_t tid = pid_t(std::atoi(e->d_name)); tid > 0) sched_setaffinity(tid, sizeof set, &set);
    closedir(tasks);
  }
  sched_setaffinity(0, sizeof set, &set);
}

const CpuLayout& cpu_layout() { return applied(); }

bool pin_current_thread(int cpu) {
  const cpu_set_t set = to_set({cpu});
  return pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
}

std::string cpu_list(const std::vector<int>& cpus) {
  std::string out;
  for (size_t i = 0; i < cpus.size();) {
    size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) ++j;
    if (!out.empty()) out += ",";
    out += std::to_string(cpus[i]);
    if (j > i) out += "-" + std::to_string(cpus[j]);
    i = j + 1;
  }
  return out;
}

}  // namespace lb
