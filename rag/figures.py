"""Figure answers: "what was X in period Y" answered with the table cell, cited; ratios computed with the
formula shown and every input cited.

The question's metric comes from the finance vocabulary (``rag.terms``), its period from its years; the
row is chosen among the tables of the documents retrieval ranked first (``rag.tables``): the row whose
label prints the metric most exactly, on a table of the statement the metric lives on, on a page retrieval
ranked high, and its cell in the asked period. The citation quotes the row's line on its page, so the app
boxes the row on the page image. When no row or no cell fits, :func:`figure_answer` returns ``None`` and
the passage answer is given instead; a ratio with an input missing says which one and computes nothing.
"""

from __future__ import annotations

import ast
import operator
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial

from rag.tables import Cell, Row, Table, is_ratio_label, is_ratio_section, period_year, row_scale
from rag.terms import YEAR, FinanceTerm, Query, content_terms, finance_terms, subject, vocabulary
from rag.types import Figure, FigureCell, Hit

__all__ = ["Found", "NotComputed", "asks_figure", "find_cell", "figure_answer"]

# Questions that want an explanation get a passage, even when they name a line item.
_NOT_A_FIGURE = re.compile(
    r"^\s*(?:why|how\s+did|how\s+does|what\s+drove|what\s+caused|explain|describe)\b|为什么|原因|如何|怎么|驱动"
    r"|变化的?原因", re.I)
# A judgement on a figure over time ("historically consistent", "稳定") reads it in every year a table prints.
_OVER_TIME = re.compile(r"historical|consistent|stable|volatil|fluctuat|trend|over\s+time|each\s+year|every\s+year"
                        r"|over\s+the\s+(?:past|last)\s+(?:few|several|\d+)\s+years|历年|稳定|波动|趋势|逐年", re.I)
_FISCAL_YEAR = re.compile(r"\d{4}(?:-\d{2}-\d{2})?")  # a year's column ("2023", "2023-01-28"), not "2023-07-29/3M"
# "Which segment had the lowest net revenue?" asks for a segment, not the company's net revenue.
_WHICH_MOST = re.compile(r"\bwhich\b.*\b(?:lowest|highest|largest|smallest|biggest|most|least|best|worst|top)\b"
                         r"|哪(?:个|一|些|家|项|类).*最", re.I)
# A forecast as it stood before a revision is printed in the text ("前值364.8亿元"), not in the tables.
_BEFORE_REVISION = re.compile(r"调整前|下调前|上调前|前值|原预测|此前预测|previous\s+(?:forecast|estimate)"
                              r"|prior\s+(?:forecast|estimate)|before\s+the\s+(?:revision|cut|raise)", re.I)
# A yes/no judgement on a figure ("Is 3M capital-intensive?", "Did Pfizer grow its PPNE?") is answered with the
# figures it turns on, the judgement left to the reader.
_JUDGEMENT = re.compile(r"^\s*(?:is|are|does|do|did|has|have|was|were|can|should)\b|是否|有没有|能否", re.I)
_DIRECTION = re.compile(r"\b(?:grow|grew|increas|decreas|declin|drop|fall|fell|ris[ei]|rose|improv|deteriorat|expand"
                        r"|shr[iu]nk|higher|lower)|增长|增加|下降|减少|提高|改善|恶化|上升|下滑", re.I)
_OUTFLOW = re.compile(r"^(?:purchases?|payments?|repayments?|repurchases?|dividends\s+paid|capital\s+expenditures?"
                      r"|additions)|^(?:购建|支付|偿还|分配股利)", re.I)
