"""Which table extractor reads the gold cells: ours (``ingest.tables``), pdfplumber (lines and text strategies)
and camelot (stream), on the pages of ``eval/datasets/tables_gold.jsonl``, with pages per second.

    python -m eval.tables_compare [--benchmarks DIR] [--out docs/tables.md]

pdfplumber and camelot come from the ``compare`` extra (``pip install -e .[compare]``); an extractor that
cannot be imported or run is reported with its error instead of a score. Their tables become
:class:`eval.tables_gold.Grid` by one rule (:func:`grids_from_cells`), so the comparison measures extraction,
not the adapter.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eval.tables_gold import GoldTable, Grid, TableScore, load_gold, score_table
from rag.tables import Table, is_value_token, parse_period, parse_value

__all__ = ["EXTRACTORS", "ExtractorRun", "grids_from_cells", "main", "ours_grids", "run_extractor"]

ROOT = Path(__file__).resolve().parents[1]
MARK_START, MARK_END = "<!-- tables_compare:start -->", "<!-- tables_compare:end -->"
SOURCES = ("filings", "annual report", "broker")
REPEATS = 2  # timed passes over the gold pages; the fastest counts (the 2-core machine's speed drifts)

PageGrids = dict[tuple[str, int], list[Grid]]  # (file, page) -> grids


@dataclass(frozen=True)
class ExtractorRun:
    """One extractor over the gold pages: a score per gold table, the pages it read and the seconds that took
    (or the error it raised instead)."""

    name: str
    scores: tuple[TableScore, ...]
    pages: int
    seconds: float
    error: str = ""

    @property
    def accuracy(self) -> float:
        return accuracy(self.scores)


def accuracy(scores: Iterable[TableScore]) -> float:
    scores = list(scores)
    cells = sum(len(s.table.cells) for s in scores)
    return sum(s.found for s in scores) / cells if cells else 0.0


# ---------------------------------------------------------------- extractors: (pdf path, 1-based page) -> grids


def ours_grids(tables: Iterable[Table]) -> list[Grid]:
    """Our tables as grids: a column's period is the resolved one, else its header text."""
    return [Grid(periods=tuple(p or c.strip() for p, c in zip(t.periods, t.columns)),
                 rows=tuple((r.label, tuple(c.value for c in r.cells)) for r in t.rows)) for t in tables]


def _ours_page(path: Path, page: int) -> list[Grid]:
    """Ours on one page alone (text layer, cleaning, rows): the per-page cost, for pages/s."""
    import pypdfium2 as pdfium

    from ingest.clean import clean_pages
    from ingest.tables import page_tables

    document = pdfium.PdfDocument(str(path))
    try:
        text = document[page - 1].get_textpage().get_text_range().replace("\r\n", "\n")
    finally:
        document.close()
    return ours_grids(page_tables(clean_pages([text], "pdf")[0], page))


def ours_document(path: Path) -> list[Table]:
    """Ours as ingestion runs it: every page of the file loaded and cleaned, then tables over all of them."""
    from ingest.clean import clean_pages
    from ingest.loaders import load
    from ingest.tables import extract_tables

    loaded = load(path, ocr=False)
    return extract_tables(clean_pages(loaded.pages, loaded.fmt), path.stem, path.name, path)


def _plumber(strategy: str) -> Callable[[Path, int], list[Grid]]:
    settings = {} if strategy == "lines" else {"vertical_strategy": "text", "horizontal_strategy": "text"}

    def extract(path: Path, page: int) -> list[Grid]:
        import pdfplumber

        with pdfplumber.open(str(path)) as pdf:
            return grids_from_cells(pdf.pages[page - 1].extract_tables(settings))
    return extract


def _camelot_stream(path: Path, page: int) -> list[Grid]:
    import camelot

    with warnings.catch_warnings():  # "No tables found in table area" for every text block without a table
        warnings.simplefilter("ignore")
        tables = camelot.read_pdf(str(path), pages=str(page), flavor="stream")
    return grids_from_cells(t.df.values.tolist() for t in tables)


EXTRACTORS: dict[str, Callable[[Path, int], list[Grid]]] = {
    "pdfplumber lines": _plumber("lines"),
    "pdfplumber text": _plumber("text"),
    "camelot stream": _camelot_stream,
}


# ---------------------------------------------------------------- cells -> grids (the baselines' adapter)


