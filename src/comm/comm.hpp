// The collective the model needs: a sum all-reduce that can be started now and waited for later.
// Implementations are picked at run time (ExaMiniMD style): MPI on CPU, null for one process;
// NCCL on GPU. Standard TP waits right after starting; ladder waits one module later.
#pragma once

#include "comm/link_model.hpp"
#include "core/dtype.hpp"
#include "core/types.hpp"

#include <cstdint>
#include <memory>
#include <string>

namespace lb {

class Comm {
 public:
  using Ticket = uint64_t;
  virtual ~Comm() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual std::string name() const = 0;
  // The element type all-reduces travel as ("fp32", or "bf16"/"fp16" for a 16-bit GPU model).
  virtual std::string wire_type() const { return "fp32"; }
  // Bytes an all-reduce of n elements moves per rank: n in the wire type (what the performance
  // model's tables are keyed by), not in the app's fp32 activations.
  int64_t wire_bytes(size_t n) const { return int64_t(n) * dtype_bytes(parse_dtype(wire_type())); }
  // How this rank's all-reduces travel between ranks, for provenance (NCCL: its transports, e.g.
  // "P2P/CUMEM/read" over NVLink or "SHM/direct/direct" through the host).
  virtual std::string transports() const { return "not recorded"; }
  // Scheduling of the thread that progresses communication ("none" without one), for provenance.
  virtual std::string progress_priority() const { return "none"; }
  // Starts an in-place sum all-reduce of buf[0, n) once the kernels that wrote it have finished.
  // Every rank must start the same all-reduces in the same order. `tag` says what is reduced
  // (the module index 2*layer + {0 attention, 1 MLP}, or -1), for messages about a stuck wait.
  virtual Ticket start_allreduce(real* buf, size_t n, int64_t tag = -1) = 0;
  // Returns once the all-reduce of `ticket` (and every one started before it) is complete.
  virtual void wait(Ticket ticket) = 0;

  void allreduce(real* buf, size_t n) { wait(start_allreduce(buf, n)); }

  // Called after a captured step (StepGraph) was launched: its all-reduces were recorded, not
  // started through this object, so a backend with a watchdog puts the launch under it here.
  virtual void watch_replayed_step() {}
  // Called before a step is captured (StepGraph): a backend with a watchdog finishes watching the
  // eager all-reduces first, so that nothing it polls is recorded again inside the capture.
  virtual void prepare_capture() {}

  // "layer 3 MLP" for a module tag, "untagged" otherwise.
  static std::string describe(int64_t tag) {
    if (tag < 0) return "an untagged buffer";
    return "layer " + std::to_string(tag / 2) + (tag % 2 ? " MLP" : " attention");
  }
};

// One process, nothing to reduce (TP=1 without MPI; tests).
std::unique_ptr<Comm> make_null_comm();

}  // namespace lb
