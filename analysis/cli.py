"""Command line: `python -m analysis {load,table,compare,plot,report,predict,fit-paper} ...` (see analysis/README.md).

Problems with the user's input end in one `error: ...` line on stderr and exit status 2, never a
traceback; a traceback means a bug in this package.
"""
from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from .calibrate import load_machine, model_config_of
from .calibrations import Calibrations
from .cells import cell_stats
from .compare import DEFAULT_REFERENCE, compare, compare_table, load_reference, summary
from .errors import AnalysisError, AnalysisWarning
from .load import load_inventory, load_results
from .machine import Machine
from .paper import fit_paper, paper_comparison, paper_table
from .perfmodel import VARIANTS
from .plots import plot_all
from .predict import add_predictions, latency_curves, prediction_table
from .predict_check import SPEEDUP_TOLERANCE, TOKENS_TOLERANCE, check, check_table
from .render import FORMATS, parse_formats, to_markdown, write_table, write_text
from .tables import speedup_table, write_tables
from .workload import DTYPE_BYTES, Shape, Workload

DEFAULT_RESULTS = Path("results")


def _cmd_load(args) -> None:
    samples, files = load_inventory(args.paths)
    runs = samples.groupby(["file", "run"], sort=False).agg(
        model=("model", "first"), variant=("variant", "first"), tp=("tp", "first"), batch=("batch", "first"),
        p2p=("p2p", "first"), link=("link", "first"), reps=("rep", "size"),
        tokens_per_s_median=("tokens_per_s", "median"))
    partial = files.loc[files["complete"] == 0, "file"]
    print(f"{len(files)} file(s), {len(runs)} run(s), {len(samples)} sample(s)"
          + (f"; partial (complete=0): {', '.join(partial)}" if len(partial) else ""))
    if len(runs):
        print(runs.reset_index().to_string(index=False))
    if args.csv:
        write_text(Path(args.csv), samples.to_csv(index=False))
        print(f"wrote {args.csv}", file=sys.stderr)


def _predicted(paths, args):
    """(stats, samples, calibrations): cell_stats of the results under `paths` with the model's
    predicted columns, on one machine from --machine/--calibrate, else each file's own --roofline
    with the ladder-allreduce files found among `paths` (cells without a calibration get NaN)."""
    samples = load_results(paths)
    machine = load_machine(getattr(args, "machine", None), getattr(args, "calibrate", None))
    calibrations = Calibrations.discover(paths, machine, getattr(args, "calibration", "job"))
    return add_predictions(cell_stats(samples), samples, calibrations), samples, calibrations


def _predicted_stats(paths, args):
    return _predicted(paths, args)[0]


def _figures(paths, args, out_dir):
    stats, samples, calibrations = _predicted(paths, args)
    return plot_all(stats, out_dir, latency_curves(stats, samples, calibrations))


def _cmd_table(args) -> None:
    stats = _predicted_stats(args.paths, args)
    written = write_tables(stats, args.out_dir, parse_formats(args.format))
    print(to_markdown(speedup_table(stats)), end="")
    _report_written(written)


def _cmd_compare(args) -> None:
    stats = _predicted_stats(args.paths, args)
    reference = load_reference(args.reference)
    table = compare_table(compare(stats, reference, args.tolerance), reference, args.tolerance)
    print(to_markdown(table), end="")
    if args.out_dir:
        _report_written(write_table(args.out_dir, "compare", table, parse_formats(args.format)))


def _cmd_plot(args) -> None:
    written = _figures(args.paths, args, args.out_dir)
    if not written:
        print("no figure: each needs two TP degrees, two batch sizes, two models or breakdown_* "
              "datasets in one setting, and these results have none of them", file=sys.stderr)
    _report_written(written)


