// A Llama decoder under tensor parallelism. forward() runs the blocks in the order a Schedule
// gives (spec sections 2-5); kernels, buffers and all-reduces are shared by all variants.
#pragma once

#include "comm/comm.hpp"
#include "kernels/kernels.hpp"
#include "model/model_config.hpp"
#include "model/rope.hpp"
#include "model/shard.hpp"
#include "core/types.hpp"
#include "model/module_observer.hpp"
#include "model/schedule.hpp"
#include "model/weights.hpp"

#include <map>
#include <vector>

namespace lb {

class Transformer {
 public:
  Transformer(const ModelConfig& cfg, const Shard& shard, ModelWeights weights, Comm& comm);

  // Sizes the KV cache for `batch` sequences of up to `max_seq` positions and the activation
  // buffers for prefills of `prompt_len` tokens and single-token decode steps. Call before forward.
  void reserve(int64_t batch, int64_t prompt_len, int64_t max_seq);

  // Runs tokens [batch, S] at positions pos0 .. pos0+S-1 (appending to the KV cache) and returns
  // the logits [batch, vocab] of each sequence's last position. Valid until the next call.
  const Mat& forward(const Tokens& tokens, int64_t pos0, const Schedule& schedule) {
    set_position(pos0, tokens.extent(1));
    return forward(tokens, schedule);
  }
  // The same in two parts: set_position enqueues "the next forward starts at pos0" (for S tokens)
  // on the device; forward(tokens, schedule) reads it there, so the launches it makes for one
  // token count are the same at every position (what a CUDA graph of a decode step captures).
  void set_position(int64_t pos0, int64_t S);
  const Mat& forward(const Tokens& tokens, const Schedule& schedule);
  const Mat& logits() const { return logits_; }
  // Teacher-forced scoring (--eval-tokens): the same blocks over tokens [batch, S] from position 0,
  // then the final norm and LM head on every position: logits [batch * S, vocab], row b * S + s
  // predicting the token after position s. Valid until the next call.
  const Mat& forward_every_position(const Tokens& tokens, const Schedule& schedule);

  // Tell `observer` about every module and kernel of the following forwards (nullptr: stop; the
  // default).
  void set_observer(ModuleObserver* observer) { observer_ = observer; }

  const ModelConfig& config() const { return cfg_; }
  const ModelWeights& weights() const { return w_; }
  Comm& comm() const { return comm_; }

 private:
  enum Module { kAttention = 0, kMlp = 1 };

  // Activation buffers for one token count T = batch * S.
  struct Workspace {
    Mat x;                      // [T, d] residual stream
    Mat normed;                 // [T, d]
    Mat in_proj;                // [T, (heads + 2 kv_heads) * head_dim + 2 ff]: [q | k | v | gate | up]
    Mat attn;                   // [T, heads * head_dim]
    Mat act;                    // [T, ff]
    Mat module_out[2];          // [T, d] partial (then reduced) output of attention / MLP
    AttentionPartials attn_partials;  // [T * heads, chunks, head_dim + 2] of split attention
  };
  Workspace& workspace(int64_t tokens);

  // The module bodies after their input projection (columns of ws.in_proj): write this rank's
  // partial sum into ws.module_out.
  void attention_from_projection(int64_t layer, Workspace& ws, int64_t S);
  void mlp_from_projection(int64_t layer, Workspace& ws);
  int64_t qkv_width() const { return (shard_.heads + 2 * shard_.kv_heads) * cfg_.head_dim(); }
  // One module's compute (norm, input projection, body) into ws.module_out; the parallel block's
  // whole layer for the parallel schedule.
  void compute_module(int64_t layer, Module m, Workspace& ws, int64_t S);
  // The embedding and every block of a forward as the schedule orders them; the stream is left in
  // the returned workspace's x.
  Workspace& run_blocks(const Tokens& tokens, const Schedule& schedule);
  void compute_parallel_block(int64_t layer, Workspace& ws, int64_t S);
  // Launches `k` (the body), between the observer's kernel hooks.
  template <class F>
  void kernel(Kernel k, F&& launch) {
    if (observer_) observer_->kernel_begin(k);
    launch();
    if (observer_) observer_->kernel_end(k);
  }

  ModelConfig cfg_;
  Shard shard_;
  ModelWeights w_;
  Comm& comm_;
  RopeTables rope_;
  std::vector<Cache> k_cache_, v_cache_;  // per layer [batch, kv_heads, max_seq, head_dim]
  Position pos_;                          // first position of the next forward, on the device
  std::map<int64_t, Workspace> workspaces_;
  Mat last_, last_normed_, logits_;
  Mat every_logits_;  // [T, vocab] of forward_every_position, allocated on its first call  // [batch, d], [batch, d], [batch, V]
  ModuleObserver* observer_ = nullptr;
};

}  // namespace lb
