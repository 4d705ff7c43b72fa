"""Self-checks of the float64 reference (llama_ref.py) and the checkpoint writer (hf_checkpoint.py).

The reference is what the C++ app is judged against, so it is checked against a second,
deliberately naive implementation (token by token with a KV cache, loops over heads, RoPE pair by
pair, the ladder written as the spec's A_prev/M_prev schedule) and against hand-written forms of
the spec's variants, rather than against itself.
"""
import json
import math

import numpy as np
import pytest

import hf_checkpoint
import llama_ref

# GQA with 4 query heads per KV head, 3 layers so that hybrid-ladder has two interior choices.
SHAPE = dict(hidden=64, intermediate=96, layers=3, heads=8, kv_heads=2, vocab=96)
SEED = 7


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    return hf_checkpoint.write_checkpoint(tmp_path_factory.mktemp("f32"), **SHAPE, seed=SEED)


@pytest.fixture(scope="module")
def model(ckpt):
    return llama_ref.LlamaRef.from_checkpoint(ckpt)


@pytest.fixture(scope="module")
def tokens():
    return np.random.default_rng(3).integers(0, SHAPE["vocab"], size=(2, 9))


def rel(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


def naive_logits(w, seq, variant, theta=10000.0, eps=1e-5):
    """Logits at every position of one sequence, computed one token at a time from the float32
    weights of hf_checkpoint.random_weights (so the checkpoint reader is under test too)."""
    w = {k: v.astype(np.float64) for k, v in w.items()}
    d, H, K, L = SHAPE["hidden"], SHAPE["heads"], SHAPE["kv_heads"], SHAPE["layers"]
    dh = d // H
    keys = [[] for _ in range(L)]  # per layer, one [K, dh] array per position so far
    values = [[] for _ in range(L)]

    def norm(x, name):
        return x / math.sqrt(sum(v * v for v in x) / len(x) + eps) * w[name]

    def rope(x, t):  # rotate each pair (i, i + dh/2) by t * theta^(-2i/dh)
        y = x.copy()
        for i in range(dh // 2):
            c, s = math.cos(t * theta ** (-2 * i / dh)), math.sin(t * theta ** (-2 * i / dh))
            y[i], y[i + dh // 2] = x[i] * c - x[i + dh // 2] * s, x[i + dh // 2] * c + x[i] * s
        return y

    def attn(l, x, t):
        p = f"model.layers.{l}."
        h = norm(x, p + "input_layernorm.weight")
        q = (w[p + "self_attn.q_proj.weight"] @ h).reshape(H, dh)
        k = (w[p + "self_attn.k_proj.weight"] @ h).reshape(K, dh)
        keys[l].append(np.array([rope(k[g], t) for g in range(K)]))
        values[l].append((w[p + "self_attn.v_proj.weight"] @ h).reshape(K, dh))
        out = []
        for j in range(H):
            g = j // (H // K)  # the KV head serving query head j
            qj = rope(q[j], t)
            s = [qj @ kk[g] / math.sqrt(dh) for kk in keys[l]]
            e = [math.exp(x - max(s)) for x in s]
            out.append(sum(ei / sum(e) * vv[g] for ei, vv in zip(e, values[l])))
        return w[p + "self_attn.o_proj.weight"] @ np.concatenate(out)

    def mlp(l, x):
        p = f"model.layers.{l}."
        h = norm(x, p + "post_attention_layernorm.weight")
        gate, up = w[p + "mlp.gate_proj.weight"] @ h, w[p + "mlp.up_proj.weight"] @ h
        return w[p + "mlp.down_proj.weight"] @ (gate / (1 + np.exp(-gate)) * up)

    rows = []
    for t, tok in enumerate(seq):
        r = w["model.embed_tokens.weight"][tok]
        if variant == "standard":
            for l in range(L):
                r = r + attn(l, r, t)
                r = r + mlp(l, r)
            x = r
        else:  # ladder: the schedule of spec section 3, line by line (waits are no-ops at P=1)
            A_prev = M_prev = 0.0
            for l in range(L):
                r = r + A_prev
                A_cur = attn(l, r, t)
                r = r + M_prev
                M_cur = mlp(l, r)
                A_prev, M_prev = A_cur, M_cur
            x = r + A_prev + M_prev
        rows.append(w["lm_head.weight"] @ norm(x, "model.norm.weight"))
    return np.array(rows)


@pytest.mark.parametrize("variant", ["standard", "ladder"])
def test_matches_naive_per_token_implementation(model, tokens, variant):
    w = hf_checkpoint.random_weights(**SHAPE, seed=SEED)
    ours = model.logits(tokens, variant, last_only=False)
    for b, seq in enumerate(tokens):
        np.testing.assert_allclose(ours[b], naive_logits(w, seq, variant), rtol=0, atol=1e-12)


def test_upper_bound_is_standard_and_other_variants_differ(model, tokens):
    std = model.logits(tokens, "standard")
    np.testing.assert_array_equal(model.logits(tokens, "upper-bound"), std)
    for variant, n in [("ladder", 0), ("parallel", 0), ("hybrid-ladder", 1), ("hybrid-ladder", 2)]:
        assert rel(model.logits(tokens, variant, n), std) > 1e-2, (variant, n)


def test_hybrid_endpoints_are_standard_and_ladder(model, tokens):
    # hybrid-ladder is implemented in the per-layer form of spec 5, standard and ladder in the
    # module-recurrence form of spec 3, so these are two independent formulations agreeing
    np.testing.assert_allclose(model.logits(tokens, "hybrid-ladder", 0), model.logits(tokens, "standard"), atol=1e-13)
    np.testing.assert_allclose(model.logits(tokens, "hybrid-ladder", 3), model.logits(tokens, "ladder"), atol=1e-13)
    with pytest.raises(ValueError):
        model.logits(tokens, "hybrid-ladder", 4)


def test_hybrid_boundary_rule(model, tokens):
    """L=3 with the last 2 layers ladder, written out: the first ladder layer's attention reads
    the last standard layer's post-attention stream a0, its MLP that layer's output m0."""
    A, M = model.attn_module, model.mlp_module
    seq = tokens[0]
    e = model.w["model.embed_tokens.weight"][seq]
    a0 = e + A(0, e)
    m0 = a0 + M(0, a0)  # layer 0: standard
    a1 = m0 + A(1, a0)
    m1 = a1 + M(1, m0)  # layer 1: first ladder layer
    a2 = m1 + A(2, a1)
    m2 = a2 + M(2, m1)  # layer 2: ladder
    np.testing.assert_allclose(model.stream(seq, "hybrid-ladder", 2), m2, atol=1e-14)


def test_parallel_shares_input_layernorm(ckpt, tokens):
    """Parallel has one norm per layer (input_layernorm): changing post_attention_layernorm
    must change standard but not parallel."""
    base = llama_ref.LlamaRef.from_checkpoint(ckpt)
    changed = llama_ref.LlamaRef.from_checkpoint(ckpt)
    for l in range(SHAPE["layers"]):
        changed.w[f"model.layers.{l}.post_attention_layernorm.weight"] *= 1.5
    np.testing.assert_array_equal(changed.logits(tokens, "parallel"), base.logits(tokens, "parallel"))
    assert rel(changed.logits(tokens, "standard"), base.logits(tokens, "standard")) > 1e-3


def round_to_format(x, bits, emin):
    """x rounded to a float format with `bits` significant bits whose normal numbers have frexp
    exponent >= emin (below it the spacing stays 2^(emin - bits): subnormals), ties to even
    (np.round), in float64 arithmetic: independent of the writer's bit manipulation."""
    quantum = np.ldexp(1.0, np.maximum(np.frexp(x)[1], emin) - bits)  # x = m * 2^e, 0.5 <= |m| < 1
    return np.round(x / quantum) * quantum


def test_bf16_bits_round_to_nearest_even():
    ulp = 2.0**-7  # bfloat16 spacing in [1, 2)
    x = np.array([1 + ulp / 2, 1 + 3 * ulp / 2, 1 + ulp / 2 + 2**-20, -(1 + 3 * ulp / 2)], np.float32)
    got = (hf_checkpoint.bf16_bits(x).astype(np.uint32) << 16).view(np.float32)
    np.testing.assert_array_equal(got, [1.0, 1 + 2 * ulp, 1 + ulp, -(1 + 2 * ulp)])


@pytest.mark.parametrize("dtype,bits,emin", [("bf16", 8, -125), ("f16", 11, -13)])
def test_low_precision_checkpoint_loads_rounded_f32_values(ckpt, tmp_path, dtype, bits, emin):
    f32 = llama_ref.load_weights(ckpt)
    low = llama_ref.load_weights(hf_checkpoint.write_checkpoint(tmp_path, **SHAPE, seed=SEED, dtype=dtype))
    assert json.loads((tmp_path / "config.json").read_text())["torch_dtype"] == {"bf16": "bfloat16", "f16": "float16"}[dtype]
    assert low.keys() == f32.keys()
    for name in f32:
        np.testing.assert_array_equal(low[name], round_to_format(f32[name], bits, emin), err_msg=name)
    assert not np.array_equal(low["lm_head.weight"], f32["lm_head.weight"])  # rounding did happen


def test_sharded_checkpoint_equals_single_file(ckpt, tmp_path, tokens):
    hf_checkpoint.main([str(tmp_path), "--hidden", "64", "--intermediate", "96", "--layers", "3", "--heads", "8",
                        "--kv-heads", "2", "--vocab", "96", "--shards", "4", "--seed", str(SEED)])
    assert not (tmp_path / "model.safetensors").exists()
    index = json.loads((tmp_path / "model.safetensors.index.json").read_text())
    files = sorted(set(index["weight_map"].values()))
    assert files == [f"model-0000{i}-of-00004.safetensors" for i in range(1, 5)]
    data_bytes = 0
    for f in files:
        blob = (tmp_path / f).read_bytes()
        n = int.from_bytes(blob[:8], "little")
        assert n % 8 == 0
        data_bytes += len(blob) - 8 - n
    assert index["metadata"]["total_size"] == data_bytes
    single, sharded = llama_ref.load_weights(ckpt), llama_ref.load_weights(tmp_path)
    assert set(index["weight_map"]) == single.keys() == sharded.keys()
    for name in single:
        np.testing.assert_array_equal(sharded[name], single[name])
    np.testing.assert_array_equal(llama_ref.LlamaRef.from_checkpoint(tmp_path).logits(tokens, "ladder"),
                                  llama_ref.LlamaRef.from_checkpoint(ckpt).logits(tokens, "ladder"))


def test_llama3_rope_scaling_matches_hand_formula(tmp_path):
    """Llama-3.1's rope_scaling (factor 8, low 1, high 4, original 8192) at theta 5e5, d_h = 128,
    computed per frequency with the three branches of HF's _compute_llama3_parameters spelled out."""
    hf_checkpoint.main([str(tmp_path), "--hidden", "256", "--intermediate", "64", "--layers", "1", "--heads", "2",
                        "--kv-heads", "1", "--vocab", "8", "--rope-theta", "500000",
                        "--rope-scaling-llama3", "8,1,4,8192"])
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["rope_scaling"] == {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                      "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}
    got = llama_ref.LlamaRef.from_checkpoint(tmp_path).inv_freq
    regimes = set()
    for i in range(64):
        f = 500000.0 ** (-2 * i / 128)
        wavelen = 2 * math.pi / f
        if wavelen < 8192 / 4:  # high frequency: unchanged
            want, regime = f, "high"
        elif wavelen > 8192 / 1:  # low frequency: slowed by the factor
            want, regime = f / 8, "low"
        else:  # in between: interpolate on 8192 / wavelen from low_freq_factor to high_freq_factor
            s = (8192 / wavelen - 1) / (4 - 1)
            want, regime = (1 - s) * f / 8 + s * f, "medium"
        regimes.add(regime)
        assert got[i] == pytest.approx(want, rel=1e-13), i
    assert regimes == {"high", "medium", "low"}
    assert got[0] == 1.0 and got[63] == pytest.approx(500000.0 ** (-126 / 128) / 8, rel=1e-13)
    # without rope_scaling the plain HF frequencies come back
    del config["rope_scaling"]
    np.testing.assert_allclose(llama_ref.rope_inv_freq(config), 500000.0 ** (-np.arange(0, 128, 2) / 128), rtol=1e-15)


@pytest.mark.parametrize("variant,n", [("standard", 0), ("hybrid-ladder", 1)])
def test_greedy_generation_is_argmax_of_teacher_forced_logits(model, tokens, variant, n):
    gen = model.generate(tokens, 4, variant, n)
    assert gen.shape == (2, 4)
    full = model.logits(np.concatenate([tokens, gen[:, :-1]], axis=1), variant, n, last_only=False)
    np.testing.assert_array_equal(full[:, tokens.shape[1] - 1:].argmax(axis=-1), gen)