def _cmd_report(args) -> None:
    """results/ -> results/tables/ and results/figures/ in one go (plus compare if a reference exists)."""
    results = Path(args.results_dir)
    tables_dir = args.tables_dir or results / "tables"
    figures_dir = args.figures_dir or results / "figures"
    stats = _predicted_stats([results], args)
    written = write_tables(stats, tables_dir, FORMATS)
    print(to_markdown(speedup_table(stats)))
    if Path(args.reference).is_file():
        reference = load_reference(args.reference)
        result = compare(stats, reference, args.tolerance)
        written += write_table(tables_dir, "compare", compare_table(result, reference, args.tolerance), FORMATS)
        print(summary(result, reference, args.tolerance))  # the details are in compare.md
    else:
        print(f"note: no reference table at {args.reference}; skipped the comparison", file=sys.stderr)
    written += _figures([results], args, figures_dir)
    _report_written(written)


def _int_list(text: str, flag: str) -> list[int]:
    try:
        values = [int(v) for v in str(text).split(",")]
    except ValueError:
        raise AnalysisError(f"{flag} {text}: expected integers separated by commas") from None
    if any(v < 0 for v in values):
        raise AnalysisError(f"{flag} {text}: must not be negative")
    return values


def _float_list(text: str, flag: str) -> list[float]:
    try:
        return [float(v) for v in str(text).split(",")]
    except ValueError:
        raise AnalysisError(f"{flag} {text}: expected numbers separated by commas") from None


def _variants(text: str) -> tuple:
    if text == "all":
        return VARIANTS
    variants = tuple(v.strip() for v in text.split(","))
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise AnalysisError(f"--variants: unknown {', '.join(unknown)} (choose from {', '.join(VARIANTS)} or all)")
    return variants


def _cmd_predict(args) -> int:
    formats = parse_formats(args.format)
    if args.check is not None:
        stats = _predicted_stats(args.check or [DEFAULT_RESULTS], args)
        if not stats["predicted_tokens_per_s"].notna().any():
            raise AnalysisError("no measured cell has a calibration: the results need --roofline, and TP > 1 a "
                                "ladder-allreduce file (link 0) among the paths, or give --machine/--calibrate")
        result = check(stats, args.tokens_tolerance, args.speedup_tolerance)
        table = check_table(result, args.tokens_tolerance, args.speedup_tolerance)
        print(to_markdown(table), end="")
        if args.out_dir:
            _report_written(write_table(args.out_dir, "predict-check", table, formats))
        return 0 if (result["verdict"] == "ok").all() else 1
    machine = load_machine(args.machine, args.calibrate)
    if machine is None:
        raise AnalysisError("predict needs a machine: --machine FILE.json or --calibrate RESULTS.h5 [ALLREDUCE.h5 ...]")
    if args.reference is not None:
        out = paper_comparison(load_reference(args.reference), machine)
        table = paper_table(out, machine)
        print(to_markdown(table), end="")
        if args.out_dir:
            _report_written(write_table(args.out_dir, "predict-paper", table, formats))
        return 0
    workloads = _workloads(args)
    table = prediction_table(workloads, machine, _variants(args.variants))
    print(to_markdown(table), end="")
    if args.out_dir:
        _report_written(write_table(args.out_dir, "predict", table, formats))
    return 0


