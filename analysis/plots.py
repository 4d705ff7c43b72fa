"""The paper's figures for any set of results, as PNG and PDF.

Every variant has its own marker, line style and hatch besides its colour, so the figures stay
readable in black and white; every axis names its unit and every title names the setting.
Figures are drawn on matplotlib's Agg canvas directly: no display, no global pyplot state.
"""
from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .cells import BASELINE, breakdown_columns, component_label, link_latency_us, ordered_variants, varying
from .errors import AnalysisError

# Okabe-Ito colours (colour-blind safe) plus marker, dashes and hatch for print in grey.
_STYLES = {
    "standard": dict(color="#000000", marker="o", linestyle="-", hatch=""),
    "ladder": dict(color="#D55E00", marker="s", linestyle="--", hatch="//"),
    "parallel": dict(color="#0072B2", marker="^", linestyle="-.", hatch="\\\\"),
    "upper-bound": dict(color="#009E73", marker="D", linestyle=":", hatch="xx"),
    "hybrid-ladder": dict(color="#CC79A7", marker="v", linestyle=(0, (5, 1, 1, 1, 1, 1)), hatch=".."),
    "desync": dict(color="#E69F00", marker="P", linestyle=(0, (1, 1)), hatch="++"),
}
_SPARE_STYLES = [  # for variants the app adds later
    dict(color="#56B4E9", marker="X", linestyle=(0, (3, 1, 3, 3)), hatch="oo"),
]
_COMPONENT_HATCHES = ["", "//", "..", "xx", "\\\\", "++", "oo", "--"]
_COMPONENT_GREYS = ["#f0f0f0", "#bdbdbd", "#969696", "#737373", "#525252", "#d9d9d9", "#a0a0a0", "#636363"]
# The settings a figure can be specific to besides model, TP, batch and link.
_RUN_KEYS = ["device", "dtype", "prompt_len", "gen_len"]


def _style(variant: str) -> dict:
    if variant in _STYLES:
        return _STYLES[variant]
    return _SPARE_STYLES[sum(map(ord, variant)) % len(_SPARE_STYLES)]


def _line(variant: str) -> dict:
    s = _style(variant)
    return dict(color=s["color"], marker=s["marker"], linestyle=s["linestyle"], markersize=6,
                markerfacecolor="white", markeredgewidth=1.5, linewidth=1.6)


def _link_label(p2p: str, link: str) -> str:
    if link == "native":
        return f"P2P {p2p}"
    return f"{link} link" if p2p == "emulated" else f"P2P {p2p}, {link} link"


def _subtitle(setting: dict) -> str:
    return (f"{setting['device']}, {setting['dtype']}, "
            f"prompt {setting['prompt_len']} + {setting['gen_len']} generated tokens")


def _slug(*parts) -> str:
    """File-name-safe: `emulated 50 us, 10 Gbit/s` -> `emulated-50-us-10-gbit-s`."""
    text = "_".join(str(p) for p in parts if p != "")
    return re.sub(r"[^a-z0-9._]+", "-", text.lower()).strip("-_")


def _new_figure(width: float, height: float, title: str, setting: dict) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    fig.suptitle(f"{title}\n{_subtitle(setting)}", fontsize=11)
    return fig


def _save(fig: Figure, out_dir: Path, stem: str) -> list[Path]:
    paths = [Path(out_dir) / f"{stem}.png", Path(out_dir) / f"{stem}.pdf"]
    try:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        for path in paths:
            fig.savefig(path, dpi=150)
    except OSError as exc:
        raise AnalysisError(f"{out_dir}: cannot write figure {stem} ({exc.strerror or exc})") from None
    return paths


def _legend_outside(fig: Figure, ax, title: str) -> None:
    """Right of the plot, where it hides no bar; one entry per label (bars are drawn one by one)."""
    handles = dict(zip(*reversed(ax.get_legend_handles_labels())))
    fig.legend(handles.values(), handles.keys(), title=title, loc="outside right upper", fontsize=9)