_GROWTH = re.compile(r"growth|grow|increase\s+(?:rate|in\s+%)|yoy|year[-\s]over[-\s]year|同比|增速|增长率|增幅", re.I)
_OUTFLOW_TERMS = frozenset({"capex", "dividends", "buybacks"})  # asked for as amounts spent, printed as outflows
_CHANGE = re.compile(r"\bchang|\bdiffer|增减|变化|变动|下降了?多少|上升了?多少", re.I)
_AVERAGE = re.compile(r"\baverage\b|平均", re.I)
_COMBINATIONS = (
    (re.compile(r"(.+?)\s+(?:less|minus|net\s+of)\s+(.+)", re.I), "minus"),
    (re.compile(r"(.+?)\s+as\s+an?\s+(?:%|percent(?:age)?)\s+of\s+(.+)", re.I), "percent"),
    (re.compile(r"(.+?)占(.+?)的?(?:比重|比例|百分比)"), "percent"),
)
_PARENT_ONLY = re.compile(r"母公司|parent\s+company", re.I)
_ASIDE = re.compile(r"\([^)]*\)|（[^）]*）")
_MARGIN_OF = re.compile(r"\b%?\s*margin\b|利润率", re.I)
_OP_WORDS = {"minus": {"en": "less", "zh": "减"}, "percent": {"en": "as a % of", "zh": "占"}}
_ITEM_PREFIX = re.compile(r"^(?:[一二三四五六七八九十]{1,2}、|其中 ?|减 ?|加 ?|less ?|add ?)")  # "三、营业利润", "减：所得税费用"
_SHORT_PHRASE = 4  # characters: a shorter one-word phrase must be the whole label
RIVAL_MARGIN = 1.0  # a line of the same name scoring within this of the chosen one is mentioned beside it
MIN_LABEL_SCORE = 0.5  # a row whose label matches the metric's phrases worse than this is not the metric's row
SHORTER_LABEL_SCORE = 1.2  # a row labelled exactly as a shorter way to ask for the metric, below an exact match


@dataclass(frozen=True)
class Found:
    """A row and cell chosen for a metric, the table they stand in, and the score that chose them."""

    table: Table
    row: Row
    cell: Cell
    score: float
    term: str
    rival: Found | None = None  # the best other line printing the item with another value (restated, segment)


def asks_figure(query: Query) -> bool:
    """Whether ``query`` asks for a figure or ratio, or a judgement on one (not an explanation)."""
    if _NOT_A_FIGURE.search(query.focus) or _BEFORE_REVISION.search(query.focus) or _WHICH_MOST.search(query.focus):
        return False
    return bool(_figure_terms(query))


def _figure_terms(query: Query) -> list[FinanceTerm]:
    """The figures a question asks for: the line items and ratios it names, else the ratios a topic it names
    is judged by ("capital-intensive": capex as a % of revenue, PP&E as a % of total assets)."""
    named = [t for t in query.finance if t.kind in ("figure", "ratio")]
    return named or [_term(name) for t in query.finance for name in t.judged_by]


def figure_answer(query: Query, hits: Sequence[Hit], tables_of: Callable[[str], Sequence[Table]],
                  entity_of: Callable[[str], str]) -> tuple[str, Figure] | NotComputed | None:
    """``(answer text with [n] markers, the figure)`` for a figure question, or ``None`` when the tables of
    the hits' documents hold no cell for it. ``tables_of(doc_id)`` gives a document's tables,
    ``entity_of(doc_id)`` the company it reports on. Marker [n] is ``figure.cells`` n. A ratio whose inputs
    are not all printed gives :class:`NotComputed`, naming them.

    Besides one line item or ratio in one period, a question may ask for two terms combined ("EBITDA less
    capex", "capex as a % of revenue", "研发投入占营业收入的比重", "EBITDA % margin"), a term's change between
    two years, its growth, or its average over a range of years ("FY2017 - FY2019 3 year average")."""
    if not asks_figure(query):
        return None
    terms = _figure_terms(query)
    if _unnamed_part(query.focus):
        return None  # "wages expense as a percent of net sales": the asked quantity is no term's
    judged = bool(_JUDGEMENT.search(query.focus))
    if judged:  # the judgement's words ("healthy", "profile") qualify no line; the figure's own words remain
        said = " ".join(p for t in terms for p in t.asked if p.casefold() in query.text.casefold())
        query = replace(query, focus=f"{said} {' '.join(query.years)}")
    docs = list(dict.fromkeys(h.chunk.doc_id for h in hits))[:3]
    pages = {(h.chunk.doc_id, p): rank for rank, h in reversed(list(enumerate(hits)))
             for p in range(h.chunk.page, h.chunk.page_end + 1)}
    missing: tuple[str, ...] = ()
    for doc_id in docs:
        tables = tables_of(doc_id)
        if not tables:
            continue
        entity = entity_of(doc_id)
        ctx = _Ctx(tuple(tables), pages, doc_id, query, re.sub(r"\s*[（(][^)）]*[)）]", "", entity))
        result = _judged_value(terms, ctx, query.text) if judged else _answer_value(terms, ctx)
        if result is not None:
            value, metric = result
            read = len(value.cells) == 1 and "=" not in value.formula and ":" not in value.formula
            figure = Figure(value=value.value, unit=value.unit, scale=value.scale, period=value.period,
                            entity=entity, metric=metric, formula="" if read else value.formula,
                            cells=value.cells)
            text = _sentence(query, figure)
            if judged:
                text = ("判断依据：" if query.lang == "zh" else "The figures to judge by: ") + text
            joined = "" if query.lang == "zh" else " "
            return (f"{text}{joined}{value.note}" if value.note and not figure.formula else text), figure
        missing = missing or tuple(dict.fromkeys(ctx.missing))
    if missing and terms and not judged:
        return NotComputed(_metric_name(terms[0].name, query), missing, max(query.years, default=""), query.lang)
    return None


