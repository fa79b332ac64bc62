"""Cross-report answers: what the brokers covering one company say, as one cited table.

"哪些券商给了阳光电源买入评级？", "各家对阳光电源2026年归母净利润的预测分别是多少？", "Which brokers have a target
price on Tencent above HK$700?", "rating changes on Tencent": a company the library covers, a field and no single
broker named (the question model is :mod:`rag.crossquestion`). The answer is a table with one row per report on
the company, by date: broker, date, rating (with its action), target price and the asked forecast. Each cell
cites the line of its report that prints it: the report card's facts on the first page, a forecast on its
row's line (as figure answers cite a cell). "—" stands where the report states nothing. The sentence under
the table (:mod:`rag.crosssummary`) gives the as-of date, the range of the calls and the revisions.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from rag.companies import Coverage, companies, price
from rag.crossquestion import CrossQuestion, cross_question, rating_matches
from rag.crosssummary import COLUMNS, ReportRow, money, sentence
from rag.figures import find_cell
from rag.library import Library
from rag.retrieve import Filters
from rag.tables import Table, row_scale
from rag.terms import analyze
from rag.types import Answer, AnswerTable, Chunk, Citation, Document, Flag, Hit, TableCell, TableRow

__all__ = ["DASH", "cross_report", "table_answer"]

DASH = "—"
ChunksOn = Callable[[str, int], Sequence[Chunk]]  # (doc_id, page) -> the chunks covering that page
_ACTIONS_EN = {"维持": "maintained", "首次": "initiated", "上调": "upgraded", "下调": "downgraded"}
_HEADERS = {"broker": ("券商", "Broker"), "date": ("日期", "Date"), "rating": ("评级", "Rating"),
            "target_price": ("目标价", "Target price")}
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    ">": lambda a, b: a > b, "<": lambda a, b: a < b, ">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b}


def table_answer(library: Library, question: str, filters: Filters | None = None,
                 hits: Sequence[Hit] = ()) -> Answer | None:
    """The cross-report answer to ``question`` from the library's report cards and tables (``hits`` follow
    the cited passages), or ``None`` when it is not a cross-report question."""
    start = time.perf_counter()
    store = library.store
    docs = store.documents()
    asked = cross_question(question, companies(docs), [d.meta.get("publisher", "") for d in docs])
    if asked is None:
        return None

    def chunks_on(doc_id: str, page: int) -> list[Chunk]:
        where = {"$and": [{"doc_id": doc_id}, {"page": {"$lte": page}}, {"page_end": {"$gte": page}}]}
        return sorted(store.iter_chunks(where), key=lambda c: c.ordinal)

    found = cross_report(asked, {d.doc_id: d for d in docs}, store.tables, chunks_on, filters)
    if found is None:
        return None
    cited = {h.chunk.chunk_id for h in found.hits}
    return replace(found, hits=(*found.hits, *(h for h in hits if h.chunk.chunk_id not in cited)),
                   timings_ms={"table": round((time.perf_counter() - start) * 1000, 2)})


def cross_report(asked: CrossQuestion, docs: dict[str, Document], tables_of: Callable[[str], Sequence[Table]],
                 chunks_on: ChunksOn, filters: Filters | None = None) -> Answer | None:
    """The table answer for ``asked``: a refusal when no report states the asked field, ``None`` when the
    filters leave no report, or one and the question does not say it asks across reports."""
    covering = _reports(asked, filters)
    if covering is None:
        return None
    cells = _Cells(asked, docs, tables_of, chunks_on)
    rows = [cells.row(r) for r in covering if _passes(asked, r)]
    missing = _unstated(asked, rows)
    if missing:
        return _refusal(asked, missing, len(covering))
    fields = COLUMNS if "forecast" in asked.fields else COLUMNS[:-1]
    table = AnswerTable(cells.columns(fields), fields, tuple(r.row for r in rows), sentence(asked, rows, covering))
    flags = tuple(Flag("no_citation", f"{r.coverage.broker}: {c.value} (no line of the report prints it)")
                  for r in rows for c in r.row.cells if c.value != DASH and c.citation is None)
    return Answer(asked.text, _text(table), True, cells.citations(), cells.hits(), {}, flags, "", "extractive",
                  kind="table", table=table)


# --- Which reports -------------------------------------------------------------------------------------------


def _reports(asked: CrossQuestion, filters: Filters | None) -> list[Coverage] | None:
    """The company's reports within the filters (each broker's newest for "latest"); ``None`` where one report
    is left and the question does not say it asks across reports (it is that report's question)."""
    kept = [r for r in asked.company.reports if _in_filters(r, filters)]
    if not kept or (len(kept) == 1 and not asked.across):
        return None
    if asked.latest:
        newest = {r.broker or r.doc_id: r for r in kept}
        kept = [r for r in kept if newest[r.broker or r.doc_id] is r]
    return kept


def _in_filters(report: Coverage, filters: Filters | None) -> bool:
    if filters is None:
        return True
    if (filters.doc_ids and report.doc_id not in filters.doc_ids) or \
            (filters.publishers and report.broker not in filters.publishers):
        return False
    if filters.date_from and report.date and report.date < filters.date_from:
        return False
    return not (filters.date_to and report.date and report.date > filters.date_to)


def _passes(asked: CrossQuestion, report: Coverage) -> bool:
    """Whether a report meets the question's filters: the rating asked, the bound on the target, a revision."""
    if asked.ratings and not rating_matches(report.rating, asked.ratings):
        return False
    if asked.bound is not None:
        op, limit = asked.bound
        if report.target_price is None or not _COMPARE[op](report.target_price, limit):
            return False
    return not asked.revision or _revised(report, asked.revision)


def _revised(report: Coverage, direction: str) -> bool:
    target, previous = report.target_price, report.previous_target
    moved = 0.0 if target is None or previous is None else target - previous
    if direction == "down":
        return moved < 0 or report.rating_action == "下调"
    if direction == "up":
        return moved > 0 or report.rating_action == "上调"
    return moved != 0 or report.rating_action in ("上调", "下调", "首次")


def _unstated(asked: CrossQuestion, rows: Sequence[ReportRow]) -> str:
    """The asked field that no report states ("" when each is stated somewhere, or no row is left)."""
    if not rows:
        return ""
    if "forecast" in asked.fields and all(r.forecast_value is None for r in rows):
        return "forecast"
    if asked.fields == ("target_price",) and asked.bound is None and all(not r.target for r in rows):
        return "target_price"
    if asked.fields == ("rating",) and all(not r.coverage.rating for r in rows):
        return "rating"
    return ""


def _refusal(asked: CrossQuestion, field: str, count: int) -> Answer:
    zh = asked.lang == "zh"
    what = {"forecast": f"{asked.year}年{asked.metric_label}预测" if zh else f"{asked.year} {asked.metric_label} forecast",
            "target_price": "目标价" if zh else "target price", "rating": "评级" if zh else "rating"}[field]
    name = asked.company.name
    text = (f"库中覆盖{name}的{count}份报告都没有给出{what}。" if zh
            else f"None of the {count} reports on {name} in the library states a {what}.")
    return Answer(asked.text, text, False, reason=text, kind="refusal")


# --- Cells and their citations -------------------------------------------------------------------------------


class _Cells:
    """Reads each report's cells and numbers each quoted line once, [1], [2], … in reading order."""

    def __init__(self, asked: CrossQuestion, docs: dict[str, Document],
                 tables_of: Callable[[str], Sequence[Table]], chunks_on: ChunksOn) -> None:
        self.asked, self.docs, self.tables_of, self.chunks_on = asked, docs, tables_of, chunks_on
        self.zh = asked.lang == "zh"
        self.quoted: dict[tuple[str, int, int], tuple[int, Located]] = {}
        self.units: Counter[str] = Counter()

    def columns(self, fields: Sequence[str]) -> tuple[str, ...]:
        names = [_HEADERS[f][0 if self.zh else 1] for f in fields if f != "forecast"]
        if "forecast" in fields:
            unit = next(iter(self.units)) if len(self.units) == 1 else ""
            label = self.asked.metric_label
            names.append(f"{self.asked.year}E{label}" + (f"（{unit}）" if unit else "") if self.zh
                         else f"{self.asked.year}E {label}" + (f" ({unit})" if unit else ""))
        return tuple(names)

    def row(self, report: Coverage) -> ReportRow:
        meta = self.docs[report.doc_id].meta if report.doc_id in self.docs else {}
        first = self.chunks_on(report.doc_id, report.page)
        target, previous = meta.get("target_price", ""), meta.get("previous_target", "")
        cells = [self.cell(report.broker, _line(first, _words(report.broker), _NONE)),
                 self.cell(report.date, _line(first, _date_patterns(report.date), _NONE)),
                 self.cell(self.rating(report), _line(first, _rating_patterns(report.rating), _RATING_LABEL)),
                 self.cell(self.target(report, target, previous), _line(first, _price_patterns(target), _TARGET_LABEL))]
        forecast: tuple[str, float | None, str, Located | None] = ("", None, "", None)
        if "forecast" in self.asked.fields:
            forecast = self.forecast(report.doc_id)
            shown = f"{forecast[0]} {forecast[2]}".strip() if forecast[0] else ""
            cells.append(self.cell(shown, forecast[3]))
        return ReportRow(TableRow(tuple(cells), report.doc_id, report.source, report.date), report, target,
                         previous, forecast[0], forecast[1], forecast[2])

    def cell(self, value: str, located: Located | None) -> TableCell:
        if not value:
            return TableCell(DASH)
        if located is None:
            return TableCell(value)
        key = (located.chunk.chunk_id, located.start, located.end)
        if key not in self.quoted:
            self.quoted[key] = (len(self.quoted) + 1, located)
        return TableCell(value, self.quoted[key][0])

    def rating(self, report: Coverage) -> str:
        action = report.rating_action
        if not report.rating or not action:
            return report.rating
        return f"{report.rating}（{action}）" if self.zh else f"{report.rating} ({_ACTIONS_EN.get(action, action)})"

    def target(self, report: Coverage, printed: str, previous: str) -> str:
        if not printed:
            return ""
        shown = money(printed, report.target_currency, self.zh)
        if not previous:
            return shown
        before = money(previous, report.target_currency, self.zh)
        return f"{shown}（原{before}）" if self.zh else f"{shown} (from {before})"

    def forecast(self, doc_id: str) -> tuple[str, float | None, str, Located | None]:
        """(printed value, value, unit, its row's line) of the asked metric in the asked year's column."""
        year = self.asked.year
        tables = [t for t in self.tables_of(doc_id) if any(p.startswith(year) for p in t.periods)]
        found = find_cell(self.asked.metric, tables, year, {}, doc_id, analyze(self.asked.metric_label)) \
            if tables and year else None
        if found is None or found.cell.value is None:
            return "", None, "", None
        word, _ = row_scale(found.row, found.table)
        bracket = _UNIT.search(found.row.label)
        unit = found.row.unit or (bracket.group(1).strip() if bracket else word)
        self.units[unit] += 1
        located = _line(self.chunks_on(doc_id, found.table.page), [_spaced(found.row.line)], _NONE)
        return found.cell.text, found.cell.value, unit, located

    def citations(self) -> tuple[Citation, ...]:
        chunks = list(dict.fromkeys(located.chunk.chunk_id for _, located in self.quoted.values()))
        return tuple(Citation(n, c.chunk_id, c.doc_id, c.source, c.title, c.page_at(located.start), c.section,
                              located.quote, located.start, located.end, hit=chunks.index(c.chunk_id) + 1)
                     for n, located in self.quoted.values() for c in [located.chunk])

    def hits(self) -> tuple[Hit, ...]:
        chunks = dict.fromkeys(located.chunk for _, located in self.quoted.values())
        return tuple(Hit(chunk, 1.0, {"table": i}) for i, chunk in enumerate(chunks, 1))


# --- Finding the printed line --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Located:
    """A line of a report's text that prints a cell: the chunk holding it and the quoted span of its text."""

    chunk: Chunk
    start: int
    end: int

    @property
    def quote(self) -> str:
        return self.chunk.text[self.start:self.end]


_TARGET_LABEL = re.compile(r"(?i:target|price\s+objective|\bPO\b|\bTP\b|\bPT\b)|目标价")
_NONE = re.compile(r"(?!)")  # no label to prefer
_RATING_LABEL = re.compile(r"(?i:rating|maintain|reiterate|reaffirm|initiat|upgrade|downgrade)|评级|维持|首次|上调|下调")


def _line(chunks: Sequence[Chunk], patterns: Iterable[re.Pattern[str]],
          label: re.Pattern[str]) -> Located | None:
    """The best line of ``chunks`` printing one of ``patterns`` (a line with ``label`` first, then the shorter), cut to the clause around what it prints; ``None`` when no line prints it."""
    patterns = list(patterns)
    best: tuple[tuple[int, int], Located] | None = None
    for chunk in chunks:
        offset = 0
        for line in chunk.text.split("\n"):
            match = next((m for m in (p.search(line) for p in patterns) if m), None) if line.strip() else None
            if match:
                key = (0 if label.search(line) else 1, len(line))
                start, end = _clause(line, match.start(), match.end(), label)
                if best is None or key < best[0]:
                    best = (key, Located(chunk, offset + start, offset + end))
            offset += len(line) + 1
    return best[1] if best else None


_BOUNDARY = "。；;，,"
_WHOLE_LINE = 40  # characters: a line this short is quoted whole
_UNIT = re.compile(r"[（(]([^（()）]{1,12})[)）]\s*$")  # "Net profit (RMB mn)"
_TAIL = re.compile(r"(?:\s*(?:元人民币|人民币|港元|港币|美元|元|HKD|CNY|RMB|USD))?(?:\s*[（(][^（()）]{0,24}[）)])?")
_CLAUSE = 24  # characters: a line's text this far around a match stays in the quote


def _clause(line: str, start: int, end: int, label: re.Pattern[str]) -> tuple[int, int]:
    """The span of ``line`` quoted for a match at ``start:end``: the line, or where the cleaner joined lines
    into one, the clause holding the match (from its ``label`` before it to its unit and a bracket after it)."""
    if len(line.strip()) <= _WHOLE_LINE:
        return len(line) - len(line.lstrip()), len(line.rstrip())
    before = max(line.rfind(ch, 0, start) for ch in _BOUNDARY) + 1
    labels = [m.start() for m in label.finditer(line, before, start) if start - m.start() <= 2 * _CLAUSE]
    if labels:
        before = labels[-1]
    elif start - before > _CLAUSE:
        space = line.rfind(" ", 0, start - _CLAUSE)
        before = space + 1 if space >= before else start - _CLAUSE
    ends = [i for i in (line.find(ch, end) for ch in _BOUNDARY) if i >= 0]
    after = min(ends, default=len(line))
    if after - end > _CLAUSE // 2:
        after = _TAIL.match(line, end).end()  # type: ignore[union-attr]  # it matches the empty string
    text = line[before:after]
    return before + len(text) - len(text.lstrip()), before + len(text.rstrip())


def _words(text: str) -> list[re.Pattern[str]]:
    return [re.compile(rf"(?<![A-Za-z]){re.escape(text)}(?![A-Za-z])", re.I)] if text else []


def _spaced(line: str) -> re.Pattern[str]:
    return re.compile(r"\s+".join(re.escape(part) for part in line.split()))


def _rating_patterns(rating: str) -> list[re.Pattern[str]]:
    if not rating:
        return []
    words = [rating, *({"Outperform": ["O-PF"], "Overweight": ["OW"]}.get(rating, []))]
    return [re.compile(rf"(?<![A-Za-z]){re.escape(w)}(?![A-Za-z])", re.I) for w in words]


def _price_patterns(printed: str) -> list[re.Pattern[str]]:
    value = price(printed)
    if value is None:
        return []
    whole = f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}".rstrip("0")
    forms = {whole, whole.replace(",", "")}
    return [re.compile(rf"(?<![\d.,]){re.escape(f)}(?:\.0+)?(?![\d,]|\.\d)") for f in forms]


def _date_patterns(date: str) -> list[re.Pattern[str]]:
    match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", date)
    if not match:
        return []
    year, month, day = match.group(1), int(match.group(2)), int(match.group(3))
    months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    name = months[month - 1]
    return [re.compile(rf"{year}\s*年\s*0?{month}\s*月\s*0?{day}\s*日"),
            re.compile(rf"{year}\s*[-/.]\s*0?{month}\s*[-/.]\s*0?{day}(?!\d)"),
            re.compile(rf"(?<!\d)0?{day}\s+{name}[a-z]*\.?,?\s+{year}", re.I),
            re.compile(rf"{name}[a-z]*\.?\s+0?{day},?\s+{year}", re.I)]


def _text(table: AnswerTable) -> str:
    """The table as Markdown with each cell's [n], then the sentence: what plain-text readers get."""
    def cell(c: TableCell) -> str:
        return c.value.replace("|", "/") + (f"[{c.citation}]" if c.citation else "")

    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(cell(c) for c in row.cells) + " |" for row in table.rows]
    return "\n".join(lines) + "\n\n" + table.summary
