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

from rag.companies import Coverage, companies
from rag.crossquestion import CrossQuestion, broker_names, cross_question, rating_matches
from rag.crosssummary import COLUMNS, ReportRow, display_name, money, sentence
from rag.figures import Found, find_cell
from rag.library import Library
from rag.retrieve import Filters
from rag.tables import Row, Table, is_ratio_label, is_ratio_section, row_scale
from rag.terms import analyze, vocabulary
from rag.types import Answer, AnswerTable, Chunk, Citation, Document, Flag, Hit, TableCell, TableRow

__all__ = ["DASH", "Located", "cross_report", "forecast_cell", "printed_line", "rating_line", "table_answer", "target_move"]

DASH = "—"
# the chunks covering each (doc_id, page) asked for, read at once
ChunksOn = Callable[[Sequence[tuple[str, int]]], dict[tuple[str, int], list[Chunk]]]
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
    docs = [d for d in store.documents() if _broker_report(d)]  # filings and annual reports hold no cards
    if not docs:
        return None
    asked = cross_question(question, companies(docs), [d.meta.get("publisher", "") for d in docs])
    if asked is None:
        return None

    found = cross_report(asked, {d.doc_id: d for d in docs}, store.tables, store.chunks_on, filters)
    if found is None:
        return None
    cited = {h.chunk.chunk_id for h in found.hits}
    return replace(found, hits=(*found.hits, *(h for h in hits if h.chunk.chunk_id not in cited)),
                   timings_ms={"table": round((time.perf_counter() - start) * 1000, 2)})


def _broker_report(doc: Document) -> bool:
    """A broker's research report: its card names a report kind, a rating or a target price."""
    return any(doc.meta.get(key) for key in ("report_kind", "rating", "target_price"))


def cross_report(asked: CrossQuestion, docs: dict[str, Document], tables_of: Callable[[str], Sequence[Table]],
                 chunks_on: ChunksOn, filters: Filters | None = None) -> Answer | None:
    """The table answer for ``asked``: a refusal when no report states the asked field, ``None`` when the
    filters leave no report, or one and the question does not say it asks across reports."""
    covering = _reports(asked, filters)
    if covering is None:
        return None
    pages = chunks_on([(r.doc_id, r.page) for r in covering])
    moves = {r.doc_id: target_move(r, pages.get((r.doc_id, r.page), [])) for r in covering}
    reports = [r for r in covering if _passes(asked, r, moves[r.doc_id])]
    forecasts = {r.doc_id: forecast_cell(asked, tables_of(r.doc_id)) for r in reports} \
        if "forecast" in asked.fields else {}
    pages |= chunks_on([(doc_id, f.table.page) for doc_id, f in forecasts.items() if f is not None])
    cells = _Cells(asked, docs, pages)
    rows = [cells.row(r, forecasts.get(r.doc_id), moves[r.doc_id]) for r in reports]
    if not rows and asked.brokers and not asked.across:
        return None  # no card of the named broker's reports says it: its pages may (a target-price history)
    missing = _unstated(asked, rows)
    if missing:
        return _refusal(asked, missing, len(covering))
    fields = COLUMNS if "forecast" in asked.fields else COLUMNS[:-1]
    table = AnswerTable(cells.columns(fields), fields, tuple(r.row for r in rows), sentence(asked, rows, covering))
    flags = tuple(Flag("uncited_cell", f"{r.coverage.broker}: {c.value} (no line of its page prints it)")
                  for r in rows for c in r.row.cells if c.value != DASH and c.citation is None)
    return Answer(asked.text, _text(table), True, cells.citations(), cells.hits(), {}, flags, "", "extractive",
                  kind="table", table=table)