@dataclass(frozen=True)
class _Ctx:
    """Where a figure is looked for: one document's tables, retrieval's page ranks, the question."""

    tables: tuple[Table, ...]
    pages: dict[tuple[str, int], int]
    doc_id: str
    query: Query
    entity: str = ""  # the company the document reports on, as its card names it ("四方科技")
    missing: list[str] = field(default_factory=list)  # inputs of a formula no table prints


@dataclass(frozen=True)
class NotComputed:
    """A ratio the tables cannot compute: which inputs no table prints for the period."""

    metric: str
    missing: tuple[str, ...]
    period: str
    lang: str

    @property
    def note(self) -> str:
        inputs = "、".join(self.missing) if self.lang == "zh" else ", ".join(self.missing)
        if self.lang == "zh":
            return f"未计算{self.period}{self.metric}：表格中找不到{inputs}。"
        return f"{self.metric} for {self.period or 'the period'} was not computed: no table prints {inputs}."


@dataclass(frozen=True)
class _Value:
    """A figure found or computed: the number in ``unit`` (worth ``scale`` each), the cells it reads, and how
    it was obtained (a cell's printed text with its marker, or the formula with each input)."""

    value: float
    unit: str
    scale: float
    period: str
    cells: tuple[FigureCell, ...]
    formula: str = ""
    note: str = ""  # why this cell and not a competing one


def _answer_value(terms: list[FinanceTerm], ctx: _Ctx) -> tuple[_Value, str] | None:
    query = ctx.query
    years = sorted(query.years)
    period = years[-1] if years else ""  # the latest year named: "FY2019 - FY2020 growth" asks about 2020
    focus = query.focus
    names = [t.name for t in terms]
    combined = _combination(focus, terms)
    if combined is not None:
        op, left, right = combined
        def pair(year: str) -> _Value | None:
            a, b = _value(left, year, ctx), _value(right, year, ctx)
            return _combine(op, a, b) if a and b else None
        metric = f"{_metric_name(left, query)} {_OP_WORDS[op][query.lang]} {_metric_name(right, query)}"
        value = _averaged_over(years, pair) if _AVERAGE.search(focus) and len(years) >= 2 else pair(period)
        return (value, metric) if value else None
    name = names[0]
    metric = _metric_name(name, query)
    if len(years) == 2 and _CHANGE.search(focus):
        value = _change(name, years[0], years[1], ctx)
        return (value, f"{metric}变化" if query.lang == "zh" else f"change in {metric}") if value else None
    if _GROWTH.search(focus) and period:
        value = _growth(name, period, ctx)
        return (value, f"{metric}同比增长率" if query.lang == "zh" else f"{metric} growth") if value else None
    if _AVERAGE.search(focus) and len(years) >= 2 and not _averaged_input(name, query):
        value = _averaged_over(years, lambda year: _value(name, year, ctx))
        return (value, metric) if value else None
    value = _value(name, period, ctx)
    return (value, metric) if value else None


def _judged_value(terms: list[FinanceTerm], ctx: _Ctx, question: str) -> tuple[_Value, str] | None:
    """The figures a judgement turns on: a term's change from the year before (or between the two years
    named) when the question asks about a direction ("grow", "improving"), else each term in the year asked,
    several joined into one value (the first's number, every input cited)."""
    years = sorted(ctx.query.years)
    names = list(dict.fromkeys(t.name for t in terms))
    if _DIRECTION.search(question) or _CHANGE.search(question):
        name = names[0]
        last = years[-1] if years else ""
        if not last:
            latest = _value(name, "", ctx)
            last = period_year(latest.period) if latest else ""
        first = years[0] if len(years) >= 2 else str(int(last) - 1) if last.isdigit() else ""
        value = _change(name, first, last, ctx) if first else None
        metric = _metric_name(name, ctx.query)
        return (value, f"{metric}变化" if ctx.query.lang == "zh" else f"change in {metric}") if value else None
    if not years and _OVER_TIME.search(question):
        return _series(names[0], ctx)
    period = years[-1] if years else ""
    found = [(name, v) for name in names if (v := _value(name, period, ctx)) is not None]
    if not found:
        return None
    if len(found) == 1:
        return found[0][1], _metric_name(found[0][0], ctx.query)
    cells, texts = _joined_cells([v for _, v in found])
    shown = "; ".join(f"{_metric_name(n, ctx.query)} {t}" for (n, _), t in zip(found, texts, strict=True))
    first_value = found[0][1]
    return replace(first_value, cells=cells, formula=shown, note=""), _metric_name(found[0][0], ctx.query)


