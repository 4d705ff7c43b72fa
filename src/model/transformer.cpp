#include "model/transformer.hpp"

#include "kernels/bias.hpp"
#include "kernels/gemm.hpp"

#include <stdexcept>
#include <utility>

namespace lb {
Transformer::Transformer(const ModelConfig& cfg, const Shard& shard, ModelWeights weights, Comm& comm)
    : cfg_(cfg), shard_(shard), w_(std::move(weights)), comm_(comm), pos_("position") {}

void Transformer::set_position(int64_t pos0, int64_t S) {
  if (k_cache_.empty() || pos0 < 0 || pos0 + S > int64_t(k_cache_[0].extent(2)))
    throw std::logic_error("Transformer::set_position: call reserve() for this length first");
  lb::set_position(pos_, pos0);
}

void Transformer::reserve(int64_t batch, int64_t prompt_len, int64_t max_seq) {
  const int64_t dh = cfg_.head_dim();
  rope_ = make_rope_tables(cfg_, max_seq);
  k_cache_.clear();
  v_cache_.clear();
  for (int64_t l = 0; l < cfg_.num_layers; ++l) {
    k_cache_.emplace_back(Kokkos::view_alloc("k_cache", Kokkos::WithoutInitializing), batch, shard_.kv_heads, max_seq, dh);
    v_cache_.emplace_back(Kokkos::view_alloc("v_cache", Kokkos::WithoutInitializing), batch, shard_.kv_heads, max_seq, dh);
  }
  workspaces_.clear();
  every_logits_ = Mat();  // forward_every_position's, freed before a generation's buffers
  workspace(batch * prompt_len);
  workspace(batch);
  last_ = Mat("last_hidden", batch, cfg_.hidden_size);
  last_normed_ = Mat("last_normed", batch, cfg_.hidden_size);
  logits_ = Mat("logits", batch, cfg_.vocab_size);
}

Transformer::Workspace& Transformer::workspace(int64_t T) {
  auto it = workspaces_.find(T);
  if (it != workspaces_.end()) return it->second;
  const int64_t d = cfg_.hidden_size, dh = cfg_.head_dim();
  Workspace ws;
  ws.x = Mat("x", T, d);
  ws.normed = Mat("normed", T, d);
  ws.in_proj = Mat("in_proj", T, qkv_width() + 2 * shard_.ff);
  ws.attn = Mat("attn", T, shard_.heads * dh);
  ws.act = Mat("act", T, shard_.ff);
  ws.module_out[kAttention] = Mat("attn_out", T, d);
  ws.module_out[kMlp] = Mat("mlp_out", T, d);
  const int64_t max_seq = k_cache_.front().extent(2);
  const int64_t rows = T * shard_.heads;
  ws.attn_partials = AttentionPartials("attn_partials", rows, attention_chunks(rows, max_seq, ExecSpace().concurrency()), dh + 2);
  return workspaces_.emplace(T, std::move(ws)).first->second;
}

// Spec steps 3-4 after the column-parallel QKV projection (columns [0, qkv_width) of in_proj):
// RoPE, KV append, causal attention, row-parallel o_proj. The result in module_out[kAttention] is
// this rank's partial sum.
void Transformer::attention_from_projection(int64_t l, Workspace& ws, int64_t S) {
  const int64_t dh = cfg_.head_dim();
  const int64_t k_col0 = shard_.heads * dh, v_col0 = k_col0 + shard_.kv_heads * dh;
  const LayerWeights& lw = w_.layers[l];
  if (lw.bqkv.extent(0)) kernel(Kernel::Bias, [&] { add_bias(ws.in_proj, 0, lw.bqkv); });  // before RoPE
  kernel(Kernel::Rope, [&] {  // queries and keys, timed as one
    apply_rope(ws.in_proj, 0, shard_.heads, dh, S, pos_, rope_.cos, rope_.sin);
    apply_rope(ws.in_proj, k_col0, shard_.kv_heads, dh, S, pos_, rope_.cos, rope_.sin);
  });
  kernel(Kernel::AppendKv, [&] { append_kv(ws.in_proj, k_col0, v_col0, S, pos_, k_cache_[l], v_cache_[l]); });
  kernel(Kernel::Attention, [&] {
    causal_attention(ws.in_proj, shard_.heads, S, pos_, k_cache_[l], v_cache_[l], ws.attn_partials, ws.attn);
  });
  kernel(Kernel::GemmO, [&] { gemm_xwt(ws.attn, lw.wo, ws.module_out[kAttention]); });
  // Rank 0 alone holds o_proj's bias (weights.hpp): its partial sum carries it into the
  // all-reduce once, so the module's output has it once in every variant's schedule.
  if (lw.bo.extent(0)) kernel(Kernel::Bias, [&] { add_bias(ws.module_out[kAttention], 0, lw.bo); });
}

// Spec step 8 after the column-parallel gate/up projection (the columns after QKV): SwiGLU,
// row-parallel down_proj.
void Transformer::mlp_from_projection(int64_t l, Workspace& ws) {
  const LayerWeights& lw = w_.layers[l];
  if (lw.b13.extent(0)) kernel(Kernel::Bias, [&] { add_bias(ws.in_proj, qkv_width(), lw.b13); });
  kernel(Kernel::SiluMul, [&] { silu_mul(ws.in_proj, qkv_width(), ws.act); });
  kernel(Kernel::GemmDown, [&] { gemm_xwt(ws.act, lw.w2, ws.module_out[kMlp]); });
  if (lw.b2.extent(0)) kernel(Kernel::Bias, [&] { add_bias(ws.module_out[kMlp], 0, lw.b2); });  // rank 0 only
}

// Spec steps 1-4 (attention) or 6-8 (MLP) on this rank: the module's norm, its column-parallel
// input projection (a row block of the fused w_in, into its columns of in_proj) and its body.
void Transformer::compute_module(int64_t l, Module m, Workspace& ws, int64_t S) {
  const LayerWeights& lw = w_.layers[l];
  kernel(Kernel::RmsNorm,
         [&] { rms_norm(ws.x, m == kAttention ? lw.attn_norm : lw.mlp_norm, real(cfg_.rms_norm_eps), ws.normed); });
  const int64_t q = qkv_width();
  if (m == kAttention) {
    kernel(Kernel::GemmQkv, [&] {
      gemm_xwt(ws.normed, lw.wqkv, Kokkos::subview(ws.in_proj, Kokkos::ALL, std::make_pair(int64_t(0), q)));
    });
    attention_from_projection(l, ws, S);
  } else {
    kernel(Kernel::GemmGateUp, [&] {
      gemm_xwt(ws.normed, lw.w13, Kokkos::subview(ws.in_proj, Kokkos::ALL, std::make_pair(q, int64_t(ws.in_proj.extent(1)))));
    });
    mlp_from_projection(l, ws);
  }
}

// The PaLM/GPT-J block: both branches from one shared norm and one input GEMM, their partial
// outputs summed locally into module_out[kAttention] (one all-reduce per layer).
void Transformer::compute_parallel_block(int64_t l, Workspace& ws, int64_t S) {
  const LayerWeights& lw = w_.layers[l];
  kernel(Kernel::RmsNorm, [&] { rms_norm(ws.x, lw.attn_norm, real(cfg_.rms_norm_eps), ws.normed); });
  kernel(Kernel::GemmFusedIn, [&] { gemm_xwt(ws.normed, lw.w_in, ws.in_proj); });
  attention_from_projection(l, ws, S);
  mlp_from_projection(l, ws);
  kernel(Kernel::AddInto, [&] { add_into(ws.module_out[kAttention], ws.module_out[kMlp]); });
}

Transformer::Workspace& Transformer::run_blocks(const Tokens& tokens, const Schedule& schedule) {
  const int64_t B = tokens.extent(0), S = tokens.extent(1);
  if (k_cache_.empty() || B != int64_t(k_cache_[0].extent(0)) || S > int64_t(k_cache_[0].extent(2)))
    throw std::logic_error("Transformer::forward: call reserve() for this batch and length first");
  if (schedule.tp() != comm_.size() || schedule.modules() != 2 * cfg_.num_layers)
    throw std::logic_error("Transformer::forward: the schedule was made for another model or TP degree");
  Workspace& ws = workspace(B * S);
  kernel(Kernel::Embed, [&] { embed_tokens(tokens, w_.embed, ws.x); });

  // At most one pending (computed, not yet added) output per module kind.
  struct Pending {
    bool active = false;
    bool reduced = false;  // an all-reduce was started for it
    Comm::Ticket ticket = 0;
    int64_t index = 0;
  } pending[2];
  // Desync's kept all-reduce reduces the stream itself, made partial + stream / P first: once it
  // completes the stream is settled (standard's order: nothing reads it in between).
  const bool desync = schedule.desync();
  const auto start = [&](Module m, int64_t i) {
    const bool reduce = schedule.reduces(i);
    Mat& buf = desync ? ws.x : ws.module_out[m];
    if (reduce && desync) kernel(Kernel::AddInto, [&] { scale_add_into(ws.x, real(1.0 / schedule.tp()), ws.module_out[m]); });
    pending[m] = {true, reduce, reduce ? comm_.start_allreduce(buf.data(), buf.size(), i) : 0, i};
  };
  const auto settle = [&](Module m) {
    if (pending[m].reduced) {
      if (observer_) observer_->wait_begin(pending[m].index);
      comm_.wait(pending[m].ticket);
      if (observer_) observer_->wait_end(pending[m].index);
    }
    if (!(desync && pending[m].reduced)) kernel(Kernel::AddInto, [&] { add_into(ws.x, ws.module_out[m]); });
    pending[m].active = false;
  };
  const auto settle_through = [&](int64_t index) {  // in module order: a fixed summation order
    const Module first = pending[kAttention].index <= pending[kMlp].index ? kAttention : kMlp;
    for (Module m : {first, Module(1 - first)})
      if (pending[m].active && pending[m].index <= index) settle(m);
  };
  const auto compute = [&](int64_t i, auto&& body) {
    if (observer_) observer_->compute_begin(i);
    body();
    if (observer_) observer_->compute_end(i);
  };

  for (int64_t l = 0; l < cfg_.num_layers; ++l) {
    if (schedule.parallel_block()) {
      compute(2 * l, [&] { compute_parallel_block(l, ws, S); });
      start(kAttention, 2 * l);
      settle(kAttention);
      continue;
    }
    for (Module m : {kAttention, kMlp}) {
      const int64_t i = 2 * l + m;
      settle_through(schedule.reads_through(i));
      compute(i, [&] { compute_module(l, m, ws, S); });
      start(m, i);
    }
  }
  settle_through(schedule.modules());
  return ws;
}

const Mat& Transformer::forward(const Tokens& tokens, const Schedule& schedule) {
  Workspace& ws = run_blocks(tokens, schedule);
  kernel(Kernel::GatherLast, [&] { gather_last(ws.x, tokens.extent(1), last_); });
  kernel(Kernel::RmsNorm, [&] { rms_norm(last_, w_.final_norm, real(cfg_.rms_norm_eps), last_normed_); });
  kernel(Kernel::GemmLmHead, [&] { gemm_xwt(last_normed_, w_.lm_head, logits_); });
  return logits_;
}

const Mat& Transformer::forward_every_position(const Tokens& tokens, const Schedule& schedule) {
  set_position(0, tokens.extent(1));
  Workspace& ws = run_blocks(tokens, schedule);
  const int64_t T = ws.x.extent(0);
  if (int64_t(every_logits_.extent(0)) != T) every_logits_ = Mat("every_logits", T, cfg_.vocab_size);
  // ws.normed is free once the blocks are done: the final norm of every position goes there.
  kernel(Kernel::RmsNorm, [&] { rms_norm(ws.x, w_.final_norm, real(cfg_.rms_norm_eps), ws.normed); });
  kernel(Kernel::GemmLmHead, [&] { gemm_xwt(ws.normed, w_.lm_head, every_logits_); });
  return every_logits_;
}

}  // namespace lb
