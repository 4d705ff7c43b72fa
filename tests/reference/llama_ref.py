"""Float64 numpy reference of shared/spec/ladder-residual.md at TP=1, on a Hugging Face checkpoint.

Independent of the C++ code: the acceptance tests compare the app's logits against this. It
follows HF's LlamaForCausalLM conventions (RMSNorm, rotate-half RoPE with optional llama3
scaling from transformers 4's rope_theta/rope_scaling or transformers 5's rope_parameters, GQA via
repeat_kv, SwiGLU, the projections' biases where the checkpoint has them, the embedding as LM head
when tie_word_embeddings; Mistral and Qwen2 share these) and the spec's variants:
  standard       r_i = r_{i-1} + h_i(r_{i-1})                  (spec 2)
  ladder         r_i = r_{i-1} + h_i(r_{i-2})                  (spec 3)
  upper-bound    at P=1 identical to standard                  (spec 4)
  parallel       x = x + Attn(N(x)) + MLP(N(x)), N = input_layernorm   (spec 5)
  hybrid-ladder  ladder on the last N layers, per-layer form with the boundary rule (spec 5)
with h_1, h_2, ... = attn_0, mlp_0, attn_1, ... Readability over speed: one sequence at a time,
full causal prefill; decoding recomputes the whole prefix (causality makes that equal to a KV cache).
"""
import json
import math
import pathlib

import numpy as np

VARIANTS = ("standard", "ladder", "upper-bound", "parallel", "hybrid-ladder")


