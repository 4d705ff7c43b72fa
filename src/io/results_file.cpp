#include "io/results_file.hpp"

#include "core/errors.hpp"
#include "io/provenance.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <cstdio>
#include <filesystem>
#include <stdexcept>

namespace fs = std::filesystem;

namespace lb {
namespace {

// Every HDF5 call goes through here: a failing write (full disk, I/O error) becomes one exception
// naming the file, instead of HDF5's error stack on stderr and a silently incomplete file.
hid_t check(hid_t status, const std::string& what, const std::string& file) {
  if (status < 0) {
    // HDF5 leaves the cause of an I/O failure in errno (ENOSPC, EFBIG, EIO, ...).
    const std::string cause = errno != 0 ? std::string(" (") + std::strerror(errno) + ")" : "";
    throw std::runtime_error("writing results file " + file + " failed: " + what + cause);
  }
  return status;
}

struct Handle {  // closes an HDF5 id with the matching close function
  hid_t id;
  herr_t (*close)(hid_t);
  ~Handle() {
    if (id >= 0) close(id);
  }
};

hid_t utf8_string_type() {
  const hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, H5T_VARIABLE);
  H5Tset_cset(t, H5T_CSET_UTF8);
  return t;
}

void write_attr(hid_t obj, const std::string& name, hid_t type, hid_t space, const void* data, const std::string& file) {
  if (H5Aexists(obj, name.c_str()) > 0) H5Adelete(obj, name.c_str());
  Handle a{check(H5Acreate2(obj, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT), "attribute " + name, file), H5Aclose};
  check(H5Awrite(a.id, type, data), "attribute " + name, file);
}

void string_attr(hid_t obj, const std::string& name, const std::string& value, const std::string& file) {
  Handle type{utf8_string_type(), H5Tclose};
  Handle space{H5Screate(H5S_SCALAR), H5Sclose};
  const char* p = value.c_str();
  write_attr(obj, name, type.id, space.id, &p, file);
}

template <class T>
void scalar_attr(hid_t obj, const std::string& name, hid_t type, T value, const std::string& file) {
  Handle space{H5Screate(H5S_SCALAR), H5Sclose};
  write_attr(obj, name, type, space.id, &value, file);
}

void dataset(hid_t group, const std::string& name, hid_t type, std::vector<hsize_t> dims, const void* data,
             const std::string& file) {
  Handle space{H5Screate_simple(int(dims.size()), dims.data(), nullptr), H5Sclose};
  Handle d{check(H5Dcreate2(group, name.c_str(), type, space.id, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "dataset " + name, file),
           H5Dclose};
  check(H5Dwrite(d.id, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), "dataset " + name, file);
}

// HDF5 holds an flock() on a file it writes: a second writer fails with "Resource temporarily
// unavailable". Probing the same lock (without truncating anything) names the real cause.
bool held_by_another_process(const std::string& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool held = ::flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);  // releases the probe's lock if it got one
  return held;
}

std::string held_message(const std::string& path, const std::string& partial) {
  return "--out " + path + ": " + partial +
         " is locked by another process (another job writing the same --out?); wait for it to finish or "
         "choose another --out";
}

}  // namespace

void ResultsFile::check_output_path(const std::string& path, bool overwrite) {
  const fs::path p(path);
  if (path.empty() || p.filename().empty()) throw UserError("--out: \"" + path + "\" is not a file name");
  const fs::path dir = p.parent_path().empty() ? fs::path(".") : p.parent_path();
  if (!fs::is_directory(dir)) throw UserError("--out " + path + ": directory " + dir.string() + " does not exist");
  if (fs::exists(p) && !overwrite)
    throw UserError("--out " + path + ": file exists (pass --overwrite to replace it)");
  if (held_by_another_process(path + ".partial")) throw UserError(held_message(path, path + ".partial"));
  // Creating a file is the only test that also catches read-only mounts and root's exemptions.
  const std::string probe = (dir / (".ladderbench-probe-" + std::to_string(::getpid()))).string();
  const int fd = ::open(probe.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0) throw UserError("--out " + path + ": directory " + dir.string() + " is not writable (" + std::strerror(errno) + ")");
  ::close(fd);
  ::unlink(probe.c_str());
}