def _series(name: str, ctx: _Ctx) -> tuple[_Value, str] | None:
    """A term in every fiscal year its statement prints (none for a quarterly filing's dated columns), the
    latest year's value first, each year's computation shown."""
    latest = _value(name, "", ctx)
    if latest is None:
        return None
    printed = {c.period for cell in latest.cells for t in ctx.tables if t.page == cell.page and t.doc_id == cell.doc_id
               for r in t.rows if r.label == cell.row for c in r.cells if _FISCAL_YEAR.fullmatch(c.period)}
    if len(printed) < 2:
        return None
    years = sorted({period_year(p) for p in printed}, reverse=True)
    by_year = [(y, v) for y in years if (v := _value(name, y, ctx)) is not None]
    if len(by_year) < 2:
        return None
    cells, texts = _joined_cells([v for _, v in by_year])
    unit = by_year[0][1].unit
    shown = "; ".join(f"{y}: {format_value(v.value, unit)}{'%' if unit == '%' else ''} {t}"
                      for (y, v), t in zip(by_year, texts, strict=True))
    return replace(by_year[0][1], cells=cells, formula=shown, note=""), _metric_name(name, ctx.query)


def find_cell(name: str, tables: Sequence[Table], period: str, pages: dict[tuple[str, int], int], doc_id: str,
              query: Query, *, printed: bool = True, entity: str = "") -> Found | None:
    """The best cell for vocabulary term ``name`` in ``period`` ("" = the latest actual) among ``tables``;
    with ``printed=False`` only rows labelled the way the term is asked (a ratio's own row, "毛利率", not the
    rows of its inputs that its printed phrases also name)."""
    term = _term(name)
    said = [p.casefold() for p in term.asked if p.casefold() in query.text.casefold()]
    asked = [p for p in term.asked if not any(p.casefold() != s and p.casefold() in s for s in said)]
    phrases = [_norm(p) for p in (*(term.printed if printed else ()), *asked) if len(_norm(p)) >= 2]
    shorter = {_norm(p) for p in term.asked if p not in asked}  # "收入" when "营业收入" is asked
    candidates: list[Found] = []
    for table in tables:
        table_score = (0.6 if table.statement == term.statement else 0.0) + _page_score(pages, doc_id, table.page)
        if bool(_PARENT_ONLY.search(table.title)) != bool(_PARENT_ONLY.search(query.text)):
            table_score -= 0.5  # the consolidated statement, the parent company's where the question asks for it
        for row in table.rows:
            label = _label_score(_norm(row.label), phrases)
            if label < MIN_LABEL_SCORE and _norm(row.label) in shorter:
                label = SHORTER_LABEL_SCORE  # a line labelled only "收入" is still the revenue line
            if label < MIN_LABEL_SCORE:
                continue
            cell = _cell(row, period, query)
            if cell is None or cell.value is None:
                continue
            qualified, carried = _qualified(row, table, query, (*term.phrases, entity))
            if not qualified:
                continue
            label += 0.3 * carried  # "net PPNE": the line that also says "net"
            ratio_row = is_ratio_label(row.label) or is_ratio_section(row.parent) or is_ratio_section(table.title)
            if ratio_row != (term.display == "percent"):
                label -= 0.5  # "同比（%）" under 营业收入, "Revenue" in a "Growth" table: not the revenue
            score = label + table_score
            candidates.append(Found(table, row, cell, score, name))
    if not candidates:
        return None
    candidates.sort(key=lambda f: -f.score)
    best = candidates[0]
    rival = next((f for f in candidates[1:] if f.cell.value != best.cell.value and _norm(f.row.label) ==
                  _norm(best.row.label) and best.score - f.score < RIVAL_MARGIN), None)
    return replace(best, rival=rival)


