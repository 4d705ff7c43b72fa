"""The paper from first principles: a machine file of the paper's H100 node, its few unknowns fitted
on the 70B TP=8 batch-1 cells only (`fit-paper`), and every published cell predicted from it
(`predict --reference`), with the error of each and the share within 10 %.
"""
from __future__ import annotations

import copy
import math

import numpy as np
import pandas as pd

from .compare import PAPER_GEN_LEN, PAPER_PROMPT_LEN
from .errors import AnalysisError
from .machine import Machine
from .perfmodel import predict
from .render import MISSING, Table, number, ratio
from .workload import Shape, Workload

# The only cells the unknowns may be fitted on (issue 17): Llama-3-70B, TP=8, batch 1, P2P on and off.
FIT_CELLS = {"model": "llama-3-70b", "tp": 8, "batch": 1}
PAPER_TOLERANCE = 0.10
PAPER_VARIANTS = ("standard", "ladder", "parallel", "upper-bound", "desync")  # desync: its default pattern

# The unknowns: (name, how to read and write it on a Machine, transform to an unbounded variable).
UNKNOWNS = {
    "kernel_overhead_s": "log",
    "allreduce.on.alpha_s": "log",
    "allreduce.off.alpha_s": "log",
    "interference.on": "logit",
    "interference.off": "logit",
}


def is_fit_cell(row) -> bool:
    return all(row[k] == v for k, v in FIT_CELLS.items())


def paper_workload(model: str, tp: int, batch: int, p2p: str) -> Workload:
    return Workload(Shape.named(model), tp=int(tp), batch=int(batch), prompt_len=PAPER_PROMPT_LEN,
                    gen_len=PAPER_GEN_LEN, weight_bytes=2, act_bytes=2, wire_bytes=2, p2p=p2p)


def _get(machine: Machine, name: str) -> float:
    obj = machine
    *path, last = name.split(".")
    for part in path:
        obj = obj[part] if isinstance(obj, dict) else getattr(obj, part)
    return float(obj[last] if isinstance(obj, dict) else getattr(obj, last))


def _set(machine: Machine, name: str, value: float) -> None:
    obj = machine
    *path, last = name.split(".")
    for part in path:
        obj = obj[part] if isinstance(obj, dict) else getattr(obj, part)
    if isinstance(obj, dict):
        obj[last] = value
    else:
        setattr(obj, last, value)


