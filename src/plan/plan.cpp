#include "plan/plan.hpp"

#include "core/errors.hpp"
#include "core/dtype.hpp"
#include "model/schedule.hpp"
#include "model/shard.hpp"

#include <cstdio>

namespace lb {
namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

}  // namespace

Plan make_plan(const ModelConfig& c, const PlanInput& in, const std::vector<Variant>& variants) {
  Plan p;
  p.in = in;
  const int64_t d = c.hidden_size, dh = c.head_dim(), L = c.num_layers, V = c.vocab_size, P = in.tp;
  const Shard shard = Shard::of(c, 0, int(P));  // every rank holds as many heads and columns
  const int64_t Hl = shard.heads, Kl = shard.kv_heads, Fl = shard.ff;
  const int64_t B = in.batch, S = in.prompt_len, G = in.gen_len;
  const double b = double(in.dtype_bytes), cb = double(in.cache_dtype_bytes);

  // Matrix parameters of one layer on one rank: fused QKV, o_proj columns, gate/up rows, down columns.
  const int64_t layer_matrix = (Hl + 2 * Kl) * dh * d + d * Hl * dh + 2 * Fl * d + d * Fl;
  const int64_t replicated = 2 * V * d + d + 2 * d * L;  // embedding, LM head, final norm, layer norms
  p.params_per_rank = L * layer_matrix + replicated;
  p.params_total = L * (int64_t(c.num_heads + 2 * c.num_kv_heads) * dh * d + d * c.num_heads * dh +
                        3 * c.intermediate_size * d + 2 * d) +
                   2 * V * d + d;
  p.weight_bytes = double(p.params_per_rank) * b;
  const int64_t max_seq = S + G;
  // In double from here on: a batch of 1e5 or more must give a size that is refused, not one that
  // overflowed int64.
  p.kv_cache_bytes = 2.0 * double(L * Kl * dh) * double(B) * double(max_seq) * cb;
  // Prefill buffers live at once (Transformer::Workspace) plus the logits, fp32 on CPU.
  const double T = double(B) * double(S);
  p.activation_bytes = (T * (4.0 * d + (Hl + 2 * Kl) * dh + Hl * dh + 3.0 * Fl) + double(B) * V) * cb;
  p.total_bytes = p.weight_bytes + p.kv_cache_bytes + p.activation_bytes;
  p.fits = p.total_bytes <= in.device_mem_gib * kGiB;

  // FLOPs: 2 per multiply-add of every matrix each token meets (the LM head only at the last
  // position), plus attention's QK^T and AV (2 * 2 * heads * head_dim per key). Bytes: every
  // weight but the embedding table (B rows of it), and the KV cache read up to the context.
  const double ctx = double(S) + double(G) / 2;
  const double matrix_flops_per_token = 2.0 * double(L * layer_matrix);
  const double lm_head_flops = 2.0 * double(d) * V;
  p.decode_flops = double(B) * (matrix_flops_per_token + lm_head_flops + 4.0 * double(L * Hl * dh) * ctx);
  const double streamed_weights = double(p.params_per_rank - V * d) * b + double(B * d) * cb;
  p.decode_bytes = streamed_weights + 2.0 * double(L * Kl * dh) * double(B) * ctx * cb;
  p.prefill_flops = double(B) * (double(S) * matrix_flops_per_token + lm_head_flops +
                                 4.0 * double(L * Hl * dh) * double(S) * double(S + 1) / 2);
  p.prefill_bytes = streamed_weights + 2.0 * double(L * Kl * dh) * double(B) * double(S) * cb;
  for (Variant v : variants) p.allreduces_per_token.push_back({v, Schedule(v, c, int(P)).allreduces_per_forward()});
  p.allreduce_elements = B * d;
  return p;
}

void print_plan(const ModelConfig& c, const Plan& p) {
  const auto& in = p.in;
  std::printf("# plan: model %s, tp %lld, batch %lld, prompt %lld, gen %lld, %lld-byte dtype, device %.0f GiB\n",
              c.name.c_str(), (long long)in.tp, (long long)in.batch, (long long)in.prompt_len, (long long)in.gen_len,
              (long long)in.dtype_bytes, in.device_mem_gib);
  std::printf("  parameters (model)          %16.3f B\n", double(p.params_total) * 1e-9);
  std::printf("  parameters per rank         %16.3f B\n", double(p.params_per_rank) * 1e-9);
  std::printf("  weights per rank            %16.3f GiB\n", p.weight_bytes / kGiB);
  std::printf("  KV cache per rank           %16.3f GiB\n", p.kv_cache_bytes / kGiB);
  std::printf("  prefill activations (est.)  %16.3f GiB\n", p.activation_bytes / kGiB);
  std::printf("  total per rank              %16.3f GiB  -> %s in %.0f GiB\n", p.total_bytes / kGiB,
              p.fits ? "fits" : "DOES NOT FIT", in.device_mem_gib);
  std::printf("  decode step: GFLOP / GB     %16.3f / %.3f per rank\n", p.decode_flops * 1e-9, p.decode_bytes * 1e-9);
  std::printf("  prefill:     GFLOP / GB     %16.3f / %.3f per rank\n", p.prefill_flops * 1e-9, p.prefill_bytes * 1e-9);
  for (const auto& [v, n] : p.allreduces_per_token)
    std::printf("  all-reduces per token %-13s %4lld of %lld elements (%lld bytes each)%s\n", to_string(v).c_str(),
                (long long)n, (long long)p.allreduce_elements, (long long)(p.allreduce_elements * in.cache_dtype_bytes),
                v == Variant::Desync ? (" (pattern " + to_string(c.desync_pattern) + ")").c_str() : "");
}

nlohmann::json plan_json(const ModelConfig& c, const Plan& p) {
  nlohmann::json ar = nlohmann::json::object();
  for (const auto& [v, n] : p.allreduces_per_token) ar[to_string(v)] = n;
  return {{"model", c.name},
          {"tp", p.in.tp},
          {"batch", p.in.batch},
          {"prompt_len", p.in.prompt_len},
          {"gen_len", p.in.gen_len},
          {"dtype_bytes", p.in.dtype_bytes},
          {"cache_dtype_bytes", p.in.cache_dtype_bytes},
          {"device_mem_gib", p.in.device_mem_gib},
          {"params_total", p.params_total},
          {"params_per_rank", p.params_per_rank},
          {"weight_bytes_per_rank", p.weight_bytes},
          {"kv_cache_bytes_per_rank", p.kv_cache_bytes},
          {"activation_bytes_per_rank", p.activation_bytes},
          {"total_bytes_per_rank", p.total_bytes},
          {"fits", p.fits},
          {"decode_flops_per_rank", p.decode_flops},
          {"decode_bytes_per_rank", p.decode_bytes},
          {"prefill_flops_per_rank", p.prefill_flops},
          {"prefill_bytes_per_rank", p.prefill_bytes},
          {"allreduces_per_token", ar},
          {"allreduce_elements", p.allreduce_elements}};
}

}  // namespace lb