def forecast_cell(asked: CrossQuestion, tables: Sequence[Table]) -> Found | None:
    """The asked metric's cell in the asked year's full-year column (2026E, not 1Q26E) of a report's tables;
    rows of ratios and multiples (EV/Sales, 同比%) are not the metric unless it is one, and a row labelled as
    the question says it (归母净利润) comes before the vocabulary's other lines (净利润)."""
    year = asked.year
    term = next((t for t in vocabulary() if t.name == asked.metric), None)
    if not year or term is None:
        return None
    ratio = bool(term.display) or term.statement == "forecast"  # pe is a multiple
    kept = []
    for table in tables:
        if not any(p.startswith(year) for p in table.periods):
            continue
        if not ratio and is_ratio_section(table.title):
            continue  # "Revenue" under "Growth" is revenue growth
        rows = tuple(_full_year(row, year) for row in table.rows if ratio or not _multiple(row))
        kept.append(replace(table, rows=rows))
    if not kept:
        return None
    said = _label_key(asked.metric_label)
    own = [t for t in (replace(t, rows=tuple(r for r in t.rows if _label_key(r.label) == said)) for t in kept)
           if t.rows]
    query = analyze(asked.metric_label)
    found = (find_cell(asked.metric, own, year, {}, kept[0].doc_id, query) if own else None) \
        or find_cell(asked.metric, kept, year, {}, kept[0].doc_id, query)
    return found if found is not None and found.cell.value is not None else None


def _label_key(label: str) -> str:
    """A row label as compared with the question's words: no unit in brackets, no spaces, case folded."""
    return re.sub(r"\s+", "", _UNIT.sub("", label)).casefold()


def _multiple(row: Row) -> bool:
    return row.unit in ("x", "X", "倍", "%") or "/" in row.label or is_ratio_label(row.label)


def _full_year(row: Row, year: str) -> Row:
    """``row`` without its quarter and half-year cells of ``year`` where it has the full year's."""
    full = [c for c in row.cells if re.fullmatch(rf"{year}[AEFP]?", c.period)]
    if not full:
        return row
    return replace(row, cells=tuple(c for c in row.cells if not c.period.startswith(year) or c in full))


# --- Which reports -------------------------------------------------------------------------------------------


def _reports(asked: CrossQuestion, filters: Filters | None) -> list[Coverage] | None:
    """The company's reports within the filters (each broker's newest for "latest"), dated ones first; ``None``
    where one report is left, the question does not say it asks across reports and it asks a forecast or is
    scoped to that report: then it is that report's question (a figure answer cites the cell)."""
    kept = sorted((r for r in asked.company.reports if _in_filters(r, filters)), key=lambda r: not r.date)
    if asked.brokers:
        kept = [r for r in kept if r.broker in asked.brokers]
    scoped = filters is not None and bool(filters.doc_ids)
    if not kept or (len(kept) == 1 and not asked.across and not asked.brokers
                    and (scoped or "forecast" in asked.fields)):
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


def _passes(asked: CrossQuestion, report: Coverage, move: str) -> bool:
    """Whether a report meets the question's filters: the rating asked, the bound on the target, a revision."""
    if asked.ratings and not rating_matches(report.rating, asked.ratings):
        return False
    if asked.bound is not None:
        op, limit = asked.bound
        if report.target_price is None or not _COMPARE[op](report.target_price, limit):
            return False
    if asked.revision == "down":
        return move == "down" or report.rating_action == "下调"
    if asked.revision == "up":
        return move == "up" or report.rating_action == "上调"
    return not asked.revision or bool(move) or report.rating_action in ("上调", "下调", "首次")


_TARGET_WORD = r"(?:目标价格?|(?i:TP|PT|PO|target\s+price|price\s+target|price\s+objective|target))"
_TARGET_DOWN = re.compile(rf"(?:下调|调低|降低)[^。；;\n]{{0,8}}?{_TARGET_WORD}|{_TARGET_WORD}[^。；;\n]{{0,4}}?(?:下调|调低|下修)"
                          rf"|(?i:\b(?:cut|cuts|lower(?:s|ed)?|reduc(?:e|es|ed)|trim(?:s|med)?)\s+(?:\w+\s+){{0,3}}?)"
                          rf"{_TARGET_WORD}|{_TARGET_WORD}\s+(?i:(?:is\s+)?(?:lowered|cut|reduced|revised\s+down))")