def _log2_axis(ax, values, label: str) -> None:
    """Powers of two (TP, batch) evenly spaced, labelled with the measured values only."""
    ticks = sorted(set(int(v) for v in values))
    ax.set_xscale("log", base=2)
    ax.set_xticks(ticks, [str(t) for t in ticks])
    ax.minorticks_off()
    ax.set_xlabel(label)


def _stem(kind: str, stats: pd.DataFrame, setting: dict, *specific) -> str:
    """kind_model_[run settings]_specific_p2p-<p2p>[_link]; run settings (device, dtype, lengths)
    only where they differ within the results, so that figures of two settings never collide."""
    run_keys = [setting[k] for k in varying(stats, _RUN_KEYS)]
    p2p = "" if setting["p2p"] == "emulated" else f"p2p-{setting['p2p']}"  # the link says it all
    link = "" if setting["link"] == "native" else setting["link"]
    return _slug(kind, setting.get("model", ""), *run_keys, *specific, p2p, link)


def _predicted_line(variant: str) -> dict:
    """The model's prediction: the variant's colour, thin, dotted, no markers."""
    return dict(color=_style(variant)["color"], linestyle=":", linewidth=1.4, marker="")


def _speedup_interval_bars(line: pd.DataFrame) -> list | None:
    """Error bars from each point's speedup interval (cells.speedup_interval); None without one."""
    if not _has(line, "speedup_ci_low"):
        return None
    return [(line["speedup"] - line["speedup_ci_low"]).fillna(0).to_numpy(),
            (line["speedup_ci_high"] - line["speedup"]).fillna(0).to_numpy()]


def _has(frame: pd.DataFrame, column: str) -> bool:
    return column in frame and frame[column].notna().any()


def tokens_vs_tp(stats: pd.DataFrame, out_dir: Path) -> list[Path]:
    """The paper's 70B figure: tokens/s over TP, one panel per batch, one line per variant,
    error bars spanning the interquartile range. Needs at least two TP degrees."""
    written = []
    keys = ["model", *_RUN_KEYS, "p2p", "link"]
    for values, group in stats.groupby(keys, sort=False):
        setting = dict(zip(keys, values))
        if group["tp"].nunique() < 2:
            continue
        batches = sorted(group["batch"].unique())
        ncols = min(len(batches), 4)
        nrows = math.ceil(len(batches) / ncols)
        fig = _new_figure(3.6 * ncols + 0.4, 3.0 * nrows + 1.0,
                          f"{setting['model']}: throughput vs TP degree, "
                          f"{_link_label(setting['p2p'], setting['link'])}", setting)
        axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
        handles = {}
        for ax, batch in zip(axes, batches):
            panel = group[group["batch"] == batch]
            for variant in ordered_variants(panel["variant"]):
                line = panel[panel["variant"] == variant].sort_values("tp")
                errors = [(line["tokens_per_s_median"] - line["tokens_per_s_q1"]).to_numpy(),
                          (line["tokens_per_s_q3"] - line["tokens_per_s_median"]).to_numpy()]
                handles[variant] = ax.errorbar(line["tp"], line["tokens_per_s_median"], yerr=errors,
                                               capsize=3, label=variant, **_line(variant))
                if _has(line, "predicted_tokens_per_s"):
                    handles["predicted (model)"] = ax.plot(line["tp"], line["predicted_tokens_per_s"],
                                                           **_predicted_line(variant))[0]
            _log2_axis(ax, group["tp"], "TP degree (ranks)")
            ax.set_ylabel("throughput (tokens/s)")
            ax.set_ylim(bottom=0)
            ax.set_title(f"batch {batch}", fontsize=10)
            ax.grid(True, alpha=0.3)
        for ax in axes[len(batches):]:
            ax.set_visible(False)
        ordered = ordered_variants(handles)
        fig.legend([handles[v] for v in ordered], ordered, loc="outside lower center", ncols=len(ordered),
                   title="variant (error bars: 25th-75th percentile; dotted: predicted)")
        written += _save(fig, out_dir, _stem("tokens_vs_tp", stats, setting))
    return written