def grids_from_cells(tables: Iterable[Sequence[Sequence[Any]]]) -> list[Grid]:
    """Cell tables as grids. The header is the first row with two or more period cells (a cell's period is
    read with the cell above it first: "January 28," over "2023"); a table without one takes the page's last
    header. A row's label is its text cells before the first number; its numbers go to the period columns in
    order when there are as many, else each to its own column or the nearest period column left free."""
    grids: list[Grid] = []
    header: tuple[dict[int, str], int] | None = None  # period by column index, column count
    for raw in tables:
        rows = [[" ".join(str(c or "").split()) for c in row] for row in raw]
        start = 0
        for k, row in enumerate(rows):
            periods = {j: _cell_period(rows[k - 1][j] if k and j < len(rows[k - 1]) else "", cell)
                       for j, cell in enumerate(row)}
            periods = {j: p for j, p in periods.items() if p}
            if len(periods) >= 2:
                header, start = (periods, len(row)), k + 1
                break
        if header is None:
            continue
        columns, width = header
        order = sorted(columns)
        body = [r for row in rows[start:] if (r := _grid_row(row, order, width)) is not None]
        if body:
            grids.append(Grid(periods=tuple(columns[j] for j in order), rows=tuple(body)))
    return grids


def _cell_period(above: str, cell: str) -> str:
    return (parse_period(f"{above} {cell}") if above else "") or parse_period(cell)


def _grid_row(row: list[str], order: list[int], width: int) -> tuple[str, tuple[float | None, ...]] | None:
    numbers = [(j, cell) for j, cell in enumerate(row) if cell and cell != "$" and is_value_token(cell)]
    if not numbers:
        return None
    first = numbers[0][0]
    label = " ".join(c for c in row[:first] if c and c != "$" and not is_value_token(c))
    if not label:
        return None
    if len(numbers) == len(order):
        return label, tuple(parse_value(cell) for _, cell in numbers)
    if len(row) != width:
        return None  # a carried header's columns do not line up with this table's
    values: dict[int, float | None] = {}
    for j, cell in numbers:
        free = [c for c in order if c not in values]
        if not free:
            break
        target = j if j in free else min(free, key=lambda c: (abs(c - j), -c))
        values[target] = parse_value(cell)
    return label, tuple(values.get(c) for c in order)


# ---------------------------------------------------------------- runs


def run_extractor(name: str, extract: Callable[[Path, int], list[Grid]], gold: Sequence[GoldTable],
                  benchmarks: Path, repeats: int = REPEATS) -> ExtractorRun:
    """``extract`` on every gold page (the fastest of ``repeats`` passes is timed), then each gold table
    scored on its page's grids."""
    pages = sorted({(t.file, t.page) for t in gold})
    grids: PageGrids = {}
    seconds = float("inf")
    try:
        for _ in range(repeats):
            started = time.perf_counter()
            for file, page in pages:
                grids[(file, page)] = extract(benchmarks / file, page)
            seconds = min(seconds, time.perf_counter() - started)
    except Exception as error:  # noqa: BLE001 - a baseline that cannot run is reported, not fatal
        return ExtractorRun(name, (), len(pages), 0.0, f"{type(error).__name__}: {error}")
    return ExtractorRun(name, tuple(score_table(t, grids[(t.file, t.page)]) for t in gold), len(pages), seconds)


def run_ours(gold: Sequence[GoldTable], benchmarks: Path) -> tuple[ExtractorRun, int, float]:
    """Ours scored on whole documents (continued tables carry their header over), plus the documents' pages
    and seconds; its per-page speed comes from :func:`run_extractor` on single pages."""
    import pypdfium2 as pdfium

    grids: PageGrids = {}
    total_pages, started = 0, time.perf_counter()
    for file in sorted({t.file for t in gold}):
        tables = ours_document(benchmarks / file)
        total_pages += len(pdfium.PdfDocument(str(benchmarks / file)))
        for table in tables:
            grids.setdefault((file, table.page), []).extend(ours_grids([table]))
    seconds = time.perf_counter() - started
    per_page = run_extractor("ours", _ours_page, gold, benchmarks)
    scores = tuple(score_table(t, grids.get((t.file, t.page), [])) for t in gold)
    return ExtractorRun("ours", scores, per_page.pages, per_page.seconds), total_pages, seconds


# ---------------------------------------------------------------- report


