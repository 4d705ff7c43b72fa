#include "model/weights.hpp"

#include "kernels/gemm.hpp"

#include <string>

namespace lb {
namespace {

// Copies row blocks of one or more source tensors, stacked in order, into one device matrix.
struct RowPiece {
  std::string name;
  std::vector<int64_t> shape;
  int64_t row0, rows;
};

HostMat read_stacked_rows(const WeightSource& src, const std::string& label, const std::vector<RowPiece>& pieces) {
  int64_t rows = 0;
  for (const auto& p : pieces) rows += p.rows;
  const int64_t cols = pieces.front().shape.at(1);
  HostMat h(Kokkos::view_alloc(label, Kokkos::WithoutInitializing), rows, cols);
  int64_t at = 0;
  for (const auto& p : pieces) {
    Block b{p.shape, p.row0, p.rows, 0, cols};
    src.read(p.name, b, h.data() + at * cols);
    at += p.rows;
  }
  return h;
}

// The embedding table stays fp32 (a gather of B rows per step, not a GEMM).
Mat load_table(const WeightSource& src, const std::string& label, const std::vector<RowPiece>& pieces) {
  const HostMat h = read_stacked_rows(src, label, pieces);
  Mat m(Kokkos::view_alloc(label, Kokkos::WithoutInitializing), h.extent(0), h.extent(1));
  Kokkos::deep_copy(m, h);
  return m;
}

// Columns [col0, col0 + cols) of a [rows, *] tensor (row-parallel shards).
HostMat read_columns(const WeightSource& src, const std::string& name, const std::vector<int64_t>& shape,
                     int64_t col0, int64_t cols) {
  HostMat h(Kokkos::view_alloc(name, Kokkos::WithoutInitializing), shape[0], cols);
  src.read(name, Block{shape, 0, shape[0], col0, cols}, h.data());
  return h;
}

Vec load_vector(const WeightSource& src, const std::string& name, int64_t n) {
  Vec v(Kokkos::view_alloc(name, Kokkos::WithoutInitializing), n);
  auto h = Kokkos::create_mirror_view(v);
  src.read(name, Block{{n}, 0, 1, 0, n}, h.data());
  Kokkos::deep_copy(v, h);
  return v;
}

// Elements [i0, i0 + n) of 1-D tensors (biases), stacked in order into one vector.
struct VecPiece {
  std::string name;
  int64_t size, i0, n;
};
Vec load_stacked_vector(const WeightSource& src, const std::string& label, const std::vector<VecPiece>& pieces) {
  int64_t n = 0;
  for (const auto& p : pieces) n += p.n;
  Vec v(Kokkos::view_alloc(label, Kokkos::WithoutInitializing), n);
  auto h = Kokkos::create_mirror_view(v);
  int64_t at = 0;
  for (const auto& p : pieces) {
    src.read(p.name, Block{{p.size}, 0, 1, p.i0, p.n}, h.data() + at);
    at += p.n;
  }
  Kokkos::deep_copy(v, h);
  return v;
}

}  // namespace

ModelWeights load_weights(const ModelConfig& c, const Shard& s, const WeightSource& src, DType type) {
  const int64_t d = c.hidden_size, dh = c.head_dim(), F = c.intermediate_size, V = c.vocab_size;
  ModelWeights w;
  const auto stacked = [&](const std::string& label, const std::vector<RowPiece>& pieces) {
    return make_weight(label, read_stacked_rows(src, label, pieces), type);
  };
  const auto columns = [&](const std::string& name, const std::vector<int64_t>& shape, int64_t col0, int64_t cols) {
    return make_weight(name, read_columns(src, name, shape, col0, cols), type);
  };
  w.embed = load_table(src, "embed", {{"model.embed_tokens.weight", {V, d}, 0, V}});
  const std::string head = c.tie_word_embeddings ? "model.embed_tokens.weight" : "lm_head.weight";
  w.lm_head = stacked("lm_head", {{head, {V, d}, 0, V}});
  w.final_norm = load_vector(src, "model.norm.weight", d);
  for (int64_t l = 0; l < c.num_layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    LayerWeights lw;
    lw.attn_norm = load_vector(src, p + "input_layernorm.weight", d);
    lw.mlp_norm = load_vector(src, p + "post_attention_layernorm.weight", d);
    // One fused input projection [q | k | v | gate | up] (this rank's rows of each): the parallel
    // block multiplies its shared normed input by all of it at once; attention and MLP of the
    // other variants use its two row blocks.
    const int64_t qkv_rows = (s.heads + 2 * s.kv_heads) * dh;
    lw.w_in = stacked(p + "w_in", {{p + "self_attn.q_proj.weight", {c.num_heads * dh, d}, s.head0 * dh, s.heads * dh},
                                   {p + "self_attn.k_proj.weight", {c.num_kv_heads * dh, d}, s.kv0 * dh, s.kv_heads * dh},
                                   {p + "self_attn.v_proj.weight", {c.num_kv_heads * dh, d}, s.kv0 * dh, s.kv_heads * dh},
                                   {p + "mlp.gate_proj.weight", {F, d}, s.ff0, s.ff},
                                   {p + "mlp.up_proj.weight", {F, d}, s.ff0, s.ff}});
    lw.wqkv = weight_rows(lw.w_in, 0, qkv_rows);
    lw.w13 = weight_rows(lw.w_in, qkv_rows, lw.w_in.rows());
    lw.wo = columns(p + "self_attn.o_proj.weight", {d, c.num_heads * dh}, s.head0 * dh, s.heads * dh);
    lw.w2 = columns(p + "mlp.down_proj.weight", {d, F}, s.ff0, s.ff);
    if (c.qkv_bias)
      lw.bqkv = load_stacked_vector(src, p + "bqkv", {{p + "self_attn.q_proj.bias", c.num_heads * dh, s.head0 * dh, s.heads * dh},
                                                       {p + "self_attn.k_proj.bias", c.num_kv_heads * dh, s.kv0 * dh, s.kv_heads * dh},
                                                       {p + "self_attn.v_proj.bias", c.num_kv_heads * dh, s.kv0 * dh, s.kv_heads * dh}});
    if (c.mlp_bias)
      lw.b13 = load_stacked_vector(src, p + "b13", {{p + "mlp.gate_proj.bias", F, s.ff0, s.ff}, {p + "mlp.up_proj.bias", F, s.ff0, s.ff}});
    if (c.o_bias && s.rank == 0) lw.bo = load_vector(src, p + "self_attn.o_proj.bias", d);
    if (c.mlp_bias && s.rank == 0) lw.b2 = load_vector(src, p + "mlp.down_proj.bias", d);
    w.layers.push_back(lw);
  }
  return w;
}

}  // namespace lb
