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
from dataclasses import dataclass

from rag.tables import Cell, Row, Table, is_ratio_label, period_year, row_scale
from rag.terms import YEAR, Query, content_terms, subject, vocabulary
from rag.types import Figure, FigureCell, Hit

__all__ = ["Found", "asks_figure", "find_cell", "figure_answer"]

# Questions that want an explanation or a yes/no judgement get a passage, even when they name a line item.
_NOT_A_FIGURE = re.compile(
    r"^\s*(?:why|how\s+did|how\s+does|what\s+drove|what\s+caused|explain|describe|is|are|does|do|did|has|have|was"
    r"|were|can|should)\b|为什么|原因|是否|有没有|如何|怎么|驱动|变化的?原因", re.I)
_OUTFLOW = re.compile(r"^(?:purchases?|payments?|repayments?|repurchases?|dividends\s+paid|capital\s+expenditures?"
                      r"|additions)|^(?:购建|支付|偿还|分配股利)", re.I)
_GROWTH = re.compile(r"growth|grow|increase\s+(?:rate|in\s+%)|yoy|year[-\s]over[-\s]year|同比|增速|增长率|增幅", re.I)
_ITEM_PREFIX = re.compile(r"^(?:[一二三四五六七八九十]{1,2}、|其中 ?|减 ?|加 ?|less ?|add ?)")  # "三、营业利润", "减：所得税费用"
_SHORT_PHRASE = 4  # characters: a shorter one-word phrase must be the whole label
MIN_LABEL_SCORE = 0.5  # a row whose label matches the metric's phrases worse than this is not the metric's row


@dataclass(frozen=True)
class Found:
    """A row and cell chosen for a metric, the table they stand in, and the score that chose them."""

    table: Table
    row: Row
    cell: Cell
    score: float
    term: str


def asks_figure(query: Query) -> bool:
    """Whether ``query`` asks for one figure or ratio (not an explanation, a judgement or a topic)."""
    if _NOT_A_FIGURE.search(query.focus):
        return False
    return any(t.kind in ("figure", "ratio") for t in query.finance)


def figure_answer(query: Query, hits: Sequence[Hit], tables_of: Callable[[str], Sequence[Table]],
                  entity_of: Callable[[str], str]) -> tuple[str, Figure] | None:
    """``(answer text with [n] markers, the figure)`` for a figure question, or ``None`` when the tables of
    the hits' documents hold no cell for it. ``tables_of(doc_id)`` gives a document's tables,
    ``entity_of(doc_id)`` the company it reports on. Marker [n] is ``figure.cells`` n."""
    if not asks_figure(query):
        return None
    term = next(t for t in query.finance if t.kind in ("figure", "ratio"))
    docs = list(dict.fromkeys(h.chunk.doc_id for h in hits))[:3]
    pages = {(h.chunk.doc_id, p): rank for rank, h in reversed(list(enumerate(hits)))
             for p in range(h.chunk.page, h.chunk.page_end + 1)}
    period = query.years[-1] if query.years else ""  # "FY2019 - FY2020 growth" asks about 2020
    for doc_id in docs:
        tables = tables_of(doc_id)
        if not tables:
            continue
        if term.kind == "ratio":
            value = _derived(term.formula, term.display, tables, period, pages, doc_id, query)
        elif _GROWTH.search(query.focus) and period:
            value = _growth(term.name, tables, period, pages, doc_id, query)
        else:
            found = find_cell(term.name, tables, period, pages, doc_id, query)
            value = _direct(found) if found else None
        if value is not None:
            metric = _metric_name(term.name, query)
            if value.growth:
                metric = f"{metric}同比增长率" if query.lang == "zh" else f"{metric} growth"
            figure = Figure(value=value.value, unit=value.unit, scale=value.scale, period=value.period,
                            entity=entity_of(doc_id), metric=metric, formula=value.formula, cells=value.cells)
            return _sentence(query, figure), figure
    return None


@dataclass(frozen=True)
class _Value:
    value: float
    unit: str
    scale: float
    period: str
    cells: tuple[FigureCell, ...]
    formula: str = ""
    growth: bool = False


def find_cell(name: str, tables: Sequence[Table], period: str, pages: dict[tuple[str, int], int], doc_id: str,
              query: Query) -> Found | None:
    """The best cell for vocabulary term ``name`` in ``period`` ("" = the latest actual) among ``tables``."""
    term = next(t for t in vocabulary() if t.name == name)
    phrases = [_norm(p) for p in (*term.printed, *term.asked) if len(_norm(p)) >= 2]
    best: Found | None = None
    for table in tables:
        table_score = (0.6 if table.statement == term.statement else 0.0) + _page_score(pages, doc_id, table.page)
        for row in table.rows:
            label = _label_score(_norm(row.label), phrases)
            if label < MIN_LABEL_SCORE:
                continue
            cell = _cell(row, period, query)
            if cell is None or cell.value is None or not _qualified(row, table, query, term.phrases):
                continue
            if is_ratio_label(row.label) != (term.display == "percent"):
                label -= 0.5  # "同比（%）" under 营业收入 is not the revenue
            score = label + table_score
            if best is None or score > best.score:
                best = Found(table, row, cell, score, name)
    return best