def render(runs: Sequence[ExtractorRun], gold: Sequence[GoldTable], doc_pages: int, doc_seconds: float) -> str:
    """The markdown section: command, machine, accuracy by source, pages/s, and the cells ours misses."""
    digest = {name: hashlib.sha256((ROOT / name).read_bytes()).hexdigest()[:12]
              for name in ("ingest/tables.py", "rag/tables.py")}
    cells = sum(len(t.cells) for t in gold)
    lines = [MARK_START, "## Extractor comparison on the labelled tables", "",
             "Command: `python -m eval.tables_compare --out docs/tables.md`", "",
             f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}, "
             f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; `ingest/tables.py` sha256 {digest['ingest/tables.py']}, "
             f"`rag/tables.py` {digest['rag/tables.py']}. Gold: `eval/datasets/tables_gold.jsonl`, {len(gold)} "
             f"tables, {cells} cells on {len({(t.file, t.page) for t in gold})} pages, read off the rendered "
             "pages.", "",
             "| extractor | all | " + " | ".join(SOURCES) + " | pages/s (gold pages) |",
             "| --- | --- | " + " | ".join("---" for _ in SOURCES) + " | --- |"]
    for run in runs:
        if run.error:
            lines.append(f"| {run.name} | could not run: `{run.error[:200]}` |" + " |" * (len(SOURCES) + 1))
            continue
        by_source = [accuracy(s for s in run.scores if s.table.source == src) for src in SOURCES]
        rate = run.pages / run.seconds if run.seconds else 0.0
        lines.append(f"| {run.name} | {run.accuracy:.1%} | " + " | ".join(f"{a:.1%}" for a in by_source)
                     + f" | {rate:.1f} |")
    lines += ["", f"Ours over the whole documents (load, clean, tables): {doc_pages} pages in {doc_seconds:.1f} s, "
              f"{doc_pages / doc_seconds:.0f} pages/s. Pages/s on the gold pages: each page read alone (the file "
              f"opened, the page's tables extracted), the fastest of {REPEATS} passes.", "",
              "Per table (cells found / labelled):", "",
              "| table | page | " + " | ".join(r.name for r in runs if not r.error) + " |",
              "| --- | --- | " + " | ".join("---" for r in runs if not r.error) + " |"]
    for i, table in enumerate(gold):
        found = " | ".join(f"{r.scores[i].found}/{len(table.cells)}" for r in runs if not r.error)
        lines.append(f"| {table.id} | {table.page} | {found} |")
    ours = next(r for r in runs if r.name == "ours")
    lines += ["", "Cells ours misses (reason: `no table` on the page, `no period column` for the gold period, "
              "`no row` with that label, or the `value` differs):", ""]
    for score in ours.scores:
        for miss in score.misses:
            got = f" (got `{miss.got[:90]}`)" if miss.got else ""
            lines.append(f"- {score.table.id} p{score.table.page}: {miss.cell.row} / {miss.cell.column} = "
                         f"{_number(miss.cell.value)}: {miss.reason}{got}")
    return "\n".join([*lines, MARK_END]) + "\n"


def _number(value: float) -> str:
    return f"{int(value):,}" if value.is_integer() else f"{value:,}"


def write_section(path: Path, section: str) -> None:
    """Put ``section`` into ``path`` between the markers, replacing the previous one; other text stays."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Tables\n\n"
    start, end = text.find(MARK_START), text.find(MARK_END)
    if start >= 0 and end > start:
        rest = text[end + len(MARK_END):].lstrip("\n")
        text = text[:start] + section + ("\n" + rest if rest else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text, encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.tables_compare", description=__doc__.split("\n")[0])
    default = os.environ.get("REPORTQA_BENCHMARKS") or str(ROOT.parent / "shared" / "benchmarks")
    parser.add_argument("--benchmarks", type=Path, default=Path(default), help="the benchmarks folder")
    parser.add_argument("--gold", type=Path, default=None, help="gold file (default: the bundled one)")
    parser.add_argument("--out", type=Path, default=None, help="markdown file to write the section into")
    args = parser.parse_args(argv)
    if not args.benchmarks.is_dir():
        parser.error(f"no benchmarks folder at {args.benchmarks}; pass --benchmarks or set REPORTQA_BENCHMARKS")
    gold = load_gold(args.gold) if args.gold else load_gold()
    ours, doc_pages, doc_seconds = run_ours(gold, args.benchmarks)
    runs = [ours, *(run_extractor(name, extract, gold, args.benchmarks) for name, extract in EXTRACTORS.items())]
    section = render(runs, gold, doc_pages, doc_seconds)
    print(section)
    if args.out:
        write_section(args.out, section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
