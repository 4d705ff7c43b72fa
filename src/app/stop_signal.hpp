// SIGTERM / SIGINT (a Slurm time limit, Ctrl-C) end a job gracefully: the handler only records
// the signal; the benchmark stops after the measurement in progress, writes what it measured and
// exits non-zero. A second signal terminates at once.
#pragma once

#include <string>

namespace lb {

void install_stop_handlers();
// The signal received (0 if none).
int stop_signal();
// "SIGTERM", "SIGINT", or the number: the results files' `interrupted` attribute.
std::string signal_name(int sig);

}  // namespace lb
