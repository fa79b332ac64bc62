"""Labelled table cells (``eval/datasets/tables_gold.jsonl``) and how an extractor's tables are scored on them.

A gold table is a page of a development PDF and 5-9 cells read off the rendered page: row label and column
header as printed, the period the header names ("2018", "2026E", "2023-07-29", "current"), and the value as
printed with its sign. Where a page prints the same period under several column groups (three and six
months ended; net revenue and operating profit), the period carries the group after a slash
("2023-07-29/6M") and the table lists its ``groups`` left to right.

An extractor's output is reduced to :class:`Grid` (periods by column, rows of a label and one value per
column), so ours, pdfplumber and camelot are scored by the same rule: a gold cell is found when some grid on
its page has a row whose label matches (NFKC, no spaces, casefolded; one contains the other) and, under a
column of the gold period, the gold value.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["GOLD", "KINDS", "GoldCell", "GoldError", "GoldTable", "Grid", "Miss", "TableScore", "load_gold",
           "norm_label", "score_table"]

GOLD = Path(__file__).resolve().parent / "datasets" / "tables_gold.jsonl"
KINDS = frozenset({"income", "balance", "cash_flow", "equity", "forecast", "notes", "key_figures"})
_KEYS = frozenset({"id", "file", "page", "kind", "unit", "cells", "groups"})
_CELL_KEYS = frozenset({"row", "column", "period", "value"})
_WORDY = re.compile(r"[A-Za-z\u4e00-\u9fff]")


class GoldError(ValueError):
    """A gold line that cannot be read; the message names ``file:line`` and the problem."""


@dataclass(frozen=True)
class GoldCell:
    """One labelled cell: row label and column header as printed, the normalised period, the printed value."""

    row: str
    column: str
    period: str
    value: float


@dataclass(frozen=True)
class GoldTable:
    """A labelled table: its PDF (relative to the benchmarks folder), 1-based page, kind, unit and cells."""

    id: str
    file: str
    page: int
    kind: str
    unit: str
    cells: tuple[GoldCell, ...]
    groups: tuple[str, ...] = ()  # column groups left to right where one period repeats ("3M", "6M")

    @property
    def source(self) -> str:
        """The source group: ``filings``, ``annual report`` or ``broker``."""
        if self.file.startswith("financebench"):
            return "filings"
        return "annual report" if self.file.startswith("zh-dev") else "broker"


@dataclass(frozen=True)
class Grid:
    """An extracted table reduced to what scoring needs: a period per column, rows of label and values."""

    periods: tuple[str, ...]
    rows: tuple[tuple[str, tuple[float | None, ...]], ...]


@dataclass(frozen=True)
class Miss:
    """A gold cell an extractor did not yield, and the nearest reason: ``no table``, ``no period column``,
    ``no row`` or ``value`` (the row and column were there, the value was not: ``got`` says what was)."""

    cell: GoldCell
    reason: str
    got: str = ""


@dataclass(frozen=True)
class TableScore:
    table: GoldTable
    found: int
    misses: tuple[Miss, ...]

    @property
    def accuracy(self) -> float:
        return self.found / len(self.table.cells)


def load_gold(path: Path | str = GOLD) -> list[GoldTable]:
    """The gold tables of ``path``; :class:`GoldError` names the line of a malformed one."""
    tables = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                tables.append(_table(json.loads(line)))
            except (ValueError, KeyError, TypeError) as error:
                raise GoldError(f"{path}:{number}: {error}") from None
    return tables


def _table(row: dict) -> GoldTable:
    unknown = set(row) - _KEYS
    if unknown:
        raise ValueError(f"unknown fields {sorted(unknown)}")
    cells = []
    for cell in row["cells"]:
        if set(cell) != _CELL_KEYS:
            raise ValueError(f"a cell needs exactly {sorted(_CELL_KEYS)}, got {sorted(cell)}")
        if isinstance(cell["value"], bool) or not isinstance(cell["value"], int | float):
            raise ValueError(f"value {cell['value']!r} of {cell['row']!r} is not a number")
        cells.append(GoldCell(cell["row"], cell["column"], cell["period"], float(cell["value"])))
    table = GoldTable(id=row["id"], file=row["file"], page=int(row["page"]), kind=row["kind"],
                      unit=row["unit"], cells=tuple(cells), groups=tuple(row.get("groups", ())))
    if table.kind not in KINDS:
        raise ValueError(f"kind {table.kind!r} is none of {sorted(KINDS)}")
    grouped = {c.period.partition("/")[2] for c in table.cells} - {""}
    if not grouped <= set(table.groups):
        raise ValueError(f"periods name groups {sorted(grouped)} that 'groups' {list(table.groups)} lacks")
    return table


def norm_label(label: str) -> str:
    """A row label as compared: NFKC, whitespace removed, casefolded."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", label)).casefold()


def score_table(table: GoldTable, grids: Sequence[Grid]) -> TableScore:
    """How many of ``table``'s cells the ``grids`` extracted from its page yield, and why the rest are missed."""
    misses = [miss for cell in table.cells if (miss := _find(cell, table.groups, grids)) is not None]
    return TableScore(table, len(table.cells) - len(misses), tuple(misses))


def _find(cell: GoldCell, groups: tuple[str, ...], grids: Sequence[Grid]) -> Miss | None:
    if not grids:
        return Miss(cell, "no table")
    label = norm_label(cell.row)
    reason, got = "no period column", ""
    for grid in grids:
        columns = _period_columns(cell.period, groups, grid.periods)
        if not columns:
            continue
        reason = "no row" if reason == "no period column" else reason
        for row_label, values in grid.rows:
            if not _label_matches(label, norm_label(row_label)):
                continue
            for column in columns:
                value = values[column] if column < len(values) else None
                if value is not None and abs(value - cell.value) <= 1e-9 * max(1.0, abs(cell.value)):
                    return None
                reason, got = "value", got or f"{row_label}: {value}"
    return Miss(cell, reason, got)


def _label_matches(gold: str, extracted: str) -> bool:
    return bool(_WORDY.search(extracted)) and (gold in extracted or extracted in gold)


def _period_columns(period: str, groups: tuple[str, ...], periods: tuple[str, ...]) -> list[int]:
    """The columns of ``periods`` that stand for the gold ``period``: the same period and group, or the same
    period without a group where it is the only such column or the one at the group's position."""
    base, _, group = period.partition("/")
    exact = [i for i, p in enumerate(periods) if p == period]
    if exact:
        return exact
    if not group:  # the gold names no group: any group of the extractor's is fine
        return [i for i, p in enumerate(periods) if p.partition("/")[0] == base]
    same = [i for i, p in enumerate(periods) if p == base]
    if len(same) == 1:
        return same
    position = groups.index(group)
    return [same[position]] if position < len(same) else []