_TARGET_UP = re.compile(rf"(?:上调|调高|提高)[^。；;\n]{{0,8}}?{_TARGET_WORD}|{_TARGET_WORD}[^。；;\n]{{0,4}}?(?:上调|调高|上修)"
                        rf"|(?i:\b(?:raise[sd]?|lift(?:s|ed)?|increas(?:e|es|ed))\s+(?:\w+\s+){{0,3}}?){_TARGET_WORD}"
                        rf"|{_TARGET_WORD}\s+(?i:(?:is\s+)?(?:raised|lifted|increased|revised\s+up))")


def target_move(report: Coverage, first: Sequence[Chunk]) -> str:
    """"up" or "down" where the report moved its target price: from the previous target the card gives, else
    as its first page says it ("下调目标价 5%至", "we cut our TP"); "" where it states no move."""
    if report.target_price is not None and report.previous_target is not None:
        moved = report.target_price - report.previous_target
        return "up" if moved > 0 else "down" if moved < 0 else ""
    if report.target_price is None:
        return ""
    text = "\n".join(c.text for c in first)
    down, up = _TARGET_DOWN.search(text), _TARGET_UP.search(text)
    if down and not up:
        return "down"
    return "up" if up and not down else ""


def _unstated(asked: CrossQuestion, rows: Sequence[ReportRow]) -> str:
    """The asked field that no report states ("" when each is stated somewhere, or no row is left)."""
    if not rows:
        return ""
    if "forecast" in asked.fields and all(r.forecast_value is None for r in rows):
        return "forecast"
    if asked.fields == ("target_price",) and asked.bound is None and all(not r.target for r in rows):
        return "target_price"
    if asked.previous and all(r.coverage.previous_target is None for r in rows):
        return "previous_target"
    if asked.fields == ("rating",) and all(not r.coverage.rating for r in rows):
        return "rating"
    return ""


def _refusal(asked: CrossQuestion, field: str, count: int) -> Answer:
    zh = asked.lang == "zh"
    what = {"forecast": f"{asked.year}年{asked.metric_label}预测" if zh else f"{asked.year} {asked.metric_label} forecast",
            "target_price": "目标价" if zh else "target price", "rating": "评级" if zh else "rating",
            "previous_target": "此前的目标价" if zh else "previous target price"}[field]
    name = display_name(asked)
    if asked.brokers:
        firms = "、".join(asked.brokers) if zh else " and ".join(asked.brokers)
        reports, verb = ("report", "states") if count == 1 else ("reports", "state")
        text = f"库中{firms}覆盖{name}的报告没有给出{what}。" if zh else \
            f"{firms}'s {reports} on {name} in the library {verb} no {what}."
    elif count == 1:
        text = f"库中覆盖{name}的唯一一份报告没有给出{what}。" if zh else \
            f"The one report on {name} in the library states no {what}."
    else:
        text = f"库中覆盖{name}的{count}份报告都没有给出{what}。" if zh else \
            f"None of the {count} reports on {name} in the library states a {what}."
    return Answer(asked.text, text, False, reason=text, kind="refusal")


# --- Cells and their citations -------------------------------------------------------------------------------


