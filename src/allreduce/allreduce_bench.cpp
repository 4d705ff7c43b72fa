#include "allreduce/allreduce_bench.hpp"

#include "app/agreement.hpp"
#include "allreduce/allreduce_check.hpp"
#include "allreduce/allreduce_report.hpp"
#include "allreduce/allreduce_sweep.hpp"
#include "report/roofline_report.hpp"
#include "app/stop_signal.hpp"
#include "comm/comm_backend.hpp"
#include "core/errors.hpp"
#include "io/job_provenance.hpp"
#include "io/provenance.hpp"
#include "io/results_file.hpp"

#include <climits>
#include <cstdio>
#include <memory>

namespace lb {

int run_allreduce_bench(const AllreduceOptions& o, MPI_Comm world, int argc, char** argv) {
  int rank = 0, size = 1;
  MPI_Comm_rank(world, &rank);
  MPI_Comm_size(world, &size);

  std::vector<int64_t> sizes;
  if (!all_ranks_ok(world, [&] {
        sizes = size_sweep(o.minbytes, o.maxbytes, o.stepfactor);
        if (sizes.back() / int64_t(sizeof(real)) > INT_MAX)
          throw UserError("-e/--maxbytes " + std::to_string(o.maxbytes) + " is more than an MPI count of floats (" +
                          std::to_string(int64_t(INT_MAX) * int64_t(sizeof(real))) + " bytes)");
        check_link_within_timeout(o.link, o.timeout_s, size_t(sizes.back()), size, "the largest all-reduce (-e/--maxbytes)");
        if (o.measures("mpi") && !Kokkos::SpaceAccessibility<Kokkos::HostSpace, MemSpace>::accessible)
          throw UserError("--mode " + o.mode +
                          ": MPI_Allreduce reads host memory; this build's buffers are on the device");
        if (size > max_exact_ranks())
          throw UserError("the exact check supports at most " + std::to_string(max_exact_ranks()) + " ranks, found " +
                          std::to_string(size));
        if (rank == 0 && !o.out.empty()) ResultsFile::check_output_path(o.out, o.overwrite);
      }))
    return 1;

  const std::string cmdline = quoted_command_line(argc, argv);
  auto comm = make_backend_comm(world, o.link, o.timeout_s);
  print_allreduce_header(o, *comm, cmdline, sizes, world);

  std::unique_ptr<ResultsFile> file;
  if (rank == 0 && !o.out.empty()) file = std::make_unique<ResultsFile>(o.out, o.overwrite);
  write_job_provenance(file.get(), world, cmdline, *comm, o.link);
  if (file) store_allreduce_attrs(*file, o);

  if (o.roofline) {
    const Roofline r = measure_roofline(world);
    if (rank == 0) {
      print_roofline(stdout, r);
      std::printf("#\n");
    }
    if (file) store_roofline(*file, r);
  }
  if (rank == 0) print_allreduce_columns(o);

  Sweep sweep(o, world, *comm, sizes.back() / int64_t(sizeof(real)));
  ModeResult mpi("mpi"), blocking("blocking"), async("async");
  std::vector<ModeResult*> modes;  // in the columns' order: async last, with its extra columns
  for (ModeResult* m : {&mpi, &blocking, &async})
    if (o.measures(m->mode)) modes.push_back(m);
  int stop = 0;
  for (const int64_t bytes : sizes) {
    // The modes of one size back to back, so drift of a shared machine hits them alike.
    if (o.measures("mpi")) sweep.mpi(bytes, mpi);
    if (o.measures("blocking")) sweep.blocking(bytes, blocking);
    if (o.measures("async")) sweep.async(bytes, async);
    if (rank == 0) print_allreduce_row({modes.begin(), modes.end()}, o.measures("async"));
    // Every finished size is in the file; a SIGTERM/SIGINT on any rank stops all after this size.
    if (file)
      for (const ModeResult* m : modes) file->replace_group("allreduce/" + m->mode, mode_record(*m, size, o));
    stop = stop_signal();
    MPI_Allreduce(MPI_IN_PLACE, &stop, 1, MPI_INT, MPI_MAX, world);
    if (stop) break;
  }

  int64_t wrong = 0;
  for (const ModeResult* m : modes)
    for (int64_t w : m->wrong) wrong += w;
  if (rank == 0) print_allreduce_summary({modes.begin(), modes.end()}, wrong);
  if (file) file->set_attr("wrong_total", wrong);
  if (stop) {
    if (file) {
      file->set_attr("interrupted", signal_name(stop));
      file->close_incomplete();
    }
    if (rank == 0)
      std::fprintf(stderr, "%s: stopped by %s after %zu of %zu sizes%s%s\n", program_name(), signal_name(stop).c_str(),
                   modes.front()->bytes.size(), sizes.size(), file ? "; they are in " : "", file ? file->partial_path().c_str() : "");
    return 128 + stop;
  }
  if (file) {
    file->finalize();
    std::printf("# wrote %s\n", o.out.c_str());
  }
  if (wrong != 0 && rank == 0)
    std::fprintf(stderr, "%s: error: %lld wrong elements in all-reduce results (see the #wrong column)\n",
                 program_name(), (long long)wrong);
  return wrong == 0 ? 0 : 1;
}

}  // namespace lb
