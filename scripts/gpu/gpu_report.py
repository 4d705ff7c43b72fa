#!/usr/bin/env python3
"""Helpers of scripts/gpu/bench-tp1.sh, on ladder-bench results files (docs/results-format.md).

  gpu_report.py argv REF.h5                 the ladder-bench flags that reproduce REF's runs (model,
                                            variant, batch, lengths, seed), one line
  gpu_report.py logits REF.h5 GOT.h5 [--tol 2e-2]
                                            relative L2 of GOT's saved logits vs REF's, per run of the
                                            same variant and batch (same prompt); exit 1 above --tol
  gpu_report.py table FILE.h5...            decode step vs the HBM roofline measured in each job
                                            (--roofline), as a Markdown table

Needs h5py and numpy only (both on the GPU machines' image).
"""
import argparse
import sys

import h5py
import numpy as np


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def runs(path):
    with h5py.File(path, "r") as f:
        if text(f.attrs.get("format", "")) != "ladderbench":
            sys.exit(f"error: {path}: not a ladderbench results file")
        root = {k: f.attrs[k] for k in f.attrs}
        out = []
        for name in sorted(f.get("runs", {})):
            g = f["runs"][name]
            r = {k: (text(v) if isinstance(v, (bytes, str)) else v) for k, v in g.attrs.items()}
            r["logits"] = np.asarray(g["logits"], dtype=np.float64) if "logits" in g else None
            r["prompt"] = np.asarray(g["prompt"])
            out.append(r)
        return root, out


def cmd_argv(a):
    root, rs = runs(a.ref)
    r = rs[0]
    print(f"--model {r['model']} --variant {r['variant']} --batch {int(r['batch'])} --prompt-len {int(r['prompt_len'])} "
          f"--gen-len {int(r['gen_len'])} --warmup 0 --reps 1 --seed {int(root['seed'])}")


def cmd_logits(a):
    _, ref = runs(a.ref)
    _, got = runs(a.got)
    worst, compared = 0.0, 0
    for g in got:
        if g["logits"] is None:
            continue
        match = [r for r in ref if r["variant"] == g["variant"] and r["batch"] == g["batch"] and r["logits"] is not None]
        if not match:
            continue
        r = match[0]
        if not np.array_equal(r["prompt"], g["prompt"]):
            sys.exit(f"error: {g['variant']} batch {g['batch']}: the two files' prompts differ (other --seed or lengths?)")
        err = float(np.linalg.norm(g["logits"] - r["logits"]) / np.linalg.norm(r["logits"]))
        same_top = float(np.mean(np.argmax(g["logits"], -1) == np.argmax(r["logits"], -1)))
        print(f"logits {g['variant']} batch {int(g['batch'])} {g.get('dtype', '?')} vs {r.get('dtype', '?')}: "
              f"relative L2 {err:.3e} (bound {a.tol:g}); same argmax in {100 * same_top:.0f}% of rows")
        worst, compared = max(worst, err), compared + 1
    if compared == 0:
        sys.exit("error: no run with saved logits matches the reference's variant and batch")
    if worst > a.tol:
        print(f"FAILED: relative L2 {worst:.3e} > {a.tol:g}")
        sys.exit(1)


def cmd_table(a):
    print("| model | weights | batch | decode step ms (median) | bytes/step GB | achieved GB/s | HBM triad GB/s | % of roofline "
          "| prefill ms | prefill TFLOP/s | tokens/s | CUDA graph |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for path in a.files:
        root, rs = runs(path)
        triad = float(root.get("roofline_stream_triad_Bps", float("nan")))
        for r in rs:
            step = float(r["decode_step_s_median"])
            print(f"| {r['model']} | {r['dtype']} | {int(r['batch'])} | {1e3 * step:.3f} | "
                  f"{1e-9 * float(r['decode_bytes_per_step']):.2f} | {1e-9 * float(r['decode_achieved_Bps']):.0f} | "
                  f"{1e-9 * triad:.0f} | {100 * float(r['decode_achieved_Bps']) / triad:.0f}% | "
                  f"{1e3 * float(r['prefill_s_median']):.1f} | {1e-12 * float(r['prefill_achieved_flops']):.1f} | "
                  f"{float(r['tokens_per_s_median']):.1f} | {'yes' if float(r.get('cuda_graph', 0)) else 'no'} |")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("argv")
    s.add_argument("ref")
    s.set_defaults(run=cmd_argv)
    s = sub.add_parser("logits")
    s.add_argument("ref")
    s.add_argument("got")
    s.add_argument("--tol", type=float, default=2e-2)
    s.set_defaults(run=cmd_logits)
    s = sub.add_parser("table")
    s.add_argument("files", nargs="+")
    s.set_defaults(run=cmd_table)
    a = p.parse_args()
    a.run(a)


if __name__ == "__main__":
    main()
