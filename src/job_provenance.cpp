#include "job_provenance.hpp"

#include "provenance.hpp"

#include <vector>

namespace lb {

void write_job_provenance(ResultsFile* file, MPI_Comm world, const std::string& cmdline, const Comm& comm,
                          const LinkModel& link) {
  int rank = 0, size = 1;
  MPI_Comm_rank(world, &rank);
  MPI_Comm_size(world, &size);
  std::vector<char> names(size_t(size) * 256, '\0');
  std::vector<char> me(256, '\0');
  host_name().copy(me.data(), 255);
  MPI_Gather(me.data(), 256, MPI_CHAR, names.data(), 256, MPI_CHAR, 0, world);
  if (rank != 0 || !file) return;
  std::vector<std::string> hosts;
  for (int r = 0; r < size; ++r) hosts.emplace_back(&names[size_t(r) * 256]);
  file->set_attr("git_sha", std::string(kGitSha));
  file->set_attr("git_dirty", int64_t(kGitDirty));
  file->set_attr("argv", cmdline);
  file->set_attr("world_size", int64_t(size));
  file->set_attr("hostnames", hosts);
  file->set_attr("cpu_model", cpu_model());
  file->set_attr("backend", comm.name());
  file->set_attr("comm_progress_priority", comm.progress_priority());
  file->set_attr("device", std::string("cpu"));
  file->set_attr("link_emulated", int64_t(link.enabled()));
  file->set_attr("link_latency_us", link.latency_us);
  file->set_attr("link_bandwidth_gbps", link.bandwidth_gbps);
  file->set_attr("env", relevant_environment_json());
  file->set_attr("versions", library_versions_json());
}

}  // namespace lb
