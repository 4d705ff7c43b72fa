#include "comm/cuda/nccl_transports.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <set>
#include <sstream>

namespace lb::cuda {

std::string route_nccl_log_to_file() {
  static std::string routed;  // a later communicator of the process finds its own setting
  if (!routed.empty()) return routed;
  if (std::getenv("NCCL_DEBUG")) return "";  // the user's logging stays as configured
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("ladderbench-nccl-" + std::string(host) + "-" + std::to_string(::getpid()) + ".log"))
                               .string();
  setenv("NCCL_DEBUG", "INFO", 1);
  setenv("NCCL_DEBUG_SUBSYS", "INIT", 1);
  setenv("NCCL_DEBUG_FILE", path.c_str(), 1);
  routed = path;
  return path;
}

std::string nccl_transports_in_log(const std::string& log_text) {
  std::set<std::string> found;
  std::istringstream lines(log_text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.find("NCCL INFO") == std::string::npos) continue;
    const size_t via = line.find(" via ");
    if (via == std::string::npos) continue;
    std::istringstream rest(line.substr(via + 5));
    std::string transport;
    if (rest >> transport) found.insert(transport);
  }
  std::string out;
  for (const std::string& t : found) out += (out.empty() ? "" : ", ") + t;
  return out;
}

}  // namespace lb::cuda
