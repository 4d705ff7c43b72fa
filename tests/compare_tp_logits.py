#!/usr/bin/env python3
"""Compare the saved prefill logits (--save-logits) of two results files, e.g. TP=2 against TP=1.

Every run of TEST is matched to the run of REF with the same variant, batch, prompt and gen length,
and their logits must agree within --tol (absolute, the project's TP=N == TP=1 check). The
`upper-bound` variant is left out by name: it drops the all-reduces, so at TP>1 it computes another
function on purpose. Exits 1 on any difference, a run without a partner, or nothing to compare.
"""
import argparse
import sys

import h5py
import numpy as np

NOT_TP_INVARIANT = {"upper-bound"}


def runs_with_logits(path):
    out = {}
    with h5py.File(path, "r") as f:
        for g in f["runs"].values():
            if "logits" not in g:
                continue
            key = (str(g.attrs["variant"]), int(g.attrs["batch"]), int(g.attrs["prompt_len"]), int(g.attrs["gen_len"]))
            out[key] = np.asarray(g["logits"], dtype=np.float64)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("ref", help="reference results file (TP=1)")
    ap.add_argument("test", help="results file to check (TP>1)")
    ap.add_argument("--tol", type=float, default=1e-5)
    a = ap.parse_args()
    ref, test = runs_with_logits(a.ref), runs_with_logits(a.test)
    compared, bad = 0, []
    for key, logits in sorted(test.items()):
        if key[0] in NOT_TP_INVARIANT:
            print(f"skip {key}: {key[0]} is not TP-invariant by design")
            continue
        if key not in ref:
            bad.append(f"{key}: no run in {a.ref}")
            continue
        if ref[key].shape != logits.shape:
            bad.append(f"{key}: shape {logits.shape} vs {ref[key].shape}")
            continue
        diff = float(np.max(np.abs(logits - ref[key])))
        print(f"{key}: max |logits - ref| = {diff:.3g} (tol {a.tol:g})")
        compared += 1
        if not diff <= a.tol:
            bad.append(f"{key}: max difference {diff:.3g} > {a.tol:g}")
    if compared == 0:
        bad.append(f"no run with logits to compare in {a.test}")
    for b in bad:
        print(f"compare_tp_logits: FAIL {b}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
