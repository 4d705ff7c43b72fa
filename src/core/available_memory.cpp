#include "core/available_memory.hpp"

#include "core/errors.hpp"

#ifdef LADDERBENCH_CUDA
#include <cuda_runtime.h>
#endif

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

namespace fs = std::filesystem;

namespace lb {
namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

std::string gib(double bytes) {
  char s[32];
  std::snprintf(s, sizeof s, "%.1f GiB", bytes / kGiB);
  return s;
}

// The first number in `file`, or none (missing file, or "max": no limit).
std::optional<double> read_number(const fs::path& file) {
  std::ifstream in(file);
  double v = 0;
  if (in >> v) return v;
  return std::nullopt;
}

// The value of `key` in a "key value" file (memory.stat); 0 if absent.
double stat_value(const fs::path& file, const std::string& key) {
  std::ifstream in(file);
  std::string k;
  double v = 0;
  while (in >> k >> v)
    if (k == key) return v;
  return 0;
}

// The directory of this process's memory cgroup, and whether it is cgroup v2. v2 has the
// single line "0::/path"; v1 a line "N:...memory...:/path".
std::optional<std::pair<fs::path, bool>> memory_cgroup_dir() {
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    const size_t a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    const std::string controllers = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
    const auto under = [&](const fs::path& mount) { return path.size() > 1 ? mount / path.substr(1) : mount; };
    std::stringstream list(controllers);
    for (std::string c; std::getline(list, c, ',');)
      if (c == "memory") return std::make_pair(under("/sys/fs/cgroup/memory"), false);
    if (controllers.empty() && fs::exists("/sys/fs/cgroup/cgroup.controllers"))
      return std::make_pair(under("/sys/fs/cgroup"), true);
  }
  return std::nullopt;
}

// The smallest headroom (limit - usage, page cache that can be reclaimed not counted as usage) of
// the cgroup and its ancestors that set a limit; none if none does. Inside a container the mount
// may show the group as its root: the walk then starts at the first directory that exists.
std::optional<double> cgroup_headroom() {
  const auto group = memory_cgroup_dir();
  if (!group) return std::nullopt;
  const auto [leaf, v2] = *group;
  const fs::path root = v2 ? fs::path("/sys/fs/cgroup") : fs::path("/sys/fs/cgroup/memory");
  std::optional<double> headroom;
  for (fs::path dir = leaf;; dir = dir.parent_path()) {
    if (fs::is_directory(dir)) {
      const auto limit = read_number(dir / (v2 ? "memory.max" : "memory.limit_in_bytes"));
      const auto usage = read_number(dir / (v2 ? "memory.current" : "memory.usage_in_bytes"));
      // v1 writes "no limit" as a huge page-aligned number near 2^63.
      if (limit && usage && *limit < 0x1p62) {
        const double reclaimable = stat_value(dir / "memory.stat", v2 ? "inactive_file" : "total_inactive_file");
        const double room = std::max(0.0, *limit - (*usage - reclaimable));
        headroom = headroom ? std::min(*headroom, room) : room;
      }
    }
    if (dir == root || !dir.has_relative_path() || dir == dir.parent_path()) break;
  }
  return headroom;
}

}  // namespace

AvailableMemory host_available_memory() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  double kib = -1, v = 0;
  std::string unit;
  while (in >> key >> v) {
    std::getline(in, unit);
    if (key == "MemAvailable:") kib = v;
  }
  if (kib < 0) throw UserError("/proc/meminfo: no MemAvailable line (cannot check that the run fits in memory)");
  AvailableMemory m{kib * 1024, "MemAvailable " + gib(kib * 1024)};
  if (const auto room = cgroup_headroom()) {
    m.source += ", memory cgroup headroom " + gib(*room);
    m.bytes = std::min(m.bytes, *room);
  }
  return m;
}

#ifdef LADDERBENCH_CUDA
AvailableMemory device_available_memory() {
  size_t free = 0, total = 0;
  const cudaError_t e = cudaMemGetInfo(&free, &total);
  if (e != cudaSuccess) {
    cudaGetLastError();
    throw UserError(std::string("cannot read the GPU's free memory: ") + cudaGetErrorName(e) + " (" +
                    cudaGetErrorString(e) + ")");
  }
  return {double(free), "free device memory " + gib(double(free)) + " of " + gib(double(total))};
}
#endif

}  // namespace lb
