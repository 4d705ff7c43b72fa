// The ranks of a communicator that share this node (one shared-memory domain as MPI sees it: two
// ranks on one machine are one node to the transports, whatever their hostnames say), as a
// communicator owned for a scope. Ranks keep their relative order from the parent.
#pragma once

#include <mpi.h>

namespace lb {

class NodeComm {
 public:
  explicit NodeComm(MPI_Comm world) { MPI_Comm_split_type(world, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &comm_); }
  ~NodeComm() { MPI_Comm_free(&comm_); }
  NodeComm(const NodeComm&) = delete;
  NodeComm& operator=(const NodeComm&) = delete;

  MPI_Comm get() const { return comm_; }
  int rank() const {
    int r = 0;
    MPI_Comm_rank(comm_, &r);
    return r;
  }
  int size() const {
    int n = 1;
    MPI_Comm_size(comm_, &n);
    return n;
  }

 private:
  MPI_Comm comm_ = MPI_COMM_NULL;
};

}  // namespace lb
