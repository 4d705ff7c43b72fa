"""Writes a random Hugging Face Llama checkpoint (config.json + safetensors) for acceptance tests.

The C++ app must load real HF checkpoints, so the files here follow the HF layout exactly:
LlamaForCausalLM tensor names, one `model.safetensors` or shards `model-0000i-of-0000N.safetensors`
plus `model.safetensors.index.json`. Only numpy and json are used (no torch/safetensors packages),
so the format is written by hand: u64 little-endian header length, JSON header, raw data buffer.

Usage:
  python3 tests/reference/hf_checkpoint.py OUTDIR --hidden 64 --intermediate 128 --layers 2 \
      --heads 8 --kv-heads 4 --vocab 96 --dtype bf16 --shards 2 --seed 1 \
      [--rope-theta 10000] [--rope-scaling-llama3 8,1,4,8192]
"""
import argparse
import json
import pathlib

import numpy as np

# dtype name on the CLI -> (safetensors dtype, config.json torch_dtype)
DTYPES = {"f32": ("F32", "float32"), "bf16": ("BF16", "bfloat16"), "f16": ("F16", "float16")}


def random_weights(hidden, intermediate, layers, heads, kv_heads, vocab, seed):
    """Float32 weights by HF name, drawn in a fixed order so that a seed gives the same values
    whatever the dtype or sharding they are later written with (tests compare those)."""
    rng = np.random.default_rng(seed)
    head_dim = hidden // heads

    def matrix(rows, cols):  # N(0, 0.02), the paper's benchmark init
        return rng.normal(0.0, 0.02, (rows, cols)).astype(np.float32)

    def norm():  # 1 + N(0, 0.1): an all-ones norm would hide a swapped or skipped norm weight
        return (1.0 + rng.normal(0.0, 0.1, hidden)).astype(np.float32)

    w = {"model.embed_tokens.weight": matrix(vocab, hidden)}
    for l in range(layers):
        p = f"model.layers.{l}."
        w[p + "self_attn.q_proj.weight"] = matrix(heads * head_dim, hidden)
        w[p + "self_attn.k_proj.weight"] = matrix(kv_heads * head_dim, hidden)
        w[p + "self_attn.v_proj.weight"] = matrix(kv_heads * head_dim, hidden)
        w[p + "self_attn.o_proj.weight"] = matrix(hidden, heads * head_dim)
        w[p + "mlp.gate_proj.weight"] = matrix(intermediate, hidden)
        w[p + "mlp.up_proj.weight"] = matrix(intermediate, hidden)
        w[p + "mlp.down_proj.weight"] = matrix(hidden, intermediate)
        w[p + "input_layernorm.weight"] = norm()
        w[p + "post_attention_layernorm.weight"] = norm()
    w["model.norm.weight"] = norm()
    w["lm_head.weight"] = matrix(vocab, hidden)
    return w


def bf16_bits(x):
    """Float32 -> bfloat16 bit patterns, round to nearest, ties to even (as torch's .to(bfloat16)).
    Adding 0x7FFF plus the lowest kept bit before truncating rounds up exactly when the dropped
    16 bits exceed half, or equal half with an odd kept part. (No NaNs occur in random weights.)"""
    u = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)


def encode(x, st_dtype):
    """Little-endian bytes of a float32 array stored as safetensors dtype `st_dtype`."""
    if st_dtype == "F32":
        return x.astype("<f4").tobytes()
    if st_dtype == "F16":
        return x.astype("<f2").tobytes()  # numpy's float16 cast rounds to nearest even
    return bf16_bits(x).astype("<u2").tobytes()