def _to_free(value: float, kind: str) -> float:
    if kind == "log":
        return math.log(max(value, 1e-12))
    p = min(max(value, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def _from_free(x: float, kind: str) -> float:
    return math.exp(x) if kind == "log" else 1 / (1 + math.exp(-x))


def nelder_mead(f, x0, step=0.5, iterations=400, tol=1e-10):
    """Minimise f from x0 (the textbook method: reflect, expand, contract, shrink)."""
    n = len(x0)
    simplex = [np.asarray(x0, float)] + [np.asarray(x0, float) + step * np.eye(n)[i] for i in range(n)]
    values = [f(x) for x in simplex]
    for _ in range(iterations):
        order = np.argsort(values)
        simplex, values = [simplex[i] for i in order], [values[i] for i in order]
        if values[-1] - values[0] < tol:
            break
        centroid = np.mean(simplex[:-1], axis=0)
        reflected = centroid + (centroid - simplex[-1])
        fr = f(reflected)
        if fr < values[0]:
            expanded = centroid + 2 * (centroid - simplex[-1])
            fe = f(expanded)
            simplex[-1], values[-1] = (expanded, fe) if fe < fr else (reflected, fr)
        elif fr < values[-2]:
            simplex[-1], values[-1] = reflected, fr
        else:
            contracted = centroid + 0.5 * (simplex[-1] - centroid)
            fc = f(contracted)
            if fc < values[-1]:
                simplex[-1], values[-1] = contracted, fc
            else:
                simplex = [simplex[0] + 0.5 * (x - simplex[0]) for x in simplex]
                values = [f(x) for x in simplex]
    best = int(np.argmin(values))
    return simplex[best], values[best]


def unknowns_of(base: Machine) -> dict:
    """UNKNOWNS, with a link's alpha_per_step_s in place of its alpha_s where the file describes the
    link's latency per ring step (the textbook ring all-reduce, alpha x 2(P-1))."""
    out = {}
    for name, kind in UNKNOWNS.items():
        parts = name.split(".")
        if parts[0] == "allreduce" and "alpha_per_step_s" in base.allreduce.get(parts[1], {}):
            name = f"allreduce.{parts[1]}.alpha_per_step_s"
        out[name] = kind
    return out


def fit_paper(base: Machine, reference: pd.DataFrame, iterations: int = 400) -> tuple[Machine, pd.DataFrame]:
    """The unknowns of `base` fitted on the FIT_CELLS rows of the reference (tokens/s, least squares
    of log predicted / published); every other number of `base` stays as given."""
    cells = reference[reference.apply(is_fit_cell, axis=1) & reference["published_tokens_per_s"].notna()]
    if cells.empty:
        raise AnalysisError("the reference has no 70B TP=8 batch-1 tokens/s to fit on")
    unknowns = unknowns_of(base)
    names = list(unknowns)
    x0 = [_to_free(_get(base, n), unknowns[n]) for n in names]
    settings = cells.groupby(["model", "tp", "batch", "p2p"])

    def machine_at(x) -> Machine:
        m = copy.deepcopy(base)
        for name, value in zip(names, x):
            _set(m, name, _from_free(value, unknowns[name]))
        return m

    def loss(x) -> float:
        m = machine_at(x)
        total = 0.0
        for (model, tp, batch, p2p), rows in settings:
            predicted = {p.variant: p.tokens_per_s for p in predict(paper_workload(model, tp, batch, p2p), m,
                                                                    tuple(rows["variant"]))}
            total += sum(math.log(predicted[v] / t) ** 2 for v, t in zip(rows["variant"], rows["published_tokens_per_s"]))
        return total

    best, value = nelder_mead(loss, x0, iterations=iterations)
    best, value = nelder_mead(loss, best, step=0.1, iterations=iterations)  # a restart, smaller steps
    fitted = machine_at(best)
    fitted.provenance = {**base.provenance,
                         "fitted": {n: _get(fitted, n) for n in names},
                         "fitted_on": "reference rows model=llama-3-70b, tp=8, batch=1 (p2p on and off), tokens/s",
                         "fit_rms_log_error": math.sqrt(value / len(cells))}
    return fitted, cells


def paper_comparison(reference: pd.DataFrame, machine: Machine) -> pd.DataFrame:
    """Every reference row with a value: predicted tokens/s and speedup, the ratios to the
    published ones, within-tolerance flags, and whether the row was used for the fit."""
    rows = []
    for (model, tp, batch, p2p), group in reference.groupby(["model", "tp", "batch", "p2p"], sort=False):
        try:
            w = paper_workload(model, tp, batch, p2p)
        except AnalysisError as exc:
            for _, r in group.iterrows():
                rows.append({**r.to_dict(), "note": str(exc)})
            continue
        predicted = {p.variant: p for p in predict(w, machine, PAPER_VARIANTS)}
        for _, r in group.iterrows():
            p = predicted.get(r["variant"])
            rows.append({**r.to_dict(),
                         "predicted_tokens_per_s": p.tokens_per_s if p else np.nan,
                         "predicted_speedup": p.speedup if p else np.nan,
                         "predicted_wait_ms": p.wait_ms if p else np.nan,
                         "predicted_step_ms": 1e3 * p.step_s if p else np.nan})
    out = pd.DataFrame(rows)
    out["tokens_ratio"] = out["predicted_tokens_per_s"] / out["published_tokens_per_s"]
    out["speedup_ratio"] = out["predicted_speedup"] / out["published_speedup"]
    out["fit"] = out.apply(is_fit_cell, axis=1)
    # A standard row's speedup is 1 by definition on both sides: not a test of the model.
    out["speedup_tested"] = (out["variant"] != "standard") & out["published_speedup"].notna()
    out["tokens_within"] = (out["tokens_ratio"] - 1).abs() <= PAPER_TOLERANCE
    out["speedup_within"] = (out["speedup_ratio"] - 1).abs() <= PAPER_TOLERANCE
    return out


def paper_summary(out: pd.DataFrame) -> str:
    held = out[~out["fit"]]
    sp = held[held["speedup_tested"]]
    tok = held[held["published_tokens_per_s"].notna()]
    fit = out[out["fit"]]
    return (f"Held-out cells (all but the {len(fit)} 70B TP=8 batch-1 rows the unknowns were fitted on): "
            f"speedup within {PAPER_TOLERANCE:.0%} of the published one in {int(sp['speedup_within'].sum())} of "
            f"{len(sp)} ({100 * sp['speedup_within'].mean():.0f}%), median |error| "
            f"{100 * (sp['speedup_ratio'] - 1).abs().median():.1f}%; tokens/s within {PAPER_TOLERANCE:.0%} in "
            f"{int(tok['tokens_within'].sum())} of {len(tok)} ({100 * tok['tokens_within'].mean():.0f}%), median "
            f"|error| {100 * (tok['tokens_ratio'] - 1).abs().median():.1f}%. Fit cells: tokens/s errors "
            + ", ".join(f"{r.variant}/{r.p2p} {100 * (r.tokens_ratio - 1):+.1f}%" for r in fit.itertuples()) + ".")


def paper_table(out: pd.DataFrame, machine: Machine) -> Table:
    def pct(x):
        return MISSING if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * (x - 1):+.1f}%"

    display = out[["model", "tp", "batch", "p2p", "variant"]].copy()
    display["published tok/s"] = out["published_tokens_per_s"].map(number)
    display["predicted tok/s"] = out["predicted_tokens_per_s"].map(number)
    display["tok/s error"] = out["tokens_ratio"].map(pct)
    display["published speedup"] = out["published_speedup"].map(ratio)
    display["predicted speedup"] = out["predicted_speedup"].map(ratio)
    display["speedup error"] = [pct(r) if t else MISSING for r, t in zip(out["speedup_ratio"], out["speedup_tested"])]
    display["within 10%"] = [("fit" if f else ("yes" if w else "no")) if t else ("fit" if f else MISSING)
                             for f, w, t in zip(out["fit"], out["speedup_within"], out["speedup_tested"])]
    notes = [f"The paper's cells predicted by the performance model on `{machine.name}` "
             f"({machine.description}); prompt {PAPER_PROMPT_LEN}, {PAPER_GEN_LEN} generated tokens, fp16. "
             "Error = predicted / published - 1; `within 10%` judges the speedup (a standard row's is 1 on both "
             "sides and is not counted); `fit` marks the rows the unknowns were fitted on.",
             paper_summary(out)]
    return Table(out, display, ["model", "p2p", "variant", "within 10%"], notes)
