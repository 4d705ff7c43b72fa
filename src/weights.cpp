#include "weights.hpp"

#include <string>

namespace lb {
namespace {

// Copies row blocks of one or more source tensors, stacked in order, into one device matrix.
struct RowPiece {
  std::string name;
  std::vector<int64_t> shape;
  int64_t row0, rows;
};

Mat load_stacked_rows(const WeightSource& src, const std::string& label, const std::vector<RowPiece>& pieces) {
  int64_t rows = 0;
  for (const auto& p : pieces) rows += p.rows;
  const int64_t cols = pieces.front().shape.at(1);
  Mat m(Kokkos::view_alloc(label, Kokkos::WithoutInitializing), rows, cols);
  auto h = Kokkos::create_mirror_view(m);
  int64_t at = 0;
  for (const auto& p : pieces) {
    Block b{p.shape, p.row0, p.rows, 0, cols};
    src.read(p.name, b, h.data() + at * cols);
    at += p.rows;
  }
  Kokkos::deep_copy(m, h);
  return m;
}

// Columns [col0, col0 + cols) of a [rows, *] tensor (row-parallel shards).
Mat load_columns(const WeightSource& src, const std::string& name, const std::vector<int64_t>& shape,
                 int64_t col0, int64_t cols) {
  Mat m(Kokkos::view_alloc(name, Kokkos::WithoutInitializing), shape[0], cols);
  auto h = Kokkos::create_mirror_view(m);
  src.read(name, Block{shape, 0, shape[0], col0, cols}, h.data());
  Kokkos::deep_copy(m, h);
  return m;
}

Vec load_vector(const WeightSource& src, const std::string& name, int64_t n) {
  Vec v(Kokkos::view_alloc(name, Kokkos::WithoutInitializing), n);
  auto h = Kokkos::create_mirror_view(v);
  src.read(name, Block{{n}, 0, 1, 0, n}, h.data());
  Kokkos::deep_copy(v, h);
  return v;
}

}  // namespace

ModelWeights load_weights(const ModelConfig& c, const Shard& s, const WeightSource& src) {
  const int64_t d = c.hidden_size, dh = c.head_dim(), F = c.intermediate_size, V = c.vocab_size;
  ModelWeights w;
  w.embed = load_stacked_rows(src, "embed", {{"model.embed_tokens.weight", {V, d}, 0, V}});
  w.lm_head = load_stacked_rows(src, "lm_head", {{"lm_head.weight", {V, d}, 0, V}});
  w.final_norm = load_vector(src, "model.norm.weight", d);
  for (int64_t l = 0; l < c.num_layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    LayerWeights lw;
    lw.attn_norm = load_vector(src, p + "input_layernorm.weight", d);
    lw.mlp_norm = load_vector(src, p + "post_attention_layernorm.weight", d);
    lw.wqkv = load_stacked_rows(src, p + "wqkv",
                                {{p + "self_attn.q_proj.weight", {c.num_heads * dh, d}, s.head0 * dh, s.heads * dh},
                                 {p + "self_attn.k_proj.weight", {c.num_kv_heads * dh, d}, s.kv0 * dh, s.kv_heads * dh},
                                 {p + "self_attn.v_proj.weight", {c.num_kv_heads * dh, d}, s.kv0 * dh, s.kv_heads * dh}});
    lw.wo = load_columns(src, p + "self_attn.o_proj.weight", {d, c.num_heads * dh}, s.head0 * dh, s.heads * dh);
    lw.w13 = load_stacked_rows(src, p + "w13",
                               {{p + "mlp.gate_proj.weight", {F, d}, s.ff0, s.ff},
                                {p + "mlp.up_proj.weight", {F, d}, s.ff0, s.ff}});
    lw.w2 = load_columns(src, p + "mlp.down_proj.weight", {d, F}, s.ff0, s.ff);
    w.layers.push_back(lw);
  }
  return w;
}

}  // namespace lb