def speedup_vs_batch(stats: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Speedup over standard against batch size, one line per variant; needs two batch sizes."""
    written = []
    keys = ["model", *_RUN_KEYS, "p2p", "link", "tp"]
    others = stats[(stats["variant"] != BASELINE) & stats["speedup"].notna()]
    for values, group in others.groupby(keys, sort=False):
        setting = dict(zip(keys, values))
        if group["batch"].nunique() < 2:
            continue
        fig = _new_figure(6.0, 4.4, f"{setting['model']}, TP={setting['tp']}: speedup vs batch size, "
                          f"{_link_label(setting['p2p'], setting['link'])}", setting)
        ax = fig.subplots()
        ax.axhline(1.0, color="#000000", linewidth=1, linestyle="-", alpha=0.5, label=f"{BASELINE} (1.0)")
        for variant in ordered_variants(group["variant"]):
            line = group[group["variant"] == variant].sort_values("batch")
            ax.errorbar(line["batch"], line["speedup"], yerr=_speedup_interval_bars(line), capsize=3, label=variant,
                        **_line(variant))
            if _has(line, "predicted_speedup"):
                ax.plot(line["batch"], line["predicted_speedup"], label="predicted (model)", **_predicted_line(variant))
        _log2_axis(ax, group["batch"], "batch size (sequences)")
        ax.set_ylabel(f"speedup over {BASELINE} (x, median tokens/s ratio)")
        ax.grid(True, alpha=0.3)
        handles = dict(zip(*reversed(ax.get_legend_handles_labels())))
        ax.legend(handles.values(), handles.keys(), title="variant (error bars: 95% bootstrap interval)")
        written += _save(fig, out_dir, _stem("speedup_vs_batch", stats, setting, f"tp{setting['tp']}"))
    return written


def _model_label(model: str, params: float) -> str:
    return model if math.isnan(params) else f"{model}\n({params / 1e9:.1f} B params)"


def speedup_vs_model(stats: pd.DataFrame, out_dir: Path) -> list[Path]:
    """The paper's Table 1 as bars: speedup per model, models ordered by size; needs two models."""
    written = []
    keys = [*_RUN_KEYS, "p2p", "link", "tp", "batch"]
    others = stats[(stats["variant"] != BASELINE) & stats["speedup"].notna()]
    for values, group in others.groupby(keys, sort=False):
        setting = dict(zip(keys, values))
        if group["model"].nunique() < 2:
            continue
        models = (group[["model", "model_params"]].drop_duplicates("model")
                  .assign(order=lambda m: m["model_params"].fillna(0.0)).sort_values(["order", "model"]))
        variants = ordered_variants(group["variant"])
        width = 0.8 / len(variants)
        fig = _new_figure(max(6.5, 1.3 * len(models) + 3), 4.6,
                          f"speedup vs model size: TP={setting['tp']}, batch {setting['batch']}, "
                          f"{_link_label(setting['p2p'], setting['link'])}", setting)
        ax = fig.subplots()
        for j, model in enumerate(models["model"]):
            bars = group[group["model"] == model].set_index("variant")["speedup"]
            present = [v for v in variants if v in bars.index]  # centred on the model's own bars
            for i, variant in enumerate(present):
                s = _style(variant)
                drawn = ax.bar(j + (i - (len(present) - 1) / 2) * width, bars[variant], width, label=variant,
                               color=s["color"], hatch=s["hatch"], edgecolor="black", linewidth=0.8, alpha=0.85)
                ax.bar_label(drawn, fmt="%.2f", fontsize=7, padding=2)
        ax.axhline(1.0, color="black", linewidth=1, linestyle="--", label=f"{BASELINE} (1.0)")
        ax.set_xticks(range(len(models)), [_model_label(m, p) for m, p in zip(models["model"], models["model_params"])])
        ax.set_xlabel("model (ordered by parameter count)")
        ax.set_ylabel(f"speedup over {BASELINE} (x, median tokens/s ratio)")
        ax.set_ylim(bottom=0)
        ax.grid(True, axis="y", alpha=0.3)
        _legend_outside(fig, ax, "variant")
        stem = _stem("speedup_vs_model", stats, setting, f"tp{setting['tp']}", f"b{setting['batch']}")
        written += _save(fig, out_dir, stem)
    return written


def breakdown_bars(stats: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Stacked median breakdown_* components per variant, one panel per batch size and one figure
    per model, TP and link; nothing when the results carry no breakdown datasets."""
    components = breakdown_columns(stats)
    if not components:
        return []
    written = []
    keys = ["model", *_RUN_KEYS, "p2p", "link", "tp"]
    for values, group in stats.dropna(subset=components, how="all").groupby(keys, sort=False):
        setting = dict(zip(keys, values))
        batches = sorted(group["batch"].unique())
        variants = ordered_variants(group["variant"])
        fig = _new_figure(min(1.1 * len(variants) * len(batches) + 3.0, 18), 4.4,
                          f"{setting['model']}, TP={setting['tp']}: time per generation by component, "
                          f"{_link_label(setting['p2p'], setting['link'])}", setting)
        axes = fig.subplots(1, len(batches), squeeze=False).ravel()
        for ax, batch in zip(axes, batches):
            rows = group[group["batch"] == batch].set_index("variant")
            rows = rows.loc[ordered_variants(rows.index)]
            bottom = pd.Series(0.0, index=rows.index)
            for i, column in enumerate(components):
                heights = rows[column].fillna(0.0)
                ax.bar(range(len(rows)), heights, 0.6, bottom=bottom,
                       label=component_label(column),
                       color=_COMPONENT_GREYS[i % len(_COMPONENT_GREYS)],
                       hatch=_COMPONENT_HATCHES[i % len(_COMPONENT_HATCHES)], edgecolor="black", linewidth=0.8)
                bottom = bottom + heights
            ax.scatter(range(len(rows)), rows["total_s_median"], marker="_", s=700, linewidths=2.5,
                       color="black", zorder=3, label="measured total\n(prefill + decode)")
            ax.set_xticks(range(len(rows)), rows.index, rotation=30, ha="right")
            ax.set_title(f"batch {batch}", fontsize=10)
            ax.grid(True, axis="y", alpha=0.3)
        axes[0].set_ylabel("median time per generation (s)")
        _legend_outside(fig, axes[0], "component")
        written += _save(fig, out_dir, _stem("breakdown", stats, setting, f"tp{setting['tp']}"))
    return written


def speedup_vs_link(stats: pd.DataFrame, out_dir: Path, curves: pd.DataFrame | None = None) -> list[Path]:
    """Speedup over standard (top) and tokens/s (bottom) against the emulated link's latency, one
    column per batch: measured medians (tokens/s with 25th-75th percentile bars), the model's
    predicted curves where a calibration exists, TP 1's measured tokens/s as a reference line.
    Needs two or more latencies of one setting at TP > 1 (latency-only links)."""
    written = []
    frame = stats[~stats["link"].str.contains("Gbit/s")].assign(latency_us=lambda f: link_latency_us(f))
    keys = ["model", *_RUN_KEYS, "tp"]
    for values, group in frame[frame["tp"] > 1].groupby(keys, sort=False):
        setting = dict(zip(keys, values), p2p="emulated", link="")
        if group["latency_us"].nunique() < 2:
            continue
        batches = sorted(group["batch"].unique())
        fig = _new_figure(max(4.4 * len(batches), 6.5), 8.2,
                          f"{setting['model']}, TP={setting['tp']}: speedup and throughput vs link latency", setting)
        axes = fig.subplots(2, len(batches), squeeze=False, sharex=True)
        tp1 = frame[(frame["tp"] == 1) & (frame["model"] == setting["model"])
                    & (frame["prompt_len"] == setting["prompt_len"]) & (frame["gen_len"] == setting["gen_len"])]
        for j, batch in enumerate(batches):
            cells = group[group["batch"] == batch]
            top, bottom = axes[0, j], axes[1, j]
            for variant in ordered_variants(cells["variant"]):
                line = cells[cells["variant"] == variant].sort_values("latency_us")
                if variant != BASELINE:
                    top.errorbar(line["latency_us"], line["speedup"], yerr=_speedup_interval_bars(line), capsize=3,
                                 label=variant, linestyle="none",
                                 **{k: v for k, v in _line(variant).items() if k != "linestyle"})
                errors = [(line["tokens_per_s_median"] - line["tokens_per_s_q1"]).to_numpy(),
                          (line["tokens_per_s_q3"] - line["tokens_per_s_median"]).to_numpy()]
                bottom.errorbar(line["latency_us"], line["tokens_per_s_median"], yerr=errors, capsize=3,
                                label=variant, linestyle="none",
                                **{k: v for k, v in _line(variant).items() if k != "linestyle"})
                if curves is not None and len(curves):
                    curve = curves[(curves["model"] == setting["model"]) & (curves["tp"] == setting["tp"])
                                   & (curves["prompt_len"] == setting["prompt_len"])
                                   & (curves["gen_len"] == setting["gen_len"]) & (curves["batch"] == batch)
                                   & (curves["variant"] == variant)].sort_values("latency_us")
                    if len(curve):
                        style = dict(color=_style(variant)["color"], linestyle=_style(variant)["linestyle"],
                                     linewidth=1.4)
                        if variant != BASELINE:
                            top.plot(curve["latency_us"], curve["predicted_speedup"], label=f"{variant} (predicted)",
                                     **style)
                        bottom.plot(curve["latency_us"], curve["predicted_tokens_per_s"],
                                    label=f"{variant} (predicted)", **style)
            one = tp1[tp1["batch"] == batch]
            if len(one):
                bottom.axhline(one["tokens_per_s_median"].median(), color="#777777", linewidth=1.2,
                               linestyle=(0, (6, 3)), label="TP=1 (measured)")
                if _has(one, "predicted_tokens_per_s"):
                    bottom.axhline(one["predicted_tokens_per_s"].median(), color="#777777", linewidth=1.0,
                                   linestyle=":", label="TP=1 (predicted)")
            top.axhline(1.0, color="black", linewidth=1, alpha=0.5)
            top.set_title(f"batch {batch}", fontsize=10)
            top.set_ylabel(f"speedup over {BASELINE} (x)")
            bottom.set_ylabel("throughput (tokens/s)")
            bottom.set_xlabel("emulated link latency per all-reduce (us)")
            bottom.set_ylim(bottom=0)
            for ax in (top, bottom):
                ax.grid(True, alpha=0.3)
        handles = {}
        for ax in axes.ravel():
            handles.update(dict(zip(*reversed(ax.get_legend_handles_labels()))))
        order = [label for v in ordered_variants(group["variant"]) for label in (v, f"{v} (predicted)")
                 if label in handles] + [label for label in handles if label.startswith("TP=1")]
        fig.legend([handles[k] for k in order], order, loc="outside lower center", ncols=min(len(order), 4),
                   fontsize=8, title="markers: measured median (bars: speedup's 95% bootstrap interval, tokens/s' "
                         "25th-75th percentile); lines: the model")
        written += _save(fig, out_dir, _stem("speedup_vs_link", stats, setting, f"tp{setting['tp']}"))
    return written


def plot_all(stats: pd.DataFrame, out_dir: Path, curves: pd.DataFrame | None = None) -> list[Path]:
    """Every figure the results allow; kinds whose data is missing are skipped, not errors.
    Predicted columns (analysis.predict.add_predictions) and latency curves are drawn where given."""
    return (tokens_vs_tp(stats, out_dir) + speedup_vs_batch(stats, out_dir)
            + speedup_vs_model(stats, out_dir) + breakdown_bars(stats, out_dir)
            + speedup_vs_link(stats, out_dir, curves))
