#include "harness.hpp"

#include "bench/generation.hpp"
#include "model/random_init.hpp"
#include "model/shard.hpp"
#include "model/weights.hpp"

#include <cstdlib>

namespace lb::testing {

// The environment variable of the same name wins: test binaries carried to another machine
// (scripts/gpu/bundle.sh) find the checkout there.
std::string source_path(const std::string& relative) {
  const char* moved = std::getenv("LADDERBENCH_SOURCE_DIR");
  return std::string(moved && *moved ? moved : LADDERBENCH_SOURCE_DIR) + "/" + relative;
}

std::vector<double> random_values(size_t n, uint64_t seed) {
  std::vector<double> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = 2.0 * unit_uniform(splitmix64(seed * 1000003 + i)) - 1.0;
  return v;
}

Mat to_device(const std::vector<double>& v, int64_t rows, int64_t cols) {
  Mat m("test", rows, cols);
  auto h = Kokkos::create_mirror_view(m);
  for (size_t i = 0; i < v.size(); ++i) h.data()[i] = real(v[i]);
  Kokkos::deep_copy(m, h);
  return m;
}

std::vector<double> to_host(const Mat& m) {
  auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), m);
  return std::vector<double>(h.data(), h.data() + h.size());
}

std::vector<int32_t> seeded_prompt(int64_t batch, int64_t len, int64_t vocab, uint64_t seed) {
  std::vector<int32_t> p(size_t(batch * len));
  for (size_t i = 0; i < p.size(); ++i) p[i] = int32_t(splitmix64(seed * 7919 + i) % uint64_t(vocab));
  return p;
}

GenerationResult generate(const ModelConfig& cfg, const WeightSource& src, Comm& comm, int rank, int size,
                          Variant v, int64_t batch, const std::vector<int32_t>& prompt, int64_t gen_len,
                          GenerateOptions options) {
  const Shard shard = Shard::of(cfg, rank, size);
  Transformer model(cfg, shard, load_weights(cfg, shard, src, options.weights), comm);
  Generator gen(model, batch, int64_t(prompt.size()) / batch, gen_len, options.cuda_graph);
  gen.run(prompt, Schedule(v, cfg, size), true);
  Kokkos::fence();
  return {gen.prefill_logits(), gen.tokens(), to_host(model.logits())};
}

}  // namespace lb::testing
