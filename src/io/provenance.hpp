// What a results file records about where and how it was produced.
#pragma once

#include <string>
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
// (NCCL_*, CUDA_*, SLURM_*, OMPI_*, UCX_*, OPENBLAS_*, OMP_*, KOKKOS_*).
std::string relevant_environment_json();
// JSON object: versions of MPI, HDF5, Kokkos and the BLAS this binary uses.
std::string library_versions_json();

}  // namespace lb
