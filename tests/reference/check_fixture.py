"""Checks a ladder-bench results file against the golden output of transformers stored with a
fixture (tests/fixtures/hf/<case>/: expected_logits.npy, expected_tokens.npy, prompt_ids.npy).

Usage: python3 tests/reference/check_fixture.py --fixture DIR --results FILE.h5 [--tol 1e-4]

Only the variants that are the model transformers computes are compared: standard, and
upper-bound at tp 1 (the others change the architecture; llama_ref.py checks them). Per run:
the prompt must be the fixture's, the relative L2 error of the last-position logits over the
batch at most --tol, the greedy tokens identical; where the fixture has expected_eval.json (the
run used --eval-tokens eval_tokens.npy), the run's eval NLL within --eval-tol (relative) of
transformers' loss over the same windows. Prints one line per run; exit 0 if all pass (and at
least one was checked), 1 otherwise.
"""
import json
import argparse
import pathlib
import sys

import h5py
import numpy as np


def text(value):
    return value.decode() if isinstance(value, (bytes, np.bytes_)) else str(value)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fixture", required=True)
    ap.add_argument("--results", required=True)
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--eval-tol", type=float, default=1e-5)
    a = ap.parse_args(argv)
    d = pathlib.Path(a.fixture)
    prompt, want_logits, want_tokens = (np.load(d / f) for f in ("prompt_ids.npy", "expected_logits.npy", "expected_tokens.npy"))
    want_eval = json.loads((d / "expected_eval.json").read_text()) if (d / "expected_eval.json").exists() else None
    checked = failed = 0
    with h5py.File(a.results, "r") as f:
        for rid, g in sorted(f["runs"].items()):
            variant, tp = text(g.attrs["variant"]), int(g.attrs["tp"])
            if variant != "standard" and not (variant == "upper-bound" and tp == 1):
                continue
            checked += 1
            problems = []
            if not np.array_equal(g["prompt"][()], prompt):
                problems.append("prompt differs from prompt_ids.npy")
            logits = g["logits"][()].astype(np.float64)
            rel = np.linalg.norm(logits - want_logits) / np.linalg.norm(want_logits) if logits.shape == want_logits.shape else np.inf
            if not rel <= a.tol:
                problems.append(f"rel_l2 {rel:.3e} > {a.tol:g}")
            tokens = g["tokens"][()]
            same = tokens.shape == want_tokens.shape and np.array_equal(tokens, want_tokens)
            if not same:
                problems.append(f"tokens {tokens.tolist()} != transformers' {want_tokens.tolist()}")
            nll = ""
            if want_eval is not None:
                if "eval" not in g:
                    problems.append("no eval group (run with --eval-tokens eval_tokens.npy)")
                else:
                    e = g["eval"].attrs
                    err = abs(float(e["nll_mean"]) / want_eval["nll_mean"] - 1)
                    nll = f"eval_nll={float(e['nll_mean']):.7f} vs {want_eval['nll_mean']:.7f} "
                    if int(e["window"]) != want_eval["window"] or int(e["windows"]) != want_eval["windows"]:
                        problems.append(f"eval windows {int(e['windows'])} of {int(e['window'])}, transformers' "
                                        f"{want_eval['windows']} of {want_eval['window']}")
                    if not err <= a.eval_tol:
                        problems.append(f"eval NLL relative error {err:.2e} > {a.eval_tol:g}")
            print(f"{d.name} {rid} {variant} tp={tp} rel_l2={rel:.3e} tokens_match={same} {nll}"
                  + ("PASS" if not problems else "FAIL: " + "; ".join(problems)))
            failed += bool(problems)
    if checked == 0:
        print(f"FAIL: no standard run in {a.results}")
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
