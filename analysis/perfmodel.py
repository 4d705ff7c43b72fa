"""The performance model: prefill, decode step and tokens/s of every variant from a model shape and
a machine description (docs/measurement.md, "Performance model", has every formula).

Compute: each kernel of a module from its bytes and FLOPs against the machine's bandwidth and GEMM
rate plus a per-kernel overhead; a GEMM from the machine's measured table of the run's own GEMM
shapes where there is one (`ladder-bench --roofline`). Communication: one all-reduce from its
message size (a measured `ladder-allreduce` table, or alpha + bytes/bandwidth), plus the emulated
link exactly as the app adds it (src/comm/link_model.hpp, comm_mpi.cpp). Schedule: the same rule
as the app (src/model/schedule.hpp, Transformer::forward): module i first settles every pending
all-reduce of a module <= reads_through(i), i-1 in a standard layer and i-2 in a ladder one, the
parallel block settles its one module per layer at once. The schedule is simulated event by event,
for all decode steps at once (numpy arrays over the steps' context lengths).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from .errors import AnalysisError
from .models import _SHAPES, canonical_model

VARIANTS = ("standard", "ladder", "parallel", "upper-bound", "hybrid-ladder")
CONFIGS_DIR = Path(__file__).resolve().parent.parent / "configs" / "models"
DTYPE_BYTES = {"fp32": 4, "bf16": 2, "fp16": 2}


# --------------------------------------------------------------------------------------------
# Model shape and workload


@dataclass(frozen=True)
class Shape:
    """A Llama block model (spec section 1): L, d, H, K, F, V; `ladder_layers` for hybrid-ladder."""

    name: str
    layers: int
    hidden: int
    heads: int
    kv_heads: int
    ffn: int
    vocab: int
    ladder_layers: int | None = None

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
                       ladder_layers=int(config["ladder_layers"]) if "ladder_layers" in config else None)
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


# --------------------------------------------------------------------------------------------
# Machine description


def _interp(x: float, xs, ys) -> float:
    """Piecewise linear in x through the measured points; below the first point its value, above
    the last the last segment's slope (an all-reduce's time is affine in its size)."""
    xs, ys = np.asarray(xs, float), np.asarray(ys, float)
    if len(xs) == 1 or x <= xs[0]:
        return float(ys[0])
    if x >= xs[-1]:
        slope = (ys[-1] - ys[-2]) / (xs[-1] - xs[-2])
        return float(ys[-1] + max(slope, 0.0) * (x - xs[-1]))
    return float(np.interp(x, xs, ys))


# A cell calibration's measurements of a decode all-reduce as a step meets it: the Machine's key
# ({bytes: seconds}) -> the results file's attribute (/roofline/step/c*).
IN_STEP = {"allreduce_start_in_step": "allreduce_start_s", "allreduce_wait_in_step": "allreduce_wait_s",
           "allreduce_wait_link_in_step": "allreduce_wait_link_s", "rank_skew_module_in_step": "rank_skew_module_s",
           "rank_skew_layer_in_step": "rank_skew_layer_s",
           "allreduce_start_overlapped_in_step": "allreduce_start_overlapped_s",
           "allreduce_stretch_overlapped_in_step": "allreduce_stretch_overlapped_s"}


def _at_size(by_size: dict, nbytes: float) -> float | None:
    """The seconds a {bytes: seconds} table holds for this size, None where it has none."""
    return next((float(v) for size, v in by_size.items() if math.isclose(float(size), nbytes)), None)


@dataclass
class AllReduceTable:
    """A measured ladder-allreduce sweep at `ranks` (link 0): blocking time per size, the part of
    it inside start_allreduce (the hand-off, the caller's thread busy), and the interference per
    size: what the rest of an overlapped all-reduce costs the compute it overlaps, as a fraction of
    that rest (from the async mode's overlap, the hand-off taken out)."""

    ranks: int
    bytes: list
    time_s: list
    interference: list | None = None
    start_s: list | None = None

    def start(self, nbytes: float) -> float:
        return float(np.interp(nbytes, self.bytes, self.start_s)) if self.start_s else 0.0

    def time(self, nbytes: float) -> float:
        return _interp(nbytes, self.bytes, self.time_s)

    def interference_at(self, nbytes: float) -> float | None:
        if not self.interference:
            return None
        return float(np.clip(np.interp(nbytes, self.bytes, self.interference), 0.0, 1.0))


@dataclass
class Machine:
    """Everything the model knows about a machine, per rank (docs/measurement.md).

    mem_bw_Bps x bw_efficiency: bytes/s of every memory-bound kernel (and of a GEMM without a
    measured time); gemm_flops x gemm_efficiency: FLOP/s of a compute-bound GEMM;
    attention_flops: the prefill attention kernel (default: the GEMM rate); kernel_overhead_s:
    added per kernel launch. allreduce: per link class ("on", "off", "inter_node") alpha_s and
    busbw_Bps; allreduce_tables: measured sweeps, used first for their rank count; interference:
    scalar or per link class; sleep_overshoot_s: what a wait on the emulated link takes past the
    link's end (the compute thread's return from it; the name is from when it slept), sleep_overshoot_by_latency the
    same measured at given latencies (a cell at one of them takes its own, linear between them);
    allreduce_start_in_step: the hand-off (time inside start_allreduce) of a message of these sizes
    as a decode step meets it, right after the module's GEMMs (the cell's calibration), used instead
    of the table's for the caller's share; allreduce_wait_in_step: the wait() right after that
    hand-off for a message of these sizes, on the machine's own link (the cell's calibration), used
    instead of the table's time less its hand-off for what the all-reduce takes after the hand-off;
    allreduce_wait_link_in_step: the same wait through the cell's emulated link, which gives the
    cell's own overshoot (that wait less the link's time and the wait without it) instead of
    sleep_overshoot*; rank_skew_module_in_step, rank_skew_layer_in_step: what an all-reduce of these sizes after every
    module (after every layer) waits for the other ranks beyond the slowest rank's forward (the
    cell's calibration: its replayed decode step's modules rank by rank; other sizes: none);
    allreduce_start_overlapped_in_step, allreduce_stretch_overlapped_in_step: the hand-off of an
    all-reduce of these sizes as ladder meets it (the next module computes while it moves), and what
    it adds to that next module's compute (the cell's calibration: its replayed ladder step; other
    sizes and schedules: the hand-off split into the call and the progress thread's work, with
    interference);
    kernel_table: the other kernels of a decode step (decode 1)
    or a prefill (0) timed in a replayed forward of `rows` tokens (the cell's calibration; attention
    at `keys` keys per query), used instead of their bytes/FLOPs formula there; ranks_per_node:
    beyond it a TP group's all-reduce also crosses nodes. activation_bytes, wire_bytes, kv_read: the
    software's storage of activations/KV cache, all-reduced elements and attention reads (None: the
    app's).
    """

    name: str = "machine"
    description: str = ""
    mem_bw_Bps: float = 1e10
    bw_efficiency: float = 1.0
    gemm_flops: float = 1e11
    gemm_efficiency: float = 1.0
    attention_flops: float | None = None
    kernel_overhead_s: float = 0.0
    allreduce: dict = field(default_factory=dict)
    allreduce_tables: list = field(default_factory=list)
    interference: float | dict = 0.0
    sleep_overshoot_s: float = 0.0
    sleep_overshoot_by_latency: dict = field(default_factory=dict)  # {latency µs: seconds}
    allreduce_start_in_step: dict = field(default_factory=dict)  # {bytes: seconds}: the hand-off in a step
    allreduce_wait_in_step: dict = field(default_factory=dict)  # {bytes: seconds}: the wait after it
    allreduce_wait_link_in_step: dict = field(default_factory=dict)  # {bytes: s}: that wait through the emulated link
    rank_skew_module_in_step: dict = field(default_factory=dict)  # {bytes: s}: the other ranks' lag per sync
    rank_skew_layer_in_step: dict = field(default_factory=dict)   # the same, syncs after every layer
    allreduce_start_overlapped_in_step: dict = field(default_factory=dict)  # {bytes: s}: ladder's hand-off
    allreduce_stretch_overlapped_in_step: dict = field(default_factory=dict)  # {bytes: s}: its next module's stretch
    ranks_per_node: int | None = None
    gemm_table: list = field(default_factory=list)  # [m, n, k, decode, seconds per call]
    kernel_table: list = field(default_factory=list)  # [kernel, decode, rows, keys, seconds per call]
    activation_bytes: int | None = None
    wire_bytes: int | None = None
    kv_read: str | None = None
    provenance: dict = field(default_factory=dict)

    # -- JSON --------------------------------------------------------------------------------
    @classmethod
    def from_json(cls, path) -> "Machine":
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, ValueError) as exc:
            raise AnalysisError(f"{path}: cannot read the machine file ({exc})") from None
        known = set(cls.__dataclass_fields__)
        unknown = sorted(k for k in data if k not in known and not k.startswith("_"))
        if unknown:
            raise AnalysisError(f"{path}: unknown machine key(s) {', '.join(unknown)} "
                                f"(known: {', '.join(sorted(known))})")
        data = {k: v for k, v in data.items() if k in known}
        data["allreduce_tables"] = [AllReduceTable(**t) for t in data.get("allreduce_tables", [])]
        for key in ("sleep_overshoot_by_latency", *IN_STEP):  # JSON keys are strings
            data[key] = {float(k): float(v) for k, v in data.get(key, {}).items()}
        return cls(**data)

    def to_json(self) -> str:
        data = {k: getattr(self, k) for k in self.__dataclass_fields__}
        data["allreduce_tables"] = [vars(t) for t in self.allreduce_tables]
        return json.dumps(data, indent=2, default=float) + "\n"

    # -- rates -------------------------------------------------------------------------------
    @property
    def bandwidth(self) -> float:
        return self.mem_bw_Bps * self.bw_efficiency

    @property
    def flops(self) -> float:
        return self.gemm_flops * self.gemm_efficiency

    def kernel_s(self, nbytes, flops=0.0, rate=None):
        """One kernel: max(bytes / bandwidth, FLOPs / rate) + the launch overhead."""
        return np.maximum(np.asarray(nbytes, float) / self.bandwidth,
                          np.asarray(flops, float) / (rate or self.flops)) + self.kernel_overhead_s

    def overshoot_at(self, latency_us: float) -> float:
        """The overshoot at this emulated latency: linear between the latencies it was measured
        at, the nearest one's outside them; without any, the one over all latencies."""
        if not self.sleep_overshoot_by_latency:
            return self.sleep_overshoot_s
        lats = sorted(self.sleep_overshoot_by_latency)
        return float(np.interp(latency_us, lats, [self.sleep_overshoot_by_latency[x] for x in lats]))

    def gemm_s(self, m: int, n: int, k: int, decode: bool, weight_bytes: int, act_bytes: int) -> float:
        """y[m,n] = x[m,k] W[n,k]^T: the measured time of this matrix and kind (decode or prefill)
        interpolated linearly in m between measured rows; outside them the nearest measured time
        scaled by the roofline formula's ratio; without a measurement the roofline formula."""
        def formula(rows):
            nbytes = n * k * weight_bytes + (rows * k + rows * n) * act_bytes
            return float(self.kernel_s(nbytes, 2.0 * rows * n * k))

        rows = sorted((r[0], r[4]) for r in self.gemm_table if r[1] == n and r[2] == k and bool(r[3]) == decode)
        if not rows:
            return formula(m)
        ms, ts = zip(*rows)
        if ms[0] <= m <= ms[-1]:
            return float(np.interp(m, ms, ts))
        m0, t0 = (ms[0], ts[0]) if m < ms[0] else (ms[-1], ts[-1])
        return t0 * formula(m) / formula(m0)

    def measured_kernel(self, name: str, decode: bool, rows: int) -> tuple[float, int] | None:
        """(seconds per call, keys per query it attended) of a decode step's (or a prefill's) kernel
        measured at `rows` tokens, or None."""
        for kernel, dec, r, keys, seconds in self.kernel_table:
            if kernel == name and bool(dec) == decode and int(r) == rows:
                return float(seconds), int(keys)
        return None

    # -- communication -----------------------------------------------------------------------
    def _table(self, ranks: int):
        return next((t for t in self.allreduce_tables if t.ranks == ranks), None)

    def allreduce_s(self, nbytes: float, ranks: int, p2p: str = "on") -> float:
        """One all-reduce of `nbytes` over `ranks` on the machine's own link (no emulation)."""
        if ranks <= 1:
            return 0.0
        table = self._table(ranks)
        if table is not None:
            return table.time(nbytes)
        link = self.allreduce.get("on" if p2p == "emulated" else p2p) or self.allreduce.get("on")
        if link is None:
            raise AnalysisError(f"machine {self.name}: no all-reduce at {ranks} ranks (neither a ladder-allreduce "
                                f"table nor alpha_s/busbw_Bps for link '{p2p}')")
        ring = 2.0 * (ranks - 1) / ranks * nbytes
        # alpha_s per all-reduce, plus alpha_per_step_s per step of a ring (2(P-1) steps) where given.
        alpha = link.get("alpha_s", 0.0) + 2 * (ranks - 1) * link.get("alpha_per_step_s", 0.0)
        t = alpha + ring / link["busbw_Bps"]
        if self.ranks_per_node and ranks > self.ranks_per_node:
            net = self.allreduce.get("inter_node")
            if net is None:
                raise AnalysisError(f"machine {self.name}: TP {ranks} spans nodes but 'inter_node' is not described")
            t = alpha + net["alpha_s"] + ring / min(link["busbw_Bps"], net["busbw_Bps"])
        return float(t)

    def allreduce_start_s(self, nbytes: float, ranks: int) -> tuple[float, float]:
        """(hand-off the caller pays, the part of allreduce_s it covers): the time inside
        start_allreduce as a step meets it where measured for this size, else the table's; the
        table's is the part of its all-reduce time already spent by then. (0, 0) without either."""
        table = self._table(ranks)
        covered = table.start(nbytes) if table is not None else 0.0
        in_step = _at_size(self.allreduce_start_in_step, nbytes)
        return (covered if in_step is None else in_step), covered

    def allreduce_after_start_s(self, nbytes: float, ranks: int, p2p: str = "on") -> float:
        """What the all-reduce takes after its hand-off, on the machine's own link: the wait a step
        meets where measured for this size, else allreduce_s less the part the hand-off covers."""
        in_step = _at_size(self.allreduce_wait_in_step, nbytes)
        if in_step is not None:
            return in_step
        return max(self.allreduce_s(nbytes, ranks, p2p) - self.allreduce_start_s(nbytes, ranks)[1], 0.0)

    def overshoot_in_step(self, w: "Workload", nbytes: float) -> float:
        """What a wait past the emulated link's end takes, as a step meets it: the cell's wait
        through the link less the link's time and less the wait without it, where the cell measured
        both for this size (floored at 0); else the measured overshoot at the link's latency."""
        linked = _at_size(self.allreduce_wait_link_in_step, nbytes)
        free = _at_size(self.allreduce_wait_in_step, nbytes)
        if linked is None or free is None:
            return self.overshoot_at(w.link_latency_us)
        return max(linked - w.link_delay_s(nbytes) - free, 0.0)

    def overlapped_in_step(self, nbytes: float) -> tuple[float, float] | None:
        """(hand-off, stretch of the next module) of an all-reduce of `nbytes` that the next module
        computes over (ladder), where the cell measured both for this size; else None."""
        call = _at_size(self.allreduce_start_overlapped_in_step, nbytes)
        stretch = _at_size(self.allreduce_stretch_overlapped_in_step, nbytes)
        return None if call is None or stretch is None else (max(call, 0.0), max(stretch, 0.0))

    def rank_skew_s(self, nbytes: float, layer_syncs: bool) -> float:
        """What an all-reduce of `nbytes` after every module (every layer) waits for the other
        ranks beyond the slowest rank's forward, where measured for this size; else 0."""
        skew = _at_size(self.rank_skew_layer_in_step if layer_syncs else self.rank_skew_module_in_step, nbytes)
        return 0.0 if skew is None else skew

    def interference_at(self, nbytes: float, ranks: int, p2p: str = "on") -> float:
        table = self._table(ranks)
        if table is not None and table.interference_at(nbytes) is not None:
            return table.interference_at(nbytes)
        if isinstance(self.interference, dict):
            return float(self.interference.get("on" if p2p == "emulated" else p2p, 0.0))
        return float(self.interference)


# --------------------------------------------------------------------------------------------
# Compute of one module


@dataclass
class Costs:
    """Seconds per module (arrays over decode steps, or one element for the prefill)."""

    attention: np.ndarray
    mlp: np.ndarray
    parallel: np.ndarray
    add: np.ndarray        # settling one module: add_into the stream
    head: np.ndarray       # embedding before the layers
    tail: np.ndarray       # gather_last, final norm, LM head, argmax after them


def _costs(w: Workload, mc: Machine, tokens: int, ctx: np.ndarray, prefill: bool) -> Costs:
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


# --------------------------------------------------------------------------------------------
# The schedule


@dataclass
class Schedule:
    """src/model/schedule.hpp for one variant: communicates, parallel block, ladder_from."""

    variant: str
    layers: int
    tp: int
    ladder_from: int

    @classmethod
    def of(cls, variant: str, shape: Shape, tp: int) -> "Schedule":
        if variant not in VARIANTS:
            raise AnalysisError(f"variant {variant!r}: choose from {', '.join(VARIANTS)}")
        L = shape.layers
        hybrid = shape.ladder_layers if shape.ladder_layers is not None else L // 2
        start = {"ladder": 0, "hybrid-ladder": L - hybrid}.get(variant, L)
        return cls(variant, L, tp, start)

    @property
    def communicates(self) -> bool:
        return self.variant != "upper-bound" and self.tp > 1

    @property
    def parallel_block(self) -> bool:
        return self.variant == "parallel"

    def reads_through(self, module: int) -> int:
        return module - 2 if module // 2 >= self.ladder_from else module - 1


@dataclass
class Timeline:
    """One simulated forward: its time and where it went (arrays over decode steps)."""

    total: np.ndarray
    compute: np.ndarray        # modules' own compute (without interference)
    stretch: np.ndarray        # compute lost to overlapped all-reduces (interference)
    handoff: np.ndarray        # the compute thread inside start_allreduce
    wait: np.ndarray           # the compute thread blocked in wait(): exposed communication
    comm: np.ndarray           # every all-reduce's time (real + emulated link + overshoot), exposed or not
    attention: np.ndarray      # compute of the attention modules (parallel: the blocks)
    mlp: np.ndarray


def simulate(sched: Schedule, costs: Costs, w: Workload, mc: Machine, msg_bytes: float) -> Timeline:
    """Transformer::forward on the compute thread and the MpiComm progress thread, event by event.

    Per all-reduce of module i (started when its compute ends): the compute thread first hands it
    off (start_allreduce). The hand-off h a step meets covers h_covered of the measured r: the call
    itself takes h_covered (what ladder-allreduce's hot loop measures), the rest, h - h_covered, is
    the progress thread's work, which at real-time priority on the same core takes the core from
    the compute thread as soon as it is handed the all-reduce: it stretches whatever the compute
    thread runs next in full, or hides in a wait (standard: the same total as paying all of h in
    the call; ladder: the next wait can begin before it is done). The real all-reduce then runs
    when the progress thread is free (FIFO) for the rest: the wait a step meets after the hand-off
    where the cell measured it, else r - h_covered seconds, from when the latest rank has handed
    it off too (the rank skew per sync after it; the compute is the slowest rank's forward, whose
    modules are not each the slowest); the emulated link then holds
    it for D seconds after the previous transfer left (link_free = max(real_done, link_free) + D);
    wait() returns at the real end, or, when the link is emulated and its end is later, at that end
    plus the overshoot. A module computing while a real all-reduce runs is stretched by
    interference x the overlap. An all-reduce the next module computes over (ladder: that module
    does not read it) is, where the cell measured it so, a hand-off of the measured overlapped call
    and a measured stretch of that next module in place of the call, the work and the
    interference (its progress thread's timeline as above).
    """
    n = costs.attention.shape
    zero = np.zeros(n)
    t = costs.head.copy()
    compute, stretch, wait, attention, mlp = zero.copy(), zero.copy(), zero.copy(), zero.copy(), zero.copy()
    comm = sched.communicates
    rest = mc.allreduce_after_start_s(msg_bytes, w.tp, w.p2p) if comm else 0.0  # after the hand-off
    skew = mc.rank_skew_s(msg_bytes, sched.parallel_block) if comm else 0.0
    D = w.link_delay_s(msg_bytes) if comm else 0.0
    iota = mc.interference_at(msg_bytes, w.tp, w.p2p) if comm else 0.0
    overshoot = mc.overshoot_in_step(w, msg_bytes) if comm and w.link_enabled else 0.0
    h, h_covered = mc.allreduce_start_s(msg_bytes, w.tp) if comm else (0.0, 0.0)
    call = min(h, h_covered)  # the compute thread inside start_allreduce
    work = h - call  # the progress thread's share of the hand-off, on the compute thread's core
    measured_overlap = mc.overlapped_in_step(msg_bytes) if comm and not sched.parallel_block else None
    modules = 2 * sched.layers

    def overlapped(i):  # the next module computes while all-reduce i moves
        return measured_overlap is not None and i + 1 < modules and sched.reads_through(i + 1) < i

    handoff = zero.copy()
    real_free = zero.copy()
    link_free = np.full(n, -np.inf)
    # i -> (work_start, work_done, real_start, real_done, ready, stretch): the progress thread's
    # preempting work runs from work_start to work_done, the real all-reduce from real_start (the
    # latest rank's hand-off) to real_done; stretch: the measured cost to the next module where the
    # all-reduce is overlapped(), else None (the overlaps and interference above).
    pending: dict[int, tuple] = {}

    def settle(k):
        nonlocal t
        *_, real_done, ready, _ = pending.pop(k)
        if comm:
            t0 = t
            t = np.maximum(t, real_done)
            if w.link_enabled:
                t = np.where(t < ready, ready + overshoot, t)
            wait[...] += t - t0
        t = t + costs.add

    def run(i, c):
        nonlocal t, real_free, link_free
        start = t
        extra = zero.copy()

        def overlap(begin, end):  # of [begin, end] with this module's compute
            return np.clip(np.minimum(end, start + c) - np.maximum(begin, start), 0.0, None)

        for work_start, work_done, real_start, real_done, _, measured in pending.values():  # still moving data
            if measured is not None:
                extra = extra + measured
            else:
                extra = extra + overlap(work_start, work_done) + iota * overlap(real_start, real_done)
        t = start + c + extra
        compute[...] += c
        stretch[...] += extra
        if comm:
            this_overlap = measured_overlap if overlapped(i) else None  # (call, stretch of the next module)
            this_call = call if this_overlap is None else this_overlap[0]
            t = t + this_call  # start_allreduce: the call, on the compute thread
            handoff[...] += this_call
            work_start = np.maximum(t, real_free)
            work_done = work_start + work
            real_start = work_done + skew  # the real all-reduce waits for the latest rank
            real_done = real_start + rest
            real_free = real_done
            ready = np.maximum(real_done, link_free) + D if w.link_enabled else real_done
            link_free = ready
            pending[i] = (work_start, work_done, real_start, real_done, ready,
                          None if this_overlap is None else this_overlap[1])
        else:
            pending[i] = (t,) * 5 + (None,)

    for layer in range(sched.layers):
        if sched.parallel_block:
            run(2 * layer, costs.parallel)
            attention[...] += costs.parallel
            settle(2 * layer)
            continue
        for m, c in ((0, costs.attention), (1, costs.mlp)):
            i = 2 * layer + m
            for k in sorted(pending):
                if k <= sched.reads_through(i):
                    settle(k)
            run(i, c)
            (attention if m == 0 else mlp)[...] += c
    for k in sorted(pending):
        settle(k)
    t = t + costs.tail
    n_ar = sched.layers if sched.parallel_block else 2 * sched.layers
    comm_s = n_ar * (h + skew + rest + D + overshoot) if comm else 0.0
    return Timeline(t, compute, stretch, handoff, wait, zero + comm_s, attention, mlp)


# --------------------------------------------------------------------------------------------
# Whole generations


@dataclass
class Prediction:
    variant: str
    prefill_s: float
    decode_s: float
    step_s: float            # mean decode step
    tokens_per_s: float
    attention_ms: float      # per decode step (mean): attention modules' compute
    mlp_ms: float
    stretch_ms: float        # compute lost to overlapped all-reduces
    handoff_ms: float        # the compute thread handing all-reduces off (start_allreduce)
    wait_ms: float           # exposed communication
    comm_ms: float           # all communication, exposed or not
    allreduce_us: float      # one decode all-reduce: real part
    link_us: float           # one decode all-reduce: emulated link part
    speedup: float = math.nan


def apply_software(w: Workload, mc: Machine) -> Workload:
    """The machine file's software settings (activation/wire bytes, attention reads) where given."""
    changes = {k: v for k, v in (("act_bytes", mc.activation_bytes), ("wire_bytes", mc.wire_bytes),
                                 ("kv_read", mc.kv_read)) if v is not None}
    return replace(w, **changes) if changes else w


def predict(w: Workload, mc: Machine, variants=VARIANTS) -> list[Prediction]:
    """Prefill + gen_len-1 decode steps of each variant; speedups over standard's prediction."""
    w = apply_software(w, mc)
    steps = np.arange(1, w.gen_len, dtype=float)
    ctx = w.prompt_len + steps  # keys the decode step at position prompt_len + step - 1 attends to
    decode_costs = _costs(w, mc, w.batch, ctx if len(ctx) else np.zeros(0), prefill=False)
    prefill_costs = _costs(w, mc, w.batch * w.prompt_len, np.zeros(1), prefill=True)
    decode_msg = w.batch * w.shape.hidden * w.wire_bytes
    prefill_msg = w.batch * w.prompt_len * w.shape.hidden * w.wire_bytes
    out = []
    for variant in variants:
        sched = Schedule.of(variant, w.shape, w.tp)
        pre = simulate(sched, prefill_costs, w, mc, prefill_msg)
        dec = simulate(sched, decode_costs, w, mc, decode_msg)
        prefill_s = float(pre.total[0])
        decode_s = float(dec.total.sum())
        nsteps = max(len(steps), 1)

        def per_step(x):
            return 1e3 * float(np.sum(x)) / nsteps

        out.append(Prediction(
            variant=variant, prefill_s=prefill_s, decode_s=decode_s, step_s=decode_s / nsteps,
            tokens_per_s=w.batch * w.gen_len / (prefill_s + decode_s),
            attention_ms=per_step(dec.attention), mlp_ms=per_step(dec.mlp), stretch_ms=per_step(dec.stretch),
            handoff_ms=per_step(dec.handoff),
            wait_ms=per_step(dec.wait), comm_ms=per_step(dec.comm),
            allreduce_us=1e6 * (mc.allreduce_s(decode_msg, w.tp, w.p2p) if sched.communicates else 0.0),
            link_us=1e6 * (w.link_delay_s(decode_msg) if sched.communicates else 0.0)))
    standard = next((p for p in out if p.variant == "standard"), None) or predict(w, mc, ("standard",))[0]
    for p in out:
        p.speedup = p.tokens_per_s / standard.tokens_per_s
    return out
