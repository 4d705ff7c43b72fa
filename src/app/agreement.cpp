#include "app/agreement.hpp"

#include "core/errors.hpp"

#include <cstdio>
#include <string>

namespace lb {

bool all_ranks_ok(MPI_Comm comm, const std::function<void()>& step) {
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  std::string message;
  try {
    step();
  } catch (const UserError& e) {
    message = e.what();
  }
  const int mine = message.empty() ? size : rank;
  int first_failing = size;
  MPI_Allreduce(&mine, &first_failing, 1, MPI_INT, MPI_MIN, comm);
  if (first_failing == rank) std::fprintf(stderr, "%s: error: %s\n", program_name(), message.c_str());
  return first_failing == size;
}

}  // namespace lb