def _qualified(row: Row, table: Table, query: Query, phrases: Sequence[str]) -> tuple[bool, float]:
    """Whether the row carries what the question adds to the metric: "筹资活动产生的现金流量净额" is not the
    cash line, "2019年研发人员数量" not the R&D expense line. Words of the question that are neither the
    metric's phrases, its period, its company nor question words must mostly appear around the row; also
    returned: the share of them that do."""
    said = _GROWTH.sub(" ", _ASIDE.sub(" ", query.focus.casefold()))  # "(formerly known as Square)" qualifies nothing
    asked = [p for t in query.finance for p in t.phrases]
    for phrase in sorted((*phrases, *asked, subject(query.text)), key=len, reverse=True):
        if phrase:
            said = said.replace(phrase.casefold(), " ")
    source = table.source.casefold()
    words = [w for w in content_terms(YEAR.sub(" ", said))
             if not w.isdigit() and w not in _GENERIC and w not in source]
    if not words:
        return True, 0.0
    around = f"{row.label} {row.parent} {table.title}".casefold()
    missing = [w for w in words if w not in around]
    carried = 1 - len(missing) / len(words)
    return len(missing) < 2 or len(missing) <= len(words) / 3, carried  # one stray word ("generate") is none


# Words a figure question adds that name no line item: scope, units, time and the company's own label.
_GENERIC = frozenset("公司 本公司 集团 多少 多少元 金额 数额 规模 合计 总额 元 万元 亿元 年末 年底 期末 年度 全年 当年 截至 "
                     "账上 实现 确认 报表 合并 计算 按 根据 是 为 有 的 了 情况 在 预测 预计 估计 usd million millions billion "
                     "amount total value company fiscal year end round decimal places answer units percent "
                     "reported reports was were what figure number forecast estimate expected much many how "
                     "change changed changes difference average year-end period ratio rate defined calculate "
                     "calculated using based less minus unadjusted margin 变化 变动 增减 平均 占 比重 比例 财务 数据 财务数据 "
                     "中 保留 小数 两位".split())


def _label_score(label: str, phrases: list[str]) -> float:
    """1.5 for a label that is the phrase, ~1 for one that starts with it, less the more it adds."""
    label = _ITEM_PREFIX.sub("", label)
    if label.startswith("total "):  # "Total net revenues" is the net revenues line
        return max(_one_label_score(label, phrases), _one_label_score(label.removeprefix("total "), phrases))
    return _one_label_score(label, phrases)


def _one_label_score(label: str, phrases: list[str]) -> float:
    best = 0.0
    for phrase in phrases:
        if label == phrase:
            return 1.5
        if " " not in phrase and (phrase.isascii() or len(phrase) < _SHORT_PHRASE):
            continue  # "sales", "现金": only the line that is exactly that, not "Cost of sales", "…有关的现金"
        if phrase.isascii() and re.search(rf"\bof\s+{re.escape(phrase)}$", label):
            continue  # "cost of net revenues" is not the net revenues line
        if label.startswith(phrase) or label.endswith(phrase):
            best = max(best, 1.0 - 0.01 * (len(label) - len(phrase)))
        elif phrase in label:
            best = max(best, 0.7 - 0.01 * (len(label) - len(phrase)))
    return best


def _cell(row: Row, period: str, query: Query) -> Cell | None:
    dated = [c for c in row.cells if c.period and c.period not in ("current", "previous")]
    if not period:
        actual = [c for c in dated if c.period[4:5] not in ("E", "F") and c.value is not None]
        return actual[0] if actual else next((c for c in row.cells if c.period == "current"), None)
    matches = [c for c in dated if period_year(c.period) == period]
    if not matches:
        return None
    if len(matches) > 1:  # a 10-Q prints the quarter and the year to date: prefer what the question says
        six = bool(re.search(r"six\s+months|first\s+half|h1|上半年|半年", query.text, re.I))
        preferred = [c for c in matches if c.period.endswith("/6M" if six else "/3M")]
        matches = preferred or matches
    return matches[0]


def _page_score(pages: dict[tuple[str, int], int], doc_id: str, page: int) -> float:
    rank = pages.get((doc_id, page))
    return 0.0 if rank is None else 0.4 / (1 + rank)


def _value(name: str, period: str, ctx: _Ctx, depth: int = 0) -> _Value | None:
    """Term ``name`` in ``period``: its printed cell, or (for a ratio) its formula over its inputs' cells."""
    term = _term(name)
    found = find_cell(name, ctx.tables, period, ctx.pages, ctx.doc_id, ctx.query, printed=term.kind != "ratio",
                      entity=ctx.entity)
    if found is not None:
        return _direct(found, ctx.query.lang)
    if term.formula and depth < 3:
        return _computed(term, period, ctx, depth)
    return None


