"""Scores of a cross-report table answer against the rows its question expects (``Question.table``).

Per expected row (one report): is the report listed, does its row show the right broker, is the asked field's
value right ("—" where the report states none), and does the cell's citation lie on the page that prints it.
Over the listed rows: precision, the share of listed reports that the question expects. Written here: no
evaluation library scores tables of cited cells.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath

from eval.datasets import ExpectedRow, ExpectedTable
from eval.normalize import canonical, is_numeric_answer, numbers_in, same_quantity
from rag.types import Answer, Citation

__all__ = ["TableScore", "cell_matches", "score_table", "table_summary"]

DASH = "—"


@dataclass(frozen=True)
class TableScore:
    """Counts for one table question; the rates are computed over all table questions together."""

    expected: int  # rows the question expects
    listed: int  # rows the answer lists
    found: int  # expected rows whose report is listed
    extra: int  # listed rows of reports the question does not expect
    brokers: int  # found rows that show the expected broker
    values: int  # expected rows listed with the right value
    cited: int  # found rows with a stated value whose cell cites the expected page
    stated: int  # found rows whose expected value is stated (not "—") and has pages

    @property
    def recall(self) -> float | None:
        return self.found / self.expected if self.expected else None

    @property
    def precision(self) -> float | None:
        return (self.listed - self.extra) / self.listed if self.listed else None


def score_table(expected: ExpectedTable, answer: Answer) -> TableScore:
    """Match the answer's rows to the expected rows by report file and score each (no table: nothing found)."""
    table = answer.table if answer.answerable else None
    rows = table.rows if table is not None else ()
    column = table.column(expected.field) if table is not None else None
    broker_column = table.column("broker") if table is not None else None
    by_file = {_name(r.source): r for r in rows}
    wanted = {_name(e.file) for e in expected.rows}
    citations = {c.n: c for c in answer.citations}
    found = brokers = values = cited = stated = 0
    for row in expected.rows:
        listed = by_file.get(_name(row.file))
        if listed is None:
            continue
        found += 1
        brokers += broker_column is not None and _same_text(listed.cells[broker_column].value, row.broker)
        if column is None:
            continue
        cell = listed.cells[column]
        values += cell_matches(cell.value, row.value)
        if row.value != DASH and row.pages:
            stated += 1
            cited += _cites(citations.get(cell.citation or 0), row)
    extra = sum(_name(r.source) not in wanted for r in rows)
    return TableScore(len(expected.rows), len(rows), found, extra, brokers, values, cited, stated)


def cell_matches(shown: str, expected: str) -> bool:
    """Whether a cell shows the expected value: "—" only for "—"; a figure by its numbers (``155`` is
    ``155.00元``, ``11,036`` is ``11036 百万元``); a rating or other word as text within the cell."""
    if expected == DASH or shown == DASH:
        return shown == expected
    if is_numeric_answer(expected) and numbers_in(expected):
        head = shown.split("(from")[0].split("（原")[0]  # the new target, not the previous one
        return all(any(same_quantity(a, g) for a in numbers_in(head)) for g in numbers_in(expected))
    return bool(canonical(expected)) and canonical(expected) in canonical(shown)


def table_summary(scores: Sequence[TableScore], latencies: Sequence[float]) -> dict[str, float | int | None]:
    """Recall, precision, value accuracy, broker accuracy and citation-page accuracy over all table questions
    (rows pooled), and the p95 latency of their answers."""
    import numpy as np

    def rate(part: int, whole: int) -> float | None:
        return part / whole if whole else None

    total = {name: sum(getattr(s, name) for s in scores) for name in TableScore.__dataclass_fields__}
    return {
        "table_questions": len(scores),
        "table_recall": rate(total["found"], total["expected"]),
        "table_precision": rate(total["listed"] - total["extra"], total["listed"]),
        "table_values": rate(total["values"], total["expected"]),
        "table_brokers": rate(total["brokers"], total["found"]),
        "table_citations": rate(total["cited"], total["stated"]),
        "table_latency_p95_ms": float(np.percentile(latencies, 95)) if latencies else None,
    }


def _cites(citation: Citation | None, row: ExpectedRow) -> bool:
    return citation is not None and _name(citation.source) == _name(row.file) and citation.page in row.pages


def _same_text(shown: str, expected: str) -> bool:
    return canonical(shown) == canonical(expected)


def _name(file: str) -> str:
    return PurePath(file.replace("\\", "/")).name.casefold()