def read_safetensors(path):
    """{name: float64 array} from one safetensors file (F32, F16 or BF16)."""
    blob = pathlib.Path(path).read_bytes()
    n = int.from_bytes(blob[:8], "little")
    header = json.loads(blob[8:8 + n])
    data = blob[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        raw, dtype = data[begin:end], info["dtype"]
        if dtype == "F32":
            x = np.frombuffer(raw, "<f4")
        elif dtype == "F16":
            x = np.frombuffer(raw, "<f2")
        elif dtype == "BF16":  # bfloat16 is the top half of a float32
            x = (np.frombuffer(raw, "<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            raise ValueError(f"{path}: tensor {name} has unsupported dtype {dtype}")
        out[name] = x.astype(np.float64).reshape(info["shape"])
    return out


def load_weights(ckpt_dir):
    """All tensors of a checkpoint directory, single-file or sharded (index.json's weight_map)."""
    d = pathlib.Path(ckpt_dir)
    index = d / "model.safetensors.index.json"
    files = (sorted(set(json.loads(index.read_text())["weight_map"].values()))
             if index.exists() else ["model.safetensors"])
    weights = {}
    for f in files:
        weights.update(read_safetensors(d / f))
    return weights


def rope_settings(config):
    """(theta, scaling dict or None) from transformers 5's rope_parameters, else from
    transformers 4's rope_theta and rope_scaling."""
    params = config.get("rope_parameters")
    if params:
        return params["rope_theta"], params
    return config.get("rope_theta", 10000.0), config.get("rope_scaling")


def rope_inv_freq(config):
    """RoPE inverse frequencies as HF computes them (default, or `_compute_llama3_parameters`)."""
    head_dim = config.get("head_dim") or config["hidden_size"] // config["num_attention_heads"]
    theta, scaling = rope_settings(config)
    inv_freq = theta ** (-np.arange(0, head_dim, 2, dtype=np.float64) / head_dim)
    if not scaling:
        return inv_freq
    kind = scaling.get("rope_type", scaling.get("type"))
    if kind == "default":
        return inv_freq
    if kind != "llama3":
        raise NotImplementedError(f"rope_scaling type {kind!r} (only llama3 is implemented)")
    factor, low, high = scaling["factor"], scaling["low_freq_factor"], scaling["high_freq_factor"]
    old_context = scaling["original_max_position_embeddings"]
    low_freq_wavelen, high_freq_wavelen = old_context / low, old_context / high
    wavelen = 2 * math.pi / inv_freq
    # long wavelengths are slowed down by `factor`, short ones kept, the band between interpolated
    scaled = np.where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq)
    smooth = (old_context / wavelen - low) / (high - low)
    smoothed = (1 - smooth) * scaled / factor + smooth * scaled
    medium = (wavelen >= high_freq_wavelen) & (wavelen <= low_freq_wavelen)
    return np.where(medium, smoothed, scaled)


def rmsnorm(x, w, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w


def silu(x):
    return x / (1.0 + np.exp(-x))


class LlamaRef:
    """A Llama model in float64; every method works on one sequence of token ids [S]."""

    def __init__(self, config, weights):
        self.config, self.w = config, weights
        self.L = config["num_hidden_layers"]
        self.H = config["num_attention_heads"]
        self.K = config["num_key_value_heads"]
        self.dh = config.get("head_dim") or config["hidden_size"] // self.H
        self.eps = config["rms_norm_eps"]
        self.inv_freq = rope_inv_freq(config)

    @classmethod
    def from_checkpoint(cls, ckpt_dir):
        config = json.loads((pathlib.Path(ckpt_dir) / "config.json").read_text())
        return cls(config, load_weights(ckpt_dir))

    def _layer(self, l, name):
        return self.w[f"model.layers.{l}.{name}.weight"]

    def _linear(self, l, name, x):
        """x @ W.T (+ b where the checkpoint has the projection's bias)."""
        y = x @ self._layer(l, name).T
        bias = self.w.get(f"model.layers.{l}.{name}.bias")
        return y if bias is None else y + bias

    def lm_head(self):
        """lm_head.weight, or the embedding matrix when the config ties them."""
        if self.config.get("tie_word_embeddings", False):
            return self.w["model.embed_tokens.weight"]
        return self.w["lm_head.weight"]

    def _rope(self, x):
        """HF apply_rotary_pos_emb on x [S, heads, dh] at positions 0..S-1."""
        angles = np.arange(x.shape[0])[:, None] * self.inv_freq[None, :]
        emb = np.concatenate([angles, angles], axis=-1)[:, None, :]  # [S, 1, dh]
        half = self.dh // 2
        rotated = np.concatenate([-x[..., half:], x[..., :half]], axis=-1)  # HF rotate_half
        return x * np.cos(emb) + rotated * np.sin(emb)

    def attention(self, l, h):
        """Causal GQA self-attention of layer l on an already normalized input h [S, d]."""
        S = h.shape[0]
        q = self._linear(l, "self_attn.q_proj", h).reshape(S, self.H, self.dh)
        k = self._linear(l, "self_attn.k_proj", h).reshape(S, self.K, self.dh)
        v = self._linear(l, "self_attn.v_proj", h).reshape(S, self.K, self.dh)
        q, k = self._rope(q), self._rope(k)
        # HF repeat_kv: query head j uses KV head j // (H/K)
        k, v = np.repeat(k, self.H // self.K, axis=1), np.repeat(v, self.H // self.K, axis=1)
        q, k, v = (t.transpose(1, 0, 2) for t in (q, k, v))  # [heads, S, dh]
        scores = q @ k.transpose(0, 2, 1) / math.sqrt(self.dh)  # [heads, S query, S key]
        scores = np.where(np.tril(np.ones((S, S), dtype=bool)), scores, -np.inf)
        p = np.exp(scores - scores.max(axis=-1, keepdims=True))
        p /= p.sum(axis=-1, keepdims=True)
        out = (p @ v).transpose(1, 0, 2).reshape(S, self.H * self.dh)
        return self._linear(l, "self_attn.o_proj", out)

    def mlp(self, l, h):
        """SwiGLU of layer l on an already normalized input: down(silu(gate(h)) * up(h))."""
        gate = self._linear(l, "mlp.gate_proj", h)
        up = self._linear(l, "mlp.up_proj", h)
        return self._linear(l, "mlp.down_proj", silu(gate) * up)

    def attn_module(self, l, r):
        return self.attention(l, rmsnorm(r, self._layer(l, "input_layernorm"), self.eps))

    def mlp_module(self, l, r):
        return self.mlp(l, rmsnorm(r, self._layer(l, "post_attention_layernorm"), self.eps))

    def modules(self):
        """h_1, h_2, ... = attn_0, mlp_0, attn_1, mlp_1, ... as functions of the stream."""
        for l in range(self.L):
            yield lambda r, l=l: self.attn_module(l, r)
            yield lambda r, l=l: self.mlp_module(l, r)

    def stream(self, tokens, variant, ladder_layers=0):
        """Residual stream after the last layer (before the final norm), [S, d]."""
        r = self.w["model.embed_tokens.weight"][np.asarray(tokens)]
        if variant in ("standard", "upper-bound"):  # at P=1 upper-bound has no all-reduce to drop
            for h in self.modules():
                r = r + h(r)
        elif variant == "ladder":
            prev = r  # r_{-1} = r_0: attn_0 and mlp_0 both see the embedding
            for h in self.modules():
                r, prev = r + h(prev), r
        elif variant == "parallel":
            for l in range(self.L):
                n = rmsnorm(r, self._layer(l, "input_layernorm"), self.eps)
                r = r + self.attention(l, n) + self.mlp(l, n)
        elif variant == "hybrid-ladder":
            if not 0 <= ladder_layers <= self.L:
                raise ValueError(f"ladder_layers={ladder_layers} outside 0..{self.L}")
            x, prev_a = r, r  # x: previous layer's output m; prev_a: its post-attention stream a
            for l in range(self.L):
                if l < self.L - ladder_layers:  # standard layer
                    a = x + self.attn_module(l, x)
                    m = a + self.mlp_module(l, a)
                else:  # ladder layer; the first one reads the last standard layer's a
                    a = x + self.attn_module(l, prev_a)
                    m = a + self.mlp_module(l, x)
                x, prev_a = m, a
            r = x
        else:
            raise ValueError(f"unknown variant {variant!r}; expected one of {VARIANTS}")
        return r

    def logits(self, tokens, variant, ladder_layers=0, last_only=True):
        """Logits of a batch of prompts [B, S] (prefill from position 0): [B, V] at the last
        position, or [B, S, V] at every position."""
        out = []
        for seq in np.atleast_2d(tokens):
            r = self.stream(seq, variant, ladder_layers)
            if last_only:
                r = r[-1:]
            x = rmsnorm(r, self.w["model.norm.weight"], self.eps) @ self.lm_head().T
            out.append(x[0] if last_only else x)
        return np.stack(out)

    def generate(self, prompt, n, variant, ladder_layers=0):
        """Greedy decoding: n new tokens per sequence [B, n], the first from the prefill."""
        seqs = np.array(np.atleast_2d(prompt), dtype=np.int64)
        prompt_len = seqs.shape[1]
        for _ in range(n):
            nxt = self.logits(seqs, variant, ladder_layers).argmax(axis=-1)
            seqs = np.concatenate([seqs, nxt[:, None]], axis=1)
        return seqs[:, prompt_len:]
