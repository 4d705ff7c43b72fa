"""The compute of one module (attention, MLP, parallel block, embedding and LM head) on one rank,
kernel by kernel, from its bytes and FLOPs against the machine or the machine's measured times."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .machine import Machine
from .workload import Workload


@dataclass
class Costs:
    """Seconds per module (arrays over decode steps, or one element for the prefill)."""

    attention: np.ndarray
    mlp: np.ndarray
    parallel: np.ndarray
    add: np.ndarray        # settling one module: add_into the stream
    head: np.ndarray       # embedding before the layers
    tail: np.ndarray       # gather_last, final norm, LM head, argmax after them


def module_costs(w: Workload, mc: Machine, tokens: int, ctx: np.ndarray, prefill: bool) -> Costs:
    """Kernel by kernel as Transformer runs them on one rank; `tokens` rows (B or B*S), `ctx`
    keys attended per query in the decode step (prefill: the causal S(S+1)/2 pairs)."""
    s, B = w.shape, w.batch
    d, dh, V = s.hidden, s.head_dim, s.vocab
    a, wb = w.act_bytes, w.weight_bytes
    T = tokens
    Hl, Kl, Fl, qkv = w.heads, w.kv_heads, w.ffn, w.qkv_width

    def gemm(m, n, k, decode=not prefill):
        return mc.gemm_s(m, n, k, decode, wb, a)

    def measured(name, formula):
        """A kernel's time per call measured in the cell's replayed forward, else `formula`."""
        m = mc.measured_kernel(name, not prefill, T)
        return formula if m is None else m[0]

    norm = measured("rms_norm", mc.kernel_s(2.0 * T * d * a + d * 4))
    rope = measured("apply_rope", 2 * mc.kernel_s(2.0 * T * (Hl + Kl) * dh * a))  # measured: queries and keys
    append = measured("append_kv", mc.kernel_s(4.0 * T * Kl * dh * a))

    def attention_formula(keys):
        if prefill:
            S = w.prompt_len
            pairs = B * S * (S + 1) / 2.0
            flops, nbytes = 4.0 * Hl * dh * pairs, 2.0 * B * S * Kl * dh * a + 2.0 * T * Hl * dh * a
        else:
            flops, nbytes = 4.0 * B * Hl * dh * keys, 2.0 * B * Kl * keys * dh * a + 2.0 * T * Hl * dh * a
        # Split attention: the chunk kernel and the combine pass.
        return mc.kernel_s(nbytes, flops, mc.attention_flops or mc.flops) + mc.kernel_overhead_s

    keys = np.full_like(ctx, w.prompt_len + w.gen_len - 1, dtype=float) if w.kv_read == "full" else ctx
    attention_core = attention_formula(keys)
    at = mc.measured_kernel("causal_attention", not prefill, T)
    if at is not None:  # measured at one step's keys: the others by the formula's ratio (the prefill's is 1)
        measured_keys = w.prompt_len + w.gen_len - 1 if w.kv_read == "full" else at[1]
        attention_core = at[0] * attention_core / attention_formula(measured_keys)
    silu = measured("silu_mul", mc.kernel_s(3.0 * T * Fl * a))
    add = measured("add_into", mc.kernel_s(3.0 * T * d * a))

    attention = norm + gemm(T, qkv, d) + rope + append + attention_core + gemm(T, d, Hl * dh)
    mlp = norm + gemm(T, 2 * Fl, d) + silu + gemm(T, d, Fl)
    parallel = (norm + gemm(T, qkv + 2 * Fl, d) + rope + append + attention_core + silu
                + gemm(T, d, Hl * dh) + gemm(T, d, Fl) + add)
    head = measured("embed_tokens", mc.kernel_s(2.0 * T * d * a))
    # The LM head sees the last position of each sequence: B rows, a decode-shaped GEMM.
    tail = (measured("gather_last", mc.kernel_s(2.0 * B * d * a)) + measured("rms_norm", mc.kernel_s(2.0 * B * d * a + d * 4))
            + gemm(B, V, d, decode=True) + mc.kernel_s(1.0 * B * V * a))
    ones = np.ones_like(ctx, dtype=float)
    return Costs(*(np.asarray(x, float) * ones for x in (attention, mlp, parallel, add, head, tail)))