def _direct(found: Found, lang: str = "en") -> _Value:
    unit, scale = row_scale(found.row, found.table)
    value = found.cell.value or 0.0
    if value < 0 and (_OUTFLOW.search(found.row.label) or found.term in _OUTFLOW_TERMS):
        value = -value  # an outflow printed in parentheses: the amount asked for is its size
    if is_ratio_label(found.row.label) and not unit:
        unit = "%" if "%" in found.row.line or "率" in found.row.label else "x"
    return _Value(value, _unit_text(found.table, unit, found.row), scale, found.cell.period,
                  (_figure_cell(1, found),), f"{found.cell.text} [1]", _rival_note(found, lang))


def _rival_note(found: Found, lang: str) -> str:
    """One sentence on the competing line: where it is, what it prints, and why the chosen one won."""
    rival = found.rival
    if rival is None:
        return ""
    on_statement = found.table.statement == _term(found.term).statement and rival.table.statement != found.table.statement
    parent = bool(_PARENT_ONLY.search(rival.table.title)) and not _PARENT_ONLY.search(found.table.title)
    own = bool(_PARENT_ONLY.search(found.table.title)) and not _PARENT_ONLY.search(rival.table.title)
    if lang == "zh":
        why = "问题未问母公司，取合并报表" if parent else "问题问的是母公司，取母公司报表" if own else \
            "所取行位于该科目所属的报表" if on_statement else \
            "所取行与问题和检索到的页面更相符"
        return f"另：第{rival.table.page}页{rival.table.title or '另一表格'}同名行为{rival.cell.text}；本回答取第" \
               f"{found.table.page}页，因为{why}。"
    why = "the consolidated statement, as the question does not ask for the parent company's" if parent else \
        "the parent company's statement, as the question asks for it" if own else \
        "it stands on the statement of the line item" if on_statement else \
        "it matches the question and the retrieved pages better"
    where = f"{rival.table.title or 'another table'}, page {rival.table.page}"
    return f"{where} prints {rival.cell.text} on a line of the same name; this answer uses page {found.table.page}: " \
           f"{why}."


def _computed(term: FinanceTerm, period: str, ctx: _Ctx, depth: int) -> _Value | None:
    """A ratio's formula over its inputs (each read or computed), all of one year; "average PP&E" in the
    question averages that input over the year and the year before."""
    tree = ast.parse(term.formula, mode="eval")
    parts: dict[str, _Value] = {}
    for name in dict.fromkeys(n.id for n in ast.walk(tree) if isinstance(n, ast.Name)):
        if period and _averaged_input(name, ctx.query):
            value = _averaged_over([str(int(period) - 1), period], partial(_value, name, ctx=ctx, depth=depth + 1))
        else:
            value = _value(name, period, ctx, depth + 1)
        if value is None:
            ctx.missing.append(_metric_name(name, ctx.query))
        else:
            parts[name] = value
    if len(parts) < len(set(n.id for n in ast.walk(tree) if isinstance(n, ast.Name))):
        return None
    if len({period_year(v.period) for v in parts.values()}) > 1 and not period:
        return None  # inputs from different years would compute nonsense
    try:
        number = _evaluate(tree.body, {k: v.value * v.scale for k, v in parts.items()})
    except ZeroDivisionError:
        return None
    first = next(iter(parts.values()))
    if term.display == "percent":
        number, unit, scale = number * 100, "%", 1.0
    elif term.display == "amount":
        number, unit, scale = number / first.scale, first.unit, first.scale
    else:
        unit, scale = "x", 1.0
    cells, texts = _joined_cells(list(parts.values()))
    shown = term.formula
    for key, text in zip(parts, texts, strict=True):
        shown = re.sub(rf"\b{key}\b", f"{_metric_name(key, ctx.query)} {text}", shown)
    shown += f" = {format_value(number, unit)}{'%' if unit == '%' else ''}"
    return _Value(number, unit, scale, first.period, cells, shown)


def _joined_cells(values: list[_Value]) -> tuple[tuple[FigureCell, ...], list[str]]:
    """The cells of several values numbered one after another, and each value's text with its markers
    renumbered (a value read from a cell: "(1,577) [1]"; a computed one: its figure with its markers)."""
    cells: list[FigureCell] = []
    texts: list[str] = []
    for value in values:
        offset = len(cells)
        cells.extend(replace(c, n=c.n + offset) for c in value.cells)
        if len(value.cells) == 1 and value.formula.endswith("[1]"):
            cell = value.cells[0]
            shown = cell.text if cell.value == value.value else format_value(value.value, value.unit)  # an outflow
            texts.append(f"{shown} [{offset + 1}]")
        else:  # a computed input shows how it was computed, its markers renumbered
            inner = re.sub(r"\[(\d+)\]", partial(_shifted, offset=offset), value.formula)
            texts.append(f"({inner})")
    return tuple(cells), texts