def write_safetensors(path, tensors, st_dtype):
    """Writes {name: float32 array} as one safetensors file; returns the data buffer's size."""
    header, chunks, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name, x in tensors.items():
        raw = encode(x, st_dtype)
        header[name] = {"dtype": st_dtype, "shape": list(x.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)  # the safetensors library pads the header to 8-byte alignment
    with open(path, "wb") as f:
        f.write(len(text).to_bytes(8, "little"))
        f.write(text)
        f.writelines(chunks)
    return offset


def write_checkpoint(outdir, *, hidden, intermediate, layers, heads, kv_heads, vocab, dtype="f32",
                     shards=1, seed=0, rope_theta=10000.0, rope_scaling_llama3=None,
                     rms_norm_eps=1e-5, max_position=4096):
    """Writes config.json and the weights under `outdir`; returns `outdir` as a Path.
    `rope_scaling_llama3` is (factor, low_freq_factor, high_freq_factor, original_max_position)."""
    if hidden % heads or heads % kv_heads:
        raise ValueError("hidden must divide by heads and heads by kv_heads")
    st_dtype, torch_dtype = DTYPES[dtype]
    out = pathlib.Path(outdir)
    out.mkdir(parents=True, exist_ok=True)

    config = {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_act": "silu",
        "hidden_size": hidden,
        "intermediate_size": intermediate,
        "num_hidden_layers": layers,
        "num_attention_heads": heads,
        "num_key_value_heads": kv_heads,
        "vocab_size": vocab,
        "rms_norm_eps": rms_norm_eps,
        "rope_theta": rope_theta,
        "max_position_embeddings": max_position,
        "attention_bias": False,
        "mlp_bias": False,
        "tie_word_embeddings": False,
        "torch_dtype": torch_dtype,
    }
    if rope_scaling_llama3 is not None:
        factor, low, high, orig = rope_scaling_llama3
        config["rope_scaling"] = {"rope_type": "llama3", "factor": float(factor), "low_freq_factor": float(low),
                                  "high_freq_factor": float(high), "original_max_position_embeddings": int(orig)}
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n")

    weights = random_weights(hidden, intermediate, layers, heads, kv_heads, vocab, seed)
    if shards == 1:  # HF writes a single file without an index when the model fits one shard
        write_safetensors(out / "model.safetensors", weights, st_dtype)
        return out
    names = list(weights)
    if not 1 < shards <= len(names):
        raise ValueError(f"shards must be between 1 and {len(names)} (one tensor per shard at least)")
    weight_map, total = {}, 0
    for i, group in enumerate(np.array_split(np.arange(len(names)), shards)):
        file = f"model-{i + 1:05d}-of-{shards:05d}.safetensors"
        part = {names[j]: weights[names[j]] for j in group}
        total += write_safetensors(out / file, part, st_dtype)
        weight_map.update({name: file for name in part})
    index = {"metadata": {"total_size": total}, "weight_map": weight_map}
    (out / "model.safetensors.index.json").write_text(json.dumps(index, indent=2) + "\n")
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir")
    ap.add_argument("--hidden", type=int, required=True)
    ap.add_argument("--intermediate", type=int, required=True)
    ap.add_argument("--layers", type=int, required=True)
    ap.add_argument("--heads", type=int, required=True)
    ap.add_argument("--kv-heads", type=int, required=True)
    ap.add_argument("--vocab", type=int, required=True)
    ap.add_argument("--dtype", choices=sorted(DTYPES), default="f32")
    ap.add_argument("--shards", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--rope-theta", type=float, default=10000.0)
    ap.add_argument("--rope-scaling-llama3", metavar="FACTOR,LOW,HIGH,ORIG",
                    help="llama3 rope scaling, e.g. 8,1,4,8192 (Llama-3.1)")
    ap.add_argument("--max-position", type=int, default=4096, help="max_position_embeddings")
    a = ap.parse_args(argv)
    scaling = None
    if a.rope_scaling_llama3:
        parts = a.rope_scaling_llama3.split(",")
        if len(parts) != 4:
            ap.error("--rope-scaling-llama3 takes FACTOR,LOW,HIGH,ORIG")
        scaling = (float(parts[0]), float(parts[1]), float(parts[2]), int(parts[3]))
    try:
        out = write_checkpoint(a.outdir, hidden=a.hidden, intermediate=a.intermediate, layers=a.layers,
                               heads=a.heads, kv_heads=a.kv_heads, vocab=a.vocab, dtype=a.dtype,
                               shards=a.shards, seed=a.seed, rope_theta=a.rope_theta,
                               rope_scaling_llama3=scaling, max_position=a.max_position)
    except ValueError as e:
        ap.error(str(e))
    print(out)


if __name__ == "__main__":
    main()
