// The main() every ladderbench MPI app shares: MPI with thread support (the progress thread),
// flags parsed identically on every rank with rank 0 reporting a bad one, Kokkos initialized for
// the run, and any unexpected exception (an I/O failure, a bug) taking every rank down through
// MPI_Abort instead of leaving the others hanging.
#pragma once

#include <CLI/CLI.hpp>
#include <mpi.h>

#include <functional>
#include <optional>

namespace lb {

struct MpiApp {
  const char* name;         // for messages: "ladder-bench"
  const char* description;  // --help's first line
  std::function<void(CLI::App&)> add_flags;
  // Runs before Kokkos is initialized; a value ends the app with that exit code (e.g. --plan).
  std::function<std::optional<int>(MPI_Comm)> before_kokkos;
  std::function<int(MPI_Comm)> run;
  bool stop_on_signals = false;  // SIGTERM/SIGINT set a flag the run polls (stop_signal.hpp)
};

int run_mpi_app(int argc, char** argv, const MpiApp& app);

}  // namespace lb
