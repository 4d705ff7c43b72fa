"""Model names and sizes.

Result files carry a `model` attribute that is a short name or a config directory; the paper's
reference table uses short names such as `llama-3-70b`. `canonical_model` maps both onto one
spelling so that measured and published cells meet, and `parameter_count` orders models by size
for the speedup-vs-model-size figure.
"""
from __future__ import annotations

import json
import re

# Size-only and vendor spellings of the paper's models -> the reference table's names.
_ALIASES = {
    "8b": "llama-3-8b",
    "70b": "llama-3-70b",
    "405b": "llama-3.1-405b",
}

# Shapes of the models in the paper's tables: L, d, H, K, F, V. Used when a result file's
# model_config is missing or lacks a field, so the paper models' sizes stay known.
_SHAPES = {
    "1b": (40, 1536, 24, 24, 4096, 49152),
    "3b": (40, 2304, 32, 32, 9216, 49152),
    "llama-3-8b": (32, 4096, 32, 8, 14336, 128256),
    "34b": (48, 8192, 64, 8, 22016, 128256),
    "llama-3-70b": (80, 8192, 64, 8, 28672, 128256),
    "176b": (70, 14336, 112, 112, 50176, 250880),
    "llama-3.1-405b": (126, 16384, 128, 16, 53248, 128256),
}

# config.json keys (Hugging Face Llama naming) in the order of a _SHAPES tuple.
_CONFIG_KEYS = (
    "num_hidden_layers",
    "hidden_size",
    "num_attention_heads",
    "num_key_value_heads",
    "intermediate_size",
    "vocab_size",
)


def canonical_model(name: str) -> str:
    """`configs/Meta-Llama-3-70B/` -> `llama-3-70b`; names without an alias are only lower-cased."""
    key = str(name).strip().rstrip("/").split("/")[-1].lower().replace("_", "-")
    key = re.sub(r"^meta-", "", key)
    key = re.sub(r"^llama-?(\d(?:\.\d)?)-", r"llama-\1-", key)  # llama3-70b -> llama-3-70b
    return _ALIASES.get(key, key)


def _count(layers: int, d: int, heads: int, kv_heads: int, ffn: int, vocab: int) -> float:
    """Weights of a Llama block model with untied embedding and LM head, no biases."""
    head_dim = d // heads
    attention = d * d * 2 + 2 * d * kv_heads * head_dim  # Wq, Wo, Wk, Wv
    mlp = 3 * d * ffn
    norms = 2 * d
    return float(2 * vocab * d + layers * (attention + mlp + norms) + d)


def parameter_count(model: str, model_config: str | None = None) -> float | None:
    """Parameters from the file's config.json text, else from the paper's shape table, else None."""
    if model_config:
        try:
            config = json.loads(model_config)
            return _count(*(int(config[k]) for k in _CONFIG_KEYS))
        except (ValueError, TypeError, KeyError, ZeroDivisionError):
            pass  # an incomplete config is not an error here: size is only used for ordering
    shape = _SHAPES.get(canonical_model(model))
    return _count(*shape) if shape else None
