"""The workload the performance model predicts: a model's shape (layers, widths, heads) and one
cell of it (TP, batch, lengths, storage types, the emulated link), with the shard one rank holds
and the link's delay as the app adds it (src/comm/link_model.hpp)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .errors import AnalysisError
from .models import _SHAPES, canonical_model

CONFIGS_DIR = Path(__file__).resolve().parent.parent / "configs" / "models"
DTYPE_BYTES = {"fp32": 4, "bf16": 2, "fp16": 2}


@dataclass(frozen=True)
class Shape:
    """A Llama block model (spec section 1): L, d, H, K, F, V; `ladder_layers` for hybrid-ladder,
    `desync_pattern` for desync (default, 4x or infinite)."""

    name: str
    layers: int
    hidden: int
    heads: int
    kv_heads: int
    ffn: int
    vocab: int
    ladder_layers: int | None = None
    desync_pattern: str = "default"

    @property
    def head_dim(self) -> int:
        return self.hidden // self.heads

    @classmethod
    def from_config(cls, config: dict, name: str = "") -> "Shape":
        try:
            return cls(name=name or str(config.get("_name_or_path", "model")),
                       layers=int(config["num_hidden_layers"]), hidden=int(config["hidden_size"]),
                       heads=int(config["num_attention_heads"]),
                       kv_heads=int(config.get("num_key_value_heads", config["num_attention_heads"])),
                       ffn=int(config["intermediate_size"]), vocab=int(config["vocab_size"]),
                       ladder_layers=int(config["ladder_layers"]) if "ladder_layers" in config else None,
                       desync_pattern=str(config.get("desync_pattern", "default")))
        except (KeyError, TypeError, ValueError) as exc:
            raise AnalysisError(f"model {name or '?'}: config lacks or mangles {exc}") from None

    @classmethod
    def named(cls, model: str) -> "Shape":
        """A config.json path or folder, a name under configs/models/, or a paper model's name."""
        path = Path(model)
        for candidate in (path / "config.json" if path.is_dir() else path, CONFIGS_DIR / model / "config.json"):
            if candidate.is_file():
                try:
                    config = json.loads(candidate.read_text())
                except (OSError, ValueError) as exc:
                    raise AnalysisError(f"{candidate}: cannot read the model config ({exc})") from None
                return cls.from_config(config, canonical_model(candidate.parent.name if candidate.name == "config.json"
                                                               else candidate.stem))
        key = canonical_model(model)
        if key in _SHAPES:
            return cls(key, *_SHAPES[key])
        raise AnalysisError(f"--model {model}: not a config file or folder, nor a name under {CONFIGS_DIR}")


@dataclass(frozen=True)
class Workload:
    """One cell: a shape under TP, batch, lengths, storage types and the link.

    weight_bytes: bytes per weight (fp32 4, bf16/fp16 2); act_bytes: activations and KV cache (the
    app keeps them fp32: 4); wire_bytes: per all-reduced element (the app: fp32 on the CPU, the
    weight type on the GPU). kv_read: "context" (the app's attention reads the keys up to the
    position) or "full" (the whole cache of prompt + gen positions, as gpt-fast's masked SDPA).
    """

    shape: Shape
    tp: int = 1
    batch: int = 1
    prompt_len: int = 1024
    gen_len: int = 512
    weight_bytes: int = 4
    act_bytes: int = 4
    wire_bytes: int = 4
    p2p: str = "on"
    link_latency_us: float = 0.0
    link_bandwidth_gbps: float = 0.0
    kv_read: str = "context"

    def __post_init__(self):
        s = self.shape
        if self.tp < 1 or s.heads % self.tp or s.ffn % self.tp:
            raise AnalysisError(f"{s.name}: TP {self.tp} must divide the {s.heads} query heads and MLP width {s.ffn}")
        if self.tp <= s.kv_heads and s.kv_heads % self.tp or self.tp > s.kv_heads and self.tp % s.kv_heads:
            raise AnalysisError(f"{s.name}: TP {self.tp} must divide the {s.kv_heads} KV heads or be a multiple of them")
        if self.batch < 1 or self.prompt_len < 1 or self.gen_len < 1:
            raise AnalysisError("batch, prompt and generated lengths must be positive")

    # The shard of one rank (src/model/shard.hpp): heads, KV heads (replicated past K), MLP columns.
    @property
    def heads(self) -> int:
        return self.shape.heads // self.tp

    @property
    def kv_heads(self) -> int:
        return self.shape.kv_heads // self.tp if self.tp <= self.shape.kv_heads else 1

    @property
    def ffn(self) -> int:
        return self.shape.ffn // self.tp

    @property
    def qkv_width(self) -> int:
        return (self.heads + 2 * self.kv_heads) * self.shape.head_dim

    def link_delay_s(self, nbytes: float) -> float:
        """LinkModel::delay_s: latency + 2(P-1)/P * bytes / bandwidth; 0 when off or at one rank."""
        if self.tp <= 1 or (self.link_latency_us <= 0 and self.link_bandwidth_gbps <= 0):
            return 0.0
        ring = 2.0 * (self.tp - 1) / self.tp * nbytes
        bw = ring * 8 / (self.link_bandwidth_gbps * 1e9) if self.link_bandwidth_gbps > 0 else 0.0
        return self.link_latency_us * 1e-6 + bw

    @property
    def link_enabled(self) -> bool:
        return self.tp > 1 and (self.link_latency_us > 0 or self.link_bandwidth_gbps > 0)
