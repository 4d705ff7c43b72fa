"""Render tables of display strings as Markdown or LaTeX and write them with their CSV twin.

Written by hand rather than with pandas' to_markdown/to_latex, which need the optional
tabulate/jinja2 packages and give less control over missing cells and alignment.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .errors import AnalysisError

MISSING = "—"  # shown for every value that does not exist (e.g. a speedup without a standard run)
FORMATS = ("md", "csv", "tex")

_LATEX_ESCAPES = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", MISSING: "---",
}


@dataclass
class Table:
    """A table in two forms: `data` (numbers, for CSV) and `display` (strings, for Markdown and
    LaTeX); `text_columns` of display are left-aligned, the values right-aligned; `notes` explain
    it (legend, settings common to all rows)."""

    data: pd.DataFrame
    display: pd.DataFrame
    text_columns: list[str]
    notes: list[str]


def number(value) -> str:
    """4 significant digits with trailing zeros kept, so a column's decimals line up
    (77.39, 110.6, 2242, 0.8125); values of 10000 and more in full; NaN as MISSING."""
    if value is None or math.isnan(float(value)):
        return MISSING
    value = float(value)
    rounded = float(f"{value:.4g}")  # 999.96 prints as 1000, so it has 1000's magnitude
    magnitude = math.floor(math.log10(abs(rounded))) if rounded else 0
    return f"{value:.{max(3 - magnitude, 0)}f}"


def ratio(value) -> str:
    """Speedups and measured/published ratios: 2 decimals, as the paper prints them."""
    return MISSING if value is None or math.isnan(float(value)) else f"{float(value):.2f}"


def to_markdown(table: Table) -> str:
    """The notes as paragraphs, then a GitHub table."""
    def row(cells):
        return "| " + " | ".join(str(c).replace("|", r"\|") for c in cells) + " |"

    frame = table.display
    align = [":---" if c in table.text_columns else "---:" for c in frame.columns]
    lines = [row(frame.columns), row(align)] + [row(r) for r in frame.itertuples(index=False)]
    return "".join(f"{n}\n\n" for n in table.notes) + "\n".join(lines) + "\n"


def to_latex(table: Table) -> str:
    """A booktabs table (needs \\usepackage{booktabs}) with the notes as caption."""
    def row(cells):
        return " & ".join(_latex_escape(str(c)) for c in cells) + r" \\"

    frame, caption = table.display, " ".join(table.notes)
    spec = "".join("l" if c in table.text_columns else "r" for c in frame.columns)
    lines = [
        r"\begin{table}[t]", r"\centering", rf"\caption{{{_latex_escape(caption)}}}",
        rf"\begin{{tabular}}{{{spec}}}", r"\toprule", row(frame.columns), r"\midrule",
        *(row(r) for r in frame.itertuples(index=False)),
        r"\bottomrule", r"\end{tabular}", r"\end{table}",
    ]
    return "\n".join(lines) + "\n"


def _latex_escape(text: str) -> str:
    return "".join(_LATEX_ESCAPES.get(ch, ch) for ch in text)


def parse_formats(text: str) -> list[str]:
    """`md,csv` -> ["md", "csv"]; AnalysisError for anything else."""
    formats = [f.strip() for f in text.split(",") if f.strip()]
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise AnalysisError(f"--format {text!r}: choose one or more of {','.join(FORMATS)}")
    return formats


def write_table(out_dir: Path, stem: str, table: Table, formats) -> list[Path]:
    """Write stem.md / stem.tex (display strings) and stem.csv (the numbers behind them)."""
    texts = {
        "md": lambda: to_markdown(table),
        "tex": lambda: to_latex(table),
        "csv": lambda: table.data.to_csv(index=False),
    }
    written = []
    for fmt in formats:
        path = Path(out_dir) / f"{stem}.{fmt}"
        write_text(path, texts[fmt]())
        written.append(path)
    return written


def write_text(path: Path, text: str) -> None:
    """Create the folder as needed; a folder the user cannot write to is an input error."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise AnalysisError(f"{path}: cannot write ({exc.strerror or exc})") from None
