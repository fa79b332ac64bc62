"""The labelled tables: format, values on their pages' text layers, the scoring rule, and our extractor's
recorded cell accuracy on a handful of them (docs/tables.md has the full comparison)."""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from pathlib import Path

import pytest

from eval.tables_compare import grids_from_cells, ours_document, ours_grids
from eval.tables_gold import GOLD, GoldError, Grid, load_gold, score_table

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = Path(os.environ.get("REPORTQA_BENCHMARKS") or ROOT.parent / "shared" / "benchmarks")
# Cells ours found when docs/tables.md was written, on tables of short documents: it may find more, never fewer.
RECORDED = {
    "fb-bestbuy2024q2-income": 8,
    "zh-sifang2019-note-taxes": 6,
    "zh-sifang2019-balance": 6,
    "br-dw-sungrow-p1": 7,
    "br-ky-sungrow-p1": 8,
    "br-cicc-tencent-pl": 8,
    "br-daiwa-tencent-pl": 9,
}


def needs_benchmarks() -> None:
    if not BENCHMARKS.is_dir():
        pytest.skip(f"{BENCHMARKS} is not available (set REPORTQA_BENCHMARKS)")


def test_gold_file_shape():
    tables = load_gold()
    assert len(tables) >= 30
    assert len({t.id for t in tables}) == len(tables)
    sources = Counter(t.source for t in tables)
    assert sources["filings"] >= 10 and sources["annual report"] >= 6 and sources["broker"] >= 8, sources
    for table in tables:
        assert table.file.endswith(".pdf") and not table.file.startswith("/"), table.id
        assert table.page >= 1, table.id
        assert 5 <= len(table.cells) <= 9, table.id
        for cell in table.cells:
            assert cell.row.strip() and cell.column.strip() and cell.period.strip(), (table.id, cell)
            assert isinstance(cell.value, float), (table.id, cell)
    negatives = sum(1 for t in tables for c in t.cells if c.value < 0)
    assert negatives >= 20, negatives


def test_gold_lines_are_validated(tmp_path):
    good = json.loads(GOLD.read_text(encoding="utf-8").splitlines()[0])
    for broken in ({**good, "cells": [{**good["cells"][0], "value": "1,577"}]},
                   {**good, "kind": "ratio"},
                   {**good, "colour": "red"}):
        path = tmp_path / "gold.jsonl"
        path.write_text(json.dumps(broken) + "\n", encoding="utf-8")
        with pytest.raises(GoldError, match=r"gold\.jsonl:1:"):
            load_gold(path)


def printed(value: float) -> set[str]:
    """The ways the page may print ``value``'s digits: with and without thousands separators."""
    text = repr(abs(value))
    decimals = 0 if text.endswith(".0") else len(text.split(".")[1])
    return {f"{abs(value):,.{decimals}f}", f"{abs(value):.{decimals}f}"}


def test_gold_values_are_on_their_pages():
    needs_benchmarks()
    pdfium = pytest.importorskip("pypdfium2")
    for table in load_gold():
        document = pdfium.PdfDocument(str(BENCHMARKS / table.file))
        try:
            text = re.sub(r"\s+", "", document[table.page - 1].get_textpage().get_text_range())
        finally:
            document.close()
        for cell in table.cells:
            assert any(form in text for form in printed(cell.value)), f"{table.id}: {cell} not on the page"


def test_scoring_matches_labels_periods_and_groups():
    table = next(t for t in load_gold() if t.id == "fb-bestbuy2024q2-income")
    periods = ("2023-07-29", "2022-07-30", "2023-07-29", "2022-07-30")  # no groups: read by position
    rows = (("Revenue", (9583.0, 10329.0, 19050.0, 20976.0)), ("Cost of sales", (7363.0, 8042.0, 14680.0, 16336.0)),
            ("Restructuring charges", (-7.0, 34.0, -16.0, 35.0)))
    score = score_table(table, [Grid(periods, rows)])
    assert score.found == 3
    assert {m.reason for m in score.misses} == {"no row"}
    swapped = tuple((r, v[2:] + v[:2]) for r, v in rows)
    assert score_table(table, [Grid(periods, swapped)]).found == 0  # six months' values under three months
    named = ("2023-07-29/6M", "2022-07-30/6M", "2023-07-29/3M", "2022-07-30/3M")
    assert score_table(table, [Grid(named, swapped)]).found == 3  # groups named: their order does not matter
    wrong = score_table(table, [Grid(periods, (("Revenue", (9584.0, None, None, None)),))])
    assert wrong.found == 0 and wrong.misses[0].reason == "value"


def test_cell_tables_become_grids():
    cells = [["(Millions)", "", "2018", "", "2017"],
             ["Net sales", "$", "32,765", "$", "31,657"],
             ["Gain on sale", "", "(547)", "", ""],
             ["Operating expenses", "", "", "", ""]]
    [grid] = grids_from_cells([cells])
    assert grid.periods == ("2018", "2017")
    assert grid.rows == (("Net sales", (32765.0, 31657.0)), ("Gain on sale", (-547.0, None)))
    stacked = grids_from_cells([[["", "January 28,", "January 29,"], ["", "2023", "2022"], ["Net sales", "1", "2"]]])
    assert stacked[0].periods == ("2023-01-28", "2022-01-29")


def test_ours_keeps_its_recorded_accuracy():
    needs_benchmarks()
    tables = [t for t in load_gold() if t.id in RECORDED]
    assert len(tables) == len(RECORDED)
    for file in sorted({t.file for t in tables}):
        extracted = ours_document(BENCHMARKS / file)
        for table in (t for t in tables if t.file == file):
            grids = ours_grids(x for x in extracted if x.page == table.page)
            score = score_table(table, grids)
            assert score.found >= RECORDED[table.id], (table.id, score.misses)
