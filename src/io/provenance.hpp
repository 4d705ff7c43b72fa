// What a results file records about where and how it was produced.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace lb {

extern const char* const kGitSha;  // generated at build time (cmake/WriteGitInfo.cmake)
extern const bool kGitDirty;

std::string utc_now_iso();
std::string host_name();
std::string cpu_model();
// The command line, each argument shell-quoted where needed, so it can be pasted back.
std::string quoted_command_line(int argc, char** argv);
// JSON object of the environment variables that change what a run measures
// (NCCL_*, CUDA_*, SLURM_*, OMPI_*, UCX_*, OPENBLAS_*, OMP_*, KOKKOS_*, LB_MAX_CPU_ISA).
std::string relevant_environment_json();
// JSON object: versions of MPI, HDF5 and Kokkos, plus the backends' own (blas, nccl, ...), which
// the caller collects from them (comm/comm_backend.hpp backend_versions()).
std::string library_versions_json(const std::vector<std::pair<std::string, std::string>>& backend_versions);

}  // namespace lb