class _Cells:
    """Reads each report's cells and numbers each quoted line once, [1], [2], … in reading order."""

    def __init__(self, asked: CrossQuestion, docs: dict[str, Document],
                 pages: dict[tuple[str, int], list[Chunk]]) -> None:
        self.asked, self.docs, self.pages = asked, docs, pages
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

    def row(self, report: Coverage, forecast: Found | None, move: str) -> ReportRow:
        first = self.pages.get((report.doc_id, report.page), [])
        target, previous = _price(report.target_price), _price(report.previous_target)
        names = [p for name in broker_names(report.broker) for p in _words(name)]
        cells = [self.cell(report.broker, printed_line(first, names, _HOUSE)),
                 self.cell(report.date, printed_line(first, _date_patterns(report.date), _NONE)),
                 self.cell(self.rating(report), rating_line(first, report.rating)),
                 self.cell(self.target(report, target, previous),
                           printed_line(first, _price_patterns(report.target_price), _TARGET_LABEL))]
        printed, value, unit = "", None, ""
        if "forecast" in self.asked.fields:
            located = None
            if forecast is not None:
                printed, value, unit = forecast.cell.text, forecast.cell.value, _unit(forecast)
                self.units[unit] += 1
                chunks = self.pages.get((report.doc_id, forecast.table.page), [])
                located = printed_line(chunks, [_spaced(forecast.row.line)], _NONE)
            cells.append(self.cell(f"{printed} {unit}".strip() if printed else "", located))
        return ReportRow(TableRow(tuple(cells), report.doc_id, report.source, report.date), report, target,
                         previous, printed, value, unit, move)

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
_HOUSE = re.compile(r"(?i:research|securities|limited|ltd\b|co\.)|研究所|研究部|研究院|证券|國際|国际")
_RATING_LABEL = re.compile(r"(?i:rating|maintain|reiterate|reaffirm|initiat|upgrade|downgrade)|评级|维持|首次|上调|下调")


def printed_line(chunks: Sequence[Chunk], patterns: Iterable[re.Pattern[str]],
                 label: re.Pattern[str]) -> Located | None:
    """The best line of ``chunks`` printing one of ``patterns`` (a line with ``label`` first, then the shorter),
    cut to the clause around what it prints; ``None`` when no line prints it."""
    patterns = list(patterns)
    if not patterns:
        return None
    printed = re.compile("|".join(f"(?:{p.pattern})" for p in patterns), re.I)
    best: tuple[tuple[int, int], Located] | None = None
    for chunk in chunks:
        offset = 0
        for line in chunk.text.split("\n"):
            match = printed.search(line)
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


def _unit(found: Found) -> str:
    """The unit a forecast cell is printed in: its row's ("百万元"), a bracket of its label ("RMB mn"), else
    the table's scale word ("million")."""
    word, _ = row_scale(found.row, found.table)
    bracket = _UNIT.search(found.row.label)
    return found.row.unit or (bracket.group(1).strip() if bracket else word)


def _price(value: float | None) -> str:
    return "" if value is None else f"{value:,.2f}"


def _words(text: str) -> list[re.Pattern[str]]:
    return [re.compile(rf"(?<![A-Za-z]){re.escape(text)}(?![A-Za-z])", re.I)] if text else []


def _spaced(line: str) -> re.Pattern[str]:
    return re.compile(r"\s+".join(re.escape(part) for part in line.split()))


def rating_line(chunks: Sequence[Chunk], rating: str) -> Located | None:
    """The line printing the rating word, else its short form ("O-PF" for Outperform, "OW" for Overweight)."""
    if not rating:
        return None
    short = {"outperform": ("O-PF",), "overweight": ("OW",), "high conviction outperform": ("O-PF",)}
    for words in ((rating,), short.get(rating.casefold(), ())):
        patterns = [re.compile(rf"(?<![A-Za-z]){re.escape(w)}(?![A-Za-z])", re.I) for w in words]
        found = printed_line(chunks, patterns, _RATING_LABEL)
        if found is not None:
            return found
    return None


def _price_patterns(value: float | None) -> list[re.Pattern[str]]:
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

    if not table.rows:
        return table.summary
    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(cell(c) for c in row.cells) + " |" for row in table.rows]
    return "\n".join(lines) + "\n\n" + table.summary
