// Which transports NCCL connected its ranks with (P2P over NVLink or PCIe, SHM through the host,
// NET/IB, NET/Socket), for the results' provenance: a rank that cannot open its peers' GPUs (each
// task sees one GPU) silently gets SHM, with a fraction of the bandwidth. NCCL has no API for it;
// its INFO log names each connection ("Channel 00/0 : 0[0] -> 1[1] via P2P/CUMEM/read"). The
// communicator routes that log to a file of its own unless the user configured NCCL's logging.
#pragma once

#include <string>

namespace lb::cuda {

// If NCCL_DEBUG is not set: sets NCCL_DEBUG=INFO, NCCL_DEBUG_SUBSYS=INIT (connections are logged
// under it) and NCCL_DEBUG_FILE to a file of this process, and returns that file's path (again on
// later calls); else "".
// Must run before the process's first NCCL call that initializes it (ncclGetUniqueId, init).
std::string route_nccl_log_to_file();

// "P2P/CUMEM/read, SHM/direct/direct": the distinct transports named by "via <transport>" in an
// NCCL INFO log, sorted; "" if none.
std::string nccl_transports_in_log(const std::string& log_text);

}  // namespace lb::cuda