def _workloads(args) -> list[Workload]:
    """--model/--tp/... ; unset ones from the --calibrate results file's runs where there is one."""
    runs = load_results([args.calibrate[0]]) if args.calibrate else None
    def from_runs(column, fallback):
        return sorted(runs[column].unique().tolist()) if runs is not None and len(runs) else fallback

    if args.model:
        shape = Shape.named(args.model)
    elif args.calibrate:
        shape = Shape.from_config(model_config_of(Path(args.calibrate[0])), str(runs["model"].iloc[0]))
    else:
        raise AnalysisError("--model NAME (or a config) is required without --calibrate")
    if args.ladder_layers is not None:
        shape = Shape(**{**vars(shape), "ladder_layers": args.ladder_layers})
    tps = _int_list(args.tp, "--tp") if args.tp else from_runs("tp", [1])
    batches = _int_list(args.batch, "--batch") if args.batch else from_runs("batch", [1])
    prompts = _int_list(args.prompt_len, "--prompt-len") if args.prompt_len else from_runs("prompt_len", [1024])
    gens = _int_list(args.gen_len, "--gen-len") if args.gen_len else from_runs("gen_len", [512])
    dtype = args.dtype or (str(runs["dtype"].iloc[0]) if runs is not None and len(runs) else "fp32")
    if dtype not in DTYPE_BYTES:
        raise AnalysisError(f"--dtype {dtype}: choose from {', '.join(DTYPE_BYTES)}")
    if args.link_latency_us is not None:
        latencies = _float_list(args.link_latency_us, "--link-latency-us")
    elif runs is not None and len(runs) and int(runs["link_emulated"].iloc[0]):
        latencies = [float(runs["link_latency_us"].iloc[0])]
    else:
        latencies = [0.0]
    bandwidth = args.link_bandwidth_gbps
    if bandwidth is None:
        bandwidth = (float(runs["link_bandwidth_gbps"].iloc[0]) if runs is not None and len(runs)
                     and int(runs["link_emulated"].iloc[0]) else 0.0)
    wb = DTYPE_BYTES[dtype]
    return [Workload(shape, tp=tp, batch=b, prompt_len=p, gen_len=g, weight_bytes=wb, act_bytes=4,
                     wire_bytes=4 if wb == 4 else 2, p2p=args.p2p, link_latency_us=lat, link_bandwidth_gbps=bandwidth)
            for tp in tps for lat in latencies for b in batches for p in prompts for g in gens]


def _cmd_fit_paper(args) -> int:
    base = Machine.from_json(args.base)
    fitted, cells = fit_paper(base, load_reference(args.reference))
    fitted.name = args.name or f"{base.name}, fitted"
    fitted.provenance["base"] = str(args.base)
    write_text(Path(args.out), fitted.to_json())
    print(f"fitted on {len(cells)} cells (70B, TP=8, batch 1): " +
          ", ".join(f"{k} = {v:.4g}" for k, v in fitted.provenance["fitted"].items()), file=sys.stderr)
    _report_written([args.out])
    return 0