def _shifted(marker: re.Match[str], offset: int) -> str:
    return f"[{int(marker.group(1)) + offset}]"


def _combine(op: str, left: _Value, right: _Value) -> _Value | None:
    """``left`` less ``right`` (an amount in ``left``'s unit) or ``left`` as a percentage of ``right``."""
    a, b = left.value * left.scale, right.value * right.scale
    cells, (ta, tb) = _joined_cells([left, right])
    if op == "minus":
        number = (a - b) / left.scale
        return _Value(number, left.unit, left.scale, left.period, cells,
                      f"{ta} − {tb} = {format_value(number, left.unit)}")
    if not b:
        return None
    number = a / b * 100
    return _Value(number, "%", 1.0, left.period, cells, f"{ta} / {tb} = {format_value(number, '%')}%")


def _change(name: str, first: str, last: str, ctx: _Ctx) -> _Value | None:
    """A term in two years and the change between them (percentage points for a ratio)."""
    before, after = _value(name, first, ctx), _value(name, last, ctx)
    if before is None or after is None:
        return None
    cells, (tb, ta) = _joined_cells([before, after])
    number = (after.value * after.scale - before.value * before.scale) / after.scale
    unit = "pp" if after.unit == "%" else after.unit
    metric = _metric_name(name, ctx.query)
    shown = f"{metric} {first} {tb} → {last} {ta}: {format_value(number, unit)} {unit}".rstrip()
    return _Value(number, unit, after.scale, after.period, cells, shown)


def _growth(name: str, period: str, ctx: _Ctx) -> _Value | None:
    """Year-on-year growth of a line item: this period's cell over the same row's previous-year cell."""
    found = find_cell(name, ctx.tables, period, ctx.pages, ctx.doc_id, ctx.query, entity=ctx.entity)
    if found is None:
        return None
    previous = _cell(found.row, str(int(period) - 1), ctx.query)
    if previous is None or not previous.value or found.cell.value is None:
        return None
    value = (found.cell.value / previous.value - 1) * 100
    earlier = Found(found.table, found.row, previous, found.score, name)
    metric = _metric_name(name, ctx.query)
    formula = f"{metric} {period} {found.cell.text} [1] / {metric} {int(period) - 1} {previous.text} [2] - 1"
    cells = (_figure_cell(1, found), _figure_cell(2, earlier))
    return _Value(value, "%", 1.0, found.cell.period, cells, formula)


def _averaged_over(years: Sequence[str], one: Callable[[str], _Value | None]) -> _Value | None:
    """The mean of a value over every year from the first to the last of ``years``."""
    span = [str(y) for y in range(int(min(years)), int(max(years)) + 1)]
    values = [one(y) for y in span]
    if any(v is None for v in values) or not values:
        return None
    found = [v for v in values if v is not None]
    cells, texts = _joined_cells(found)
    number = sum(v.value * v.scale for v in found) / len(found) / found[-1].scale
    unit = found[-1].unit
    shown = f"average of {', '.join(f'{y} {t}' for y, t in zip(span, texts, strict=True))} = " \
            f"{format_value(number, unit)}{'%' if unit == '%' else ''}"
    return _Value(number, unit, found[-1].scale, found[-1].period, cells, shown)


def _averaged_input(name: str, query: Query) -> bool:
    """Whether the question asks for the average of this term ("average PP&E", "平均总资产")."""
    said = query.text.casefold()  # a definition given beside the question counts ("… / (average PP&E …)")
    term = _term(name)
    return any(re.search(rf"(?:average|平均)\s*(?:of\s+)?(?:the\s+)?{re.escape(p.casefold())}", said)
               for p in term.phrases)


def _combination(focus: str, terms: list[FinanceTerm]) -> tuple[str, str, str] | None:
    """``(op, left term, right term)`` for "X less Y", "X as a % of Y", "X占Y的比重", "X % margin"."""
    for pattern, op in _COMBINATIONS:
        match = pattern.search(focus)
        if match:
            left, right = finance_terms(match.group(1)), finance_terms(match.group(2))
            if left and right and left[0].name != right[0].name:
                return op, left[0].name, right[0].name
    margin = _MARGIN_OF.search(focus)
    if margin and terms and (terms[0].kind == "figure" or terms[0].display == "amount"):  # "EBITDA % margin"
        return "percent", terms[0].name, "revenue"
    return None


