#include "io/provenance.hpp"

#include <Kokkos_Core.hpp>
#include <hdf5.h>
#include <mpi.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <fstream>

extern char** environ;

namespace lb {

std::string utc_now_iso() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string host_name() {
  char buf[256] = {};
  gethostname(buf, sizeof buf - 1);
  return buf;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown";
}

std::string quoted_command_line(int argc, char** argv) {
  std::string out;
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    const bool plain = !a.empty() && a.find_first_not_of(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%") == std::string::npos;
    if (i) out += ' ';
    if (plain) {
      out += a;
    } else {
      out += '\'';
      for (char c : a) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
      out += '\'';
    }
  }
  return out;
}

std::string relevant_environment_json() {
  static const char* prefixes[] = {"NCCL_", "CUDA_", "SLURM_", "OMPI_", "UCX_", "OPENBLAS_", "OMP_", "KOKKOS_", "LB_MAX_CPU_ISA"};
  nlohmann::json env = nlohmann::json::object();
  for (char** e = environ; *e; ++e) {
    const std::string kv = *e;
    const auto eq = kv.find('=');
    if (eq == std::string::npos) continue;
    for (const char* p : prefixes)
      if (kv.rfind(p, 0) == 0) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return env.dump();
}

std::string library_versions_json(const std::vector<std::pair<std::string, std::string>>& backend_versions) {
  char mpi[MPI_MAX_LIBRARY_VERSION_STRING] = {};
  int len = 0;
  MPI_Get_library_version(mpi, &len);
  std::string mpi_version(mpi, size_t(len));
  if (const auto nl = mpi_version.find_first_of("\r\n"); nl != std::string::npos) mpi_version.resize(nl);
  unsigned maj = 0, min = 0, rel = 0;
  H5get_libversion(&maj, &min, &rel);
  nlohmann::json v = {
      {"mpi", mpi_version},
      {"hdf5", std::to_string(maj) + "." + std::to_string(min) + "." + std::to_string(rel)},
      {"kokkos", std::to_string(KOKKOS_VERSION / 10000) + "." + std::to_string(KOKKOS_VERSION / 100 % 100) + "." +
                     std::to_string(KOKKOS_VERSION % 100)},
      {"kokkos_execution_space", Kokkos::DefaultExecutionSpace::name()},
  };
  for (const auto& [name, version] : backend_versions) v[name] = version;
  return v.dump();
}

}  // namespace lb