def _qualified(row: Row, table: Table, query: Query, phrases: Sequence[str]) -> bool:
    """Whether the row carries what the question adds to the metric: "筹资活动产生的现金流量净额" is not the
    cash line, "2019年研发人员数量" not the R&D expense line. Words of the question that are neither the
    metric's phrases, its period, its company nor question words must mostly appear around the row."""
    said = _GROWTH.sub(" ", query.focus.casefold())
    asked = [p for t in query.finance for p in t.phrases]
    for phrase in sorted((*phrases, *asked, subject(query.text)), key=len, reverse=True):
        if phrase:
            said = said.replace(phrase.casefold(), " ")
    source = table.source.casefold()
    words = [w for w in content_terms(YEAR.sub(" ", said))
             if not w.isdigit() and w not in _GENERIC and w not in source]
    if not words:
        return True
    around = f"{row.label} {row.parent} {table.title}".casefold()
    missing = [w for w in words if w not in around]
    return len(missing) <= len(words) / 3


# Words a figure question adds that name no line item: scope, units, time and the company's own label.
_GENERIC = frozenset("公司 本公司 集团 多少 多少元 金额 数额 规模 合计 总额 元 万元 亿元 年末 年底 期末 年度 全年 当年 截至 "
                     "账上 实现 确认 报表 合并 计算 按 根据 是 为 有 的 了 情况 在 预测 预计 估计 usd million millions billion "
                     "amount total value company fiscal year end round decimal places answer units percent "
                     "reported reports was were what figure number forecast estimate expected".split())


def _label_score(label: str, phrases: list[str]) -> float:
    """1.5 for a label that is the phrase, ~1 for one that starts with it, less the more it adds."""
    best = 0.0
    label = _ITEM_PREFIX.sub("", label)
    for phrase in phrases:
        if label == phrase:
            return 1.5
        if len(phrase) < _SHORT_PHRASE and " " not in phrase:
            continue  # "现金", "cash": only the line that is exactly that, not "支付其他与筹资活动有关的现金"
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


def _direct(found: Found) -> _Value:
    unit, scale = row_scale(found.row, found.table)
    value = found.cell.value or 0.0
    if value < 0 and _OUTFLOW.search(found.row.label):
        value = -value  # an outflow printed in parentheses: the amount asked for is its size
    return _Value(value, _unit_text(found.table, unit, found.row), scale, found.cell.period,
                  (_figure_cell(1, found),))


def _derived(formula: str, display: str, tables: Sequence[Table], period: str,
             pages: dict[tuple[str, int], int], doc_id: str, query: Query) -> _Value | None:
    """The ratio ``formula`` over the cells of its inputs, all from one period; ``None`` if one is missing."""
    tree = ast.parse(formula, mode="eval")
    found: dict[str, Found] = {}
    for name in dict.fromkeys(n.id for n in ast.walk(tree) if isinstance(n, ast.Name)):
        cell = find_cell(name, tables, period, pages, doc_id, query)
        if cell is None:
            return None
        found[name] = cell
    period = period or next(iter(found.values())).cell.period
    if len({period_year(f.cell.period) for f in found.values()}) > 1:
        return None  # inputs from different years would compute nonsense
    values = {k: abs(f.cell.value or 0.0) if _OUTFLOW.search(f.row.label) else (f.cell.value or 0.0)
              for k, f in found.items()}
    try:
        value = _evaluate(tree.body, values)
    except ZeroDivisionError:
        return None
    first = next(iter(found.values()))
    if display == "percent":
        value, unit, scale = value * 100, "%", 1.0
    elif display == "amount":
        word, scale = row_scale(first.row, first.table)
        unit = _unit_text(first.table, word, first.row)
    else:
        unit, scale = "x", 1.0
    shown = formula
    for i, (key, f) in enumerate(found.items(), 1):
        shown = re.sub(rf"\b{key}\b", f"{_metric_name(key, query)} {f.cell.text} [{i}]", shown)
    shown += f" = {format_value(value * 100 if display == 'percent' else value, '%' if display == 'percent' else 'x')}"
    shown += "%" if display == "percent" else ""
    cells = tuple(_figure_cell(i, f) for i, f in enumerate(found.values(), 1))
    return _Value(value, unit, scale, first.cell.period, cells, shown)


def _growth(name: str, tables: Sequence[Table], period: str, pages: dict[tuple[str, int], int], doc_id: str,
            query: Query) -> _Value | None:
    """Year-on-year growth of a line item: this period's cell over the same row's previous-year cell."""
    found = find_cell(name, tables, period, pages, doc_id, query)
    if found is None:
        return None
    previous = _cell(found.row, str(int(period) - 1), query)
    if previous is None or not previous.value or found.cell.value is None:
        return None
    value = (found.cell.value / previous.value - 1) * 100
    earlier = Found(found.table, found.row, previous, found.score, name)
    metric = _metric_name(name, query)
    formula = f"{metric} {period} [1] / {metric} {int(period) - 1} [2] - 1"
    cells = (_figure_cell(1, found), _figure_cell(2, earlier))
    return _Value(value, "%", 1.0, found.cell.period, cells, formula, growth=True)


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
    term = next(t for t in vocabulary() if t.name == name)
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
        shown = f"{symbol}{amount} {scale}".strip()
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
