"""Command line: `python -m analysis {load,table,compare,plot,report} ...` (see analysis/README.md).

Problems with the user's input end in one `error: ...` line on stderr and exit status 2, never a
traceback; a traceback means a bug in this package.
"""
from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from .cells import cell_stats
from .compare import DEFAULT_REFERENCE, compare, compare_table, load_reference, summary
from .errors import AnalysisError, AnalysisWarning
from .load import load_inventory, load_results
from .plots import plot_all
from .render import FORMATS, parse_formats, to_markdown, write_table, write_text
from .tables import speedup_table, write_tables

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


def _cmd_table(args) -> None:
    stats = cell_stats(load_results(args.paths))
    written = write_tables(stats, args.out_dir, parse_formats(args.format))
    print(to_markdown(speedup_table(stats)), end="")
    _report_written(written)


def _cmd_compare(args) -> None:
    stats = cell_stats(load_results(args.paths))
    reference = load_reference(args.reference)
    table = compare_table(compare(stats, reference, args.tolerance), reference, args.tolerance)
    print(to_markdown(table), end="")
    if args.out_dir:
        _report_written(write_table(args.out_dir, "compare", table, parse_formats(args.format)))


def _cmd_plot(args) -> None:
    written = plot_all(cell_stats(load_results(args.paths)), args.out_dir)
    if not written:
        print("no figure: each needs two TP degrees, two batch sizes, two models or breakdown_* "
              "datasets in one setting, and these results have none of them", file=sys.stderr)
    _report_written(written)


def _cmd_report(args) -> None:
    """results/ -> results/tables/ and results/figures/ in one go (plus compare if a reference exists)."""
    results = Path(args.results_dir)
    tables_dir = args.tables_dir or results / "tables"
    figures_dir = args.figures_dir or results / "figures"
    stats = cell_stats(load_results([results]))
    written = write_tables(stats, tables_dir, FORMATS)
    print(to_markdown(speedup_table(stats)))
    if Path(args.reference).is_file():
        reference = load_reference(args.reference)
        result = compare(stats, reference, args.tolerance)
        written += write_table(tables_dir, "compare", compare_table(result, reference, args.tolerance), FORMATS)
        print(summary(result, reference, args.tolerance))  # the details are in compare.md
    else:
        print(f"note: no reference table at {args.reference}; skipped the comparison", file=sys.stderr)
    written += plot_all(stats, figures_dir)
    _report_written(written)


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
    p.set_defaults(run=_cmd_table)

    p = sub.add_parser("compare", help="measured cells next to the paper's published numbers")
    inputs(p)
    reference(p)
    p.add_argument("--out-dir", type=Path, help="also write compare.{md,csv,tex} here")
    formats(p)
    p.set_defaults(run=_cmd_compare)

    p = sub.add_parser("plot", help="figures (PNG and PDF)")
    inputs(p)
    p.add_argument("--out-dir", type=Path, default=DEFAULT_RESULTS / "figures", help="[results/figures]")
    p.set_defaults(run=_cmd_plot)

    p = sub.add_parser("report", help="results/ -> results/tables/ and results/figures/ in one go")
    p.add_argument("results_dir", nargs="?", default=DEFAULT_RESULTS, metavar="RESULTS_DIR", help="[results]")
    p.add_argument("--tables-dir", type=Path, help="[RESULTS_DIR/tables]")
    p.add_argument("--figures-dir", type=Path, help="[RESULTS_DIR/figures]")
    reference(p)
    p.set_defaults(run=_cmd_report)
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"warning: {message}", file=sys.stderr)


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    with warnings.catch_warnings():  # restores the default warning display on exit
        warnings.simplefilter("always", AnalysisWarning)  # every skipped run, not just the first
        warnings.showwarning = _show_warning
        try:
            args.run(args)
        except AnalysisError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    return 0