ResultsFile::ResultsFile(const std::string& path, bool overwrite) : path_(path), partial_(path + ".partial") {
  check_output_path(path, overwrite);
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // errors are reported by check()
  errno = 0;
  file_ = H5Fcreate(partial_.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  // A job that took the lock after check_output_path (both started at once).
  if (file_ < 0 && (errno == EWOULDBLOCK || held_by_another_process(partial_))) throw UserError(held_message(path, partial_));
  check(file_, "create", partial_);
  runs_ = check(H5Gcreate2(file_, "runs", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "group /runs", partial_);
  set_attr("format", std::string("ladderbench"));
  set_attr("format_version", kFormatVersion);
  set_attr("complete", int64_t(0));
  set_attr("created_utc", utc_now_iso());
  set_attr("finished_utc", std::string());
  check(H5Fflush(file_, H5F_SCOPE_GLOBAL), "flush", partial_);
}

ResultsFile::~ResultsFile() {
  if (runs_ >= 0) H5Gclose(runs_);
  if (file_ >= 0) H5Fclose(file_);
}

void ResultsFile::set_attr(const std::string& name, const std::string& value) { string_attr(file_, name, value, partial_); }
void ResultsFile::set_attr(const std::string& name, int64_t value) {
  scalar_attr(file_, name, H5T_NATIVE_INT64, value, partial_);
}
void ResultsFile::set_attr(const std::string& name, double value) {
  scalar_attr(file_, name, H5T_NATIVE_DOUBLE, value, partial_);
}
void ResultsFile::set_attr(const std::string& name, const std::vector<std::string>& values) {
  std::vector<const char*> ptrs;
  for (const auto& v : values) ptrs.push_back(v.c_str());
  Handle type{utf8_string_type(), H5Tclose};
  const hsize_t n = ptrs.size();
  Handle space{H5Screate_simple(1, &n, nullptr), H5Sclose};
  write_attr(file_, name, type.id, space.id, ptrs.data(), partial_);
}
void ResultsFile::set_attr(const std::string& name, const std::vector<int64_t>& values) {
  const hsize_t n = values.size();
  Handle space{H5Screate_simple(1, &n, nullptr), H5Sclose};
  write_attr(file_, name, H5T_NATIVE_INT64, space.id, values.data(), partial_);
}

void ResultsFile::write_run(const RunRecord& r) {
  char id[16];
  std::snprintf(id, sizeof id, "r%04lld", static_cast<long long>(next_run_++));
  Handle g{check(H5Gcreate2(runs_, id, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), std::string("group ") + id, partial_), H5Gclose};
  string_attr(g.id, "variant", r.variant, partial_);
  string_attr(g.id, "dtype", r.dtype, partial_);
  string_attr(g.id, "model", r.model, partial_);
  for (const auto& [name, v] : {std::pair<const char*, int64_t>{"batch", r.batch}, {"prompt_len", r.prompt_len},
                                {"gen_len", r.gen_len}, {"tp", r.tp}, {"warmup", r.warmup}, {"reps", r.reps}})
    scalar_attr(g.id, name, H5T_NATIVE_INT64, v, partial_);
  for (const auto& [name, v] : r.extra_attrs) scalar_attr(g.id, name, H5T_NATIVE_DOUBLE, v, partial_);
  if (r.ladder_layers >= 0) scalar_attr(g.id, "ladder_layers", H5T_NATIVE_INT64, r.ladder_layers, partial_);
  if (!r.desync_pattern.empty()) string_attr(g.id, "desync_pattern", r.desync_pattern, partial_);
  const auto reps = hsize_t(r.reps);
  dataset(g.id, "prefill_s", H5T_NATIVE_DOUBLE, {reps}, r.prefill_s.data(), partial_);
  dataset(g.id, "decode_s", H5T_NATIVE_DOUBLE, {reps}, r.decode_s.data(), partial_);
  dataset(g.id, "tokens_per_s", H5T_NATIVE_DOUBLE, {reps}, r.tokens_per_s.data(), partial_);
  dataset(g.id, "decode_step_s", H5T_NATIVE_DOUBLE, {reps, hsize_t(r.gen_len - 1)}, r.decode_step_s.data(), partial_);
  dataset(g.id, "prompt", H5T_NATIVE_INT32, {hsize_t(r.batch), hsize_t(r.prompt_len)}, r.prompt.data(), partial_);
  dataset(g.id, "tokens", H5T_NATIVE_INT32, {hsize_t(r.batch), hsize_t(r.gen_len)}, r.tokens.data(), partial_);
  if (!r.breakdown_compute_s.empty()) {
    const std::vector<hsize_t> dims = {reps, hsize_t(r.layers), 2};
    dataset(g.id, "breakdown_compute_s", H5T_NATIVE_DOUBLE, dims, r.breakdown_compute_s.data(), partial_);
    dataset(g.id, "breakdown_wait_s", H5T_NATIVE_DOUBLE, dims, r.breakdown_wait_s.data(), partial_);
  }
  if (!r.logits.empty())
    dataset(g.id, "logits", H5T_NATIVE_FLOAT, {hsize_t(r.batch), hsize_t(r.vocab)}, r.logits.data(), partial_);
  if (r.has_eval) {
    Handle e{check(H5Gcreate2(g.id, "eval", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), std::string("group ") + id + "/eval",
                   partial_),
             H5Gclose};
    string_attr(e.id, "tokens_file", r.eval.tokens_file, partial_);
    for (const auto& [name, v] : {std::pair<const char*, int64_t>{"window", r.eval.window}, {"windows", r.eval.windows},
                                  {"scored_tokens", r.eval.scored}, {"unused_tokens", r.eval.unused}})
      scalar_attr(e.id, name, H5T_NATIVE_INT64, v, partial_);
    scalar_attr(e.id, "nll_mean", H5T_NATIVE_DOUBLE, r.eval.nll_mean, partial_);
    scalar_attr(e.id, "perplexity", H5T_NATIVE_DOUBLE, r.eval.perplexity, partial_);
  }
  check(H5Fflush(file_, H5F_SCOPE_GLOBAL), "flush", partial_);
}

void ResultsFile::write_group(const std::string& path, const GroupRecord& r) {
  Handle lcpl{H5Pcreate(H5P_LINK_CREATE), H5Pclose};
  H5Pset_create_intermediate_group(lcpl.id, 1);
  Handle g{check(H5Gcreate2(file_, path.c_str(), lcpl.id, H5P_DEFAULT, H5P_DEFAULT), "group " + path, partial_), H5Gclose};
  for (const auto& [name, v] : r.string_attrs) string_attr(g.id, name, v, partial_);
  for (const auto& [name, v] : r.int_attrs) scalar_attr(g.id, name, H5T_NATIVE_INT64, v, partial_);
  for (const auto& [name, v] : r.double_attrs) scalar_attr(g.id, name, H5T_NATIVE_DOUBLE, v, partial_);
  const auto write = [&](const auto& d, hid_t type) {
    hsize_t n = 1;
    for (hsize_t e : d.dims) n *= e;
    if (n != d.data.size())
      throw std::logic_error("dataset " + path + "/" + d.name + ": " + std::to_string(d.data.size()) +
                             " values for " + std::to_string(n) + " elements");
    dataset(g.id, d.name, type, d.dims, d.data.data(), partial_);
  };
  for (const auto& d : r.f64) write(d, H5T_NATIVE_DOUBLE);
  for (const auto& d : r.i64) write(d, H5T_NATIVE_INT64);
  check(H5Fflush(file_, H5F_SCOPE_GLOBAL), "flush", partial_);
}

void ResultsFile::replace_group(const std::string& path, const GroupRecord& r) {
  // H5Lexists wants every parent to exist: test the path one component at a time.
  bool exists = true;
  for (size_t at = path.find('/'); exists; at = path.find('/', at + 1)) {
    exists = H5Lexists(file_, path.substr(0, at).c_str(), H5P_DEFAULT) > 0;
    if (at == std::string::npos) break;
  }
  if (exists) check(H5Ldelete(file_, path.c_str(), H5P_DEFAULT), "replace group " + path, partial_);
  write_group(path, r);
}

void ResultsFile::finalize() {
  set_attr("complete", int64_t(1));
  close_incomplete();
  std::error_code ec;
  fs::rename(partial_, path_, ec);
  if (ec) throw std::runtime_error("renaming " + partial_ + " to " + path_ + " failed: " + ec.message());
}

void ResultsFile::close_incomplete() {
  set_attr("finished_utc", utc_now_iso());
  H5Gclose(runs_);
  runs_ = -1;
  const herr_t closed = H5Fclose(file_);
  file_ = -1;
  check(closed, "close", partial_);
}

}  // namespace lb