def _report_written(paths) -> None:
    for path in paths:
        print(f"wrote {path}", file=sys.stderr)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m analysis", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def inputs(p):
        p.add_argument("paths", nargs="*", default=[DEFAULT_RESULTS], metavar="FILE_OR_DIR",
                       help="result files (*.h5, *.h5.partial) or folders searched recursively [results]")

    def formats(p):
        p.add_argument("--format", default=",".join(FORMATS),
                       help=f"comma-separated output formats out of {','.join(FORMATS)} [all]")

    def calibration(p):
        p.add_argument("--machine", type=Path, metavar="FILE.json",
                       help="predict every cell on this machine description (instead of each file's own roofline)")
        p.add_argument("--calibrate", nargs="+", metavar="H5",
                       help="predict every cell on the machine measured by RESULTS.h5 (--roofline) and "
                            "ladder-allreduce files")

    def reference(p):
        p.add_argument("--reference", default=DEFAULT_REFERENCE, type=Path,
                       help="published numbers CSV [results/reference/paper-numbers.csv]")
        p.add_argument("--tolerance", default=0.10, type=float,
                       help="flag cells whose measured/published ratio is off by more than this [0.10]")

    p = sub.add_parser("load", help="read results into one tidy table (one row per sample)")
    inputs(p)
    p.add_argument("--csv", metavar="OUT", help="write the tidy table to this CSV file")
    p.set_defaults(run=_cmd_load)

    p = sub.add_parser("table", help="speedup and latency-breakdown tables (Markdown, CSV, LaTeX)")
    inputs(p)
    p.add_argument("--out-dir", type=Path, default=DEFAULT_RESULTS / "tables", help="[results/tables]")
    formats(p)
    calibration(p)
    p.set_defaults(run=_cmd_table)

    p = sub.add_parser("compare", help="measured cells next to the paper's published numbers")
    inputs(p)
    reference(p)
    p.add_argument("--out-dir", type=Path, help="also write compare.{md,csv,tex} here")
    formats(p)
    calibration(p)
    p.set_defaults(run=_cmd_compare)

    p = sub.add_parser("plot", help="figures (PNG and PDF)")
    inputs(p)
    p.add_argument("--out-dir", type=Path, default=DEFAULT_RESULTS / "figures", help="[results/figures]")
    calibration(p)
    p.set_defaults(run=_cmd_plot)

    p = sub.add_parser("report", help="results/ -> results/tables/ and results/figures/ in one go")
    p.add_argument("results_dir", nargs="?", default=DEFAULT_RESULTS, metavar="RESULTS_DIR", help="[results]")
    p.add_argument("--tables-dir", type=Path, help="[RESULTS_DIR/tables]")
    p.add_argument("--figures-dir", type=Path, help="[RESULTS_DIR/figures]")
    reference(p)
    calibration(p)
    p.set_defaults(run=_cmd_report)

    p = sub.add_parser("predict", help="the performance model: predictions, --check against measurements, "
                                       "--reference against the paper")
    calibration(p)
    p.add_argument("--model", help="config.json, its folder, or a name under configs/models/ [the --calibrate file's]")
    p.add_argument("--tp", help="TP degrees, comma-separated [the --calibrate file's, else 1]")
    p.add_argument("--batch", help="batch sizes, comma-separated [the --calibrate file's, else 1]")
    p.add_argument("--prompt-len", help="prompt lengths [the --calibrate file's, else 1024]")
    p.add_argument("--gen-len", help="generated tokens [the --calibrate file's, else 512]")
    p.add_argument("--dtype", help="weights: fp32, bf16, fp16 [the --calibrate file's, else fp32]")
    p.add_argument("--variants", default="all", help=f"comma list of {', '.join(VARIANTS)}, or all [all]")
    p.add_argument("--ladder-layers", type=int, help="hybrid-ladder: final layers with the ladder residual [half]")
    p.add_argument("--link-latency-us", help="emulated link latency(s), comma-separated [the --calibrate file's, else 0]")
    p.add_argument("--link-bandwidth-gbps", type=float, help="emulated link bandwidth [the --calibrate file's, else 0]")
    p.add_argument("--p2p", default="on", choices=["on", "off"], help="the machine's link class [on]")
    p.add_argument("--check", nargs="*", metavar="FILE_OR_DIR",
                   help="predicted vs measured for every measured cell under these paths (each file calibrated "
                        "by its own --roofline and the ladder-allreduce files among them); exit 1 if a cell misses")
    p.add_argument("--calibration", default="job", choices=["job", "pooled"],
                   help="--check: each file's own roofline (job), or the median of all files' at the same rank "
                        "count (pooled) [job]")
    p.add_argument("--tokens-tolerance", type=float, default=TOKENS_TOLERANCE,
                   help=f"--check: largest |predicted/measured - 1| of tokens/s [{TOKENS_TOLERANCE}]")
    p.add_argument("--speedup-tolerance", type=float, default=SPEEDUP_TOLERANCE,
                   help=f"--check: largest |predicted - measured| speedup [{SPEEDUP_TOLERANCE}]")
    p.add_argument("--reference", nargs="?", const=DEFAULT_REFERENCE, type=Path, metavar="CSV",
                   help="predict every published cell of the reference table on --machine [paper-numbers.csv]")
    p.add_argument("--out-dir", type=Path, help="also write the table (predict, predict-check or predict-paper)")
    formats(p)
    p.set_defaults(run=_cmd_predict)

    p = sub.add_parser("fit-paper", help="fit a machine file's unknowns on the paper's 70B TP=8 batch-1 cells")
    p.add_argument("base", type=Path, help="machine file with the public specs and starting values")
    p.add_argument("--out", required=True, type=Path, help="where the fitted machine file goes")
    p.add_argument("--name", help="name of the fitted machine")
    p.add_argument("--reference", default=DEFAULT_REFERENCE, type=Path, help="[results/reference/paper-numbers.csv]")
    p.set_defaults(run=_cmd_fit_paper)
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"warning: {message}", file=sys.stderr)


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    with warnings.catch_warnings():  # restores the default warning display on exit
        warnings.simplefilter("always", AnalysisWarning)  # every skipped run, not just the first
        warnings.showwarning = _show_warning
        try:
            status = args.run(args)
        except AnalysisError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    return status or 0