def _unnamed_part(focus: str) -> bool:
    """Whether the question combines two quantities ("X as a % of Y", "X占Y的比重") and the vocabulary knows no
    term for one of them: answering with the other one alone would answer another question. A part of a line
    item ("来自苹果的收入占总营收的比例": both read as revenue) is such a quantity."""
    for pattern, _ in _COMBINATIONS:
        match = pattern.search(focus)
        if match:
            left, right = finance_terms(match.group(1)), finance_terms(match.group(2))
            if not (left and right and left[0].name != right[0].name):
                return True
    return False


def _term(name: str) -> FinanceTerm:
    return next(t for t in vocabulary() if t.name == name)


_OPS: dict[type, Callable[[float, float], float]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


def _evaluate(node: ast.expr, values: dict[str, float]) -> float:
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        return _OPS[type(node.op)](_evaluate(node.left, values), _evaluate(node.right, values))
    if isinstance(node, ast.Name):
        return values[node.id]
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return float(node.value)
    raise ValueError(f"unsupported formula element {ast.dump(node)}")


def _figure_cell(n: int, found: Found) -> FigureCell:
    return FigureCell(n=n, doc_id=found.table.doc_id, source=found.table.source, page=found.table.page,
                      row=found.row.label, column=found.cell.column, value=found.cell.value, text=found.cell.text,
                      quote=found.row.line, table=found.table.title)


def _unit_text(table: Table, unit: str, row: Row) -> str:
    currency = {"USD": "$", "HKD": "HK$"}.get(table.currency, "")
    if unit in ("million", "billion", "thousand"):
        return f"{currency or ''} {unit}".strip() if currency else unit
    return unit or row.unit or currency


def _metric_name(name: str, query: Query) -> str:
    term = _term(name)
    said = query.text.casefold()
    asked = [p for p in term.asked if p.casefold() in said]
    if asked:
        return max(asked, key=len)
    pool = [p for p in (*term.asked, *term.printed) if (query.lang == "zh") == bool(re.search("[\u4e00-\u9fff]", p))]
    return (pool or list(term.asked))[0]


def format_value(value: float, unit: str) -> str:
    if unit in ("%", "x"):
        return f"{value:,.2f}".rstrip("0").rstrip(".") if abs(value) < 1000 else f"{value:,.0f}"
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def _sentence(query: Query, figure: Figure) -> str:
    amount = format_value(figure.value, figure.unit)
    period = figure.period.split("/")[0]
    markers = "".join(f"[{c.n}]" for c in figure.cells)
    if query.lang == "zh":
        shown = f"{amount}{'%' if figure.unit == '%' else ('倍' if figure.unit == 'x' else figure.unit)}"
        text = f"{figure.entity}{_zh_period(period)}{figure.metric}为{shown}{markers}。"
        if not figure.formula:
            cell = figure.cells[0]
            text += f"取自第{cell.page}页{cell.table or '表格'}“{cell.row}”行“{cell.column}”列。"
        else:
            text += f"计算：{figure.formula}。"
        return text
    if figure.unit.startswith(("$", "HK$")):
        symbol, _, scale = figure.unit.partition(" ")
        shown = f"{'-' if figure.value < 0 else ''}{symbol}{amount.lstrip('-')} {scale}".strip()
    elif figure.unit in ("%", "x"):
        shown = f"{amount}{figure.unit}"
    else:
        shown = f"{amount} {figure.unit}".strip()
    owner = f"{figure.entity}'s " if figure.entity else ""
    text = f"{owner}{figure.metric} for {period} was {shown}{markers}."
    if not figure.formula:
        cell = figure.cells[0]
        where = f" of {cell.table}" if cell.table else ""
        text += f" Read from the line \"{cell.row}\", column \"{cell.column}\"{where}, page {cell.page}."
    else:
        text += f" Computed as {figure.formula}."
    return text


def _zh_period(period: str) -> str:
    date = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", period)
    if date:
        return f"{date[1]}年{int(date[2])}月{int(date[3])}日"
    if re.fullmatch(r"\d{4}", period):
        return f"{period}年"
    if re.fullmatch(r"\d{4}[AE]", period):
        return f"{period[:4]}年{'（预测）' if period.endswith('E') else ''}"
    return period


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    text = re.sub(r"[（(][^()（）]*[)）]", "", text)  # "(PP&E)", "（元／股）"
    return re.sub(r"[\s:：,，.\-—–]+", " ", text).strip().replace(" ", "" if re.search("[\u4e00-\u9fff]", text)
                                                                 else " ")
