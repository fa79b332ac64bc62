"""The sentence under a cross-report table: as-of date, the ratings, the range of targets and forecasts (with
how far apart the brokers are) and the revisions the reports state, each figure cited by its cell's [n]."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from rag.companies import Coverage
from rag.crossquestion import CrossQuestion
from rag.types import TableCell, TableRow

__all__ = ["COLUMNS", "ReportRow", "display_name", "money", "sentence"]

# The order of a table answer's columns (the forecast column only when a forecast is asked).
COLUMNS = ("broker", "date", "rating", "target_price", "forecast")
SAME_SCALE = 3.0  # forecasts further apart than this factor are printed in different units
_CURRENCY_ZH = {"HKD": "港元", "USD": "美元", "CNY": "元"}
_SYMBOL = {"HKD": "HK$", "USD": "US$", "CNY": "RMB"}


@dataclass(frozen=True)
class ReportRow:
    """One report's row with the printed values the filters and the sentence read."""

    row: TableRow
    coverage: Coverage
    target: str = ""  # as printed: "155.00"
    previous: str = ""
    forecast: str = ""
    forecast_value: float | None = None
    unit: str = ""  # the forecast's unit: "百万元", "RMB mn"
    move: str = ""  # "up" / "down" where the report moved its target (rag.crossreport.target_move)

    def cell(self, field: str) -> TableCell:
        return self.row.cells[COLUMNS.index(field)]


def money(amount: str, currency: str, zh: bool) -> str:
    """A printed price with its currency: "155.00元", "HK$780.00", "27.50 EUR"."""
    if zh:
        return f"{amount}{_CURRENCY_ZH.get(currency, currency)}"
    symbol = _SYMBOL.get(currency, "")
    return f"{symbol}{amount}" if symbol else f"{amount} {currency}".strip()


def sentence(asked: CrossQuestion, rows: Sequence[ReportRow], covering: Sequence[Coverage]) -> str:
    """As-of date and count, ratings, target range, forecast range and the revisions, in one sentence."""
    zh = asked.lang == "zh"
    name = display_name(asked)
    as_of = max((r.coverage.date for r in rows), default="") or max((c.date for c in covering), default="")
    if not rows:
        if zh:
            return f"{f'截至{as_of}，' if as_of else ''}覆盖{name}的{len(covering)}份报告中没有符合条件的。"
        return f"None of the {len(covering)} reports on {name}{f' (as of {as_of})' if as_of else ''} matches the question."
    parts = [_ratings(rows, zh), _targets(rows, zh)]
    if "forecast" in asked.fields:
        parts.append(_forecasts(rows, asked, zh))
    parts.append(_revisions(rows, zh))
    said = ("；" if zh else "; ").join(p for p in parts if p)
    brokers = len({r.coverage.broker for r in rows})
    if zh:
        return f"截至{as_of}，{name}共{len(rows)}份报告（{brokers}家券商）：{said}。"
    count = f"{len(rows)} report{'s' if len(rows) > 1 else ''} from {brokers} broker{'s' if brokers > 1 else ''}"
    return f"As of {as_of}, {count} on {name}: {said}."


def display_name(asked: CrossQuestion) -> str:
    """The company's name in the question's language where its reports print one ("腾讯控股", "Tencent")."""
    names = (asked.company.name, *asked.company.names)
    return next((n for n in names if bool(re.search("[\u4e00-\u9fff]", n)) == (asked.lang == "zh")), names[0])


def _ratings(rows: Sequence[ReportRow], zh: bool) -> str:
    counts = Counter(r.coverage.rating for r in rows if r.coverage.rating)
    if not counts:
        return ""
    if len(counts) == 1 and sum(counts.values()) == len(rows) and len(rows) > 1:
        word = next(iter(counts))
        return f"评级均为{word}" if zh else f"all rate it {word}"
    if zh:
        return "评级" + "、".join(f"{w}{n}份" for w, n in counts.most_common())
    return "ratings " + ", ".join(f"{w} ×{n}" for w, n in counts.most_common())


def _targets(rows: Sequence[ReportRow], zh: bool) -> str:
    stated = [r for r in rows if r.target and r.coverage.target_price is not None]
    currencies = {r.coverage.target_currency for r in stated}
    if not stated or len(currencies) > 1:
        return ""
    currency = currencies.pop()
    span = _span([(r.coverage.target_price or 0.0, money(r.target, currency, zh), r.cell("target_price"))
                  for r in stated], zh)
    return (f"目标价{span}{_of(len(stated), len(rows), zh)}" if zh
            else f"target prices {span}{_of(len(stated), len(rows), zh)}")


def _forecasts(rows: Sequence[ReportRow], asked: CrossQuestion, zh: bool) -> str:
    """The range of the forecasts where they are one quantity: one unit where any is printed, and values within
    a factor of :data:`SAME_SCALE` (RMB 828bn beside RMB 823,452mn is no range)."""
    stated = [r for r in rows if r.forecast_value is not None]
    units = {r.unit for r in stated if r.unit}
    values = [abs(r.forecast_value or 0.0) for r in stated]
    if not stated or len(units) > 1 or min(values) <= 0 or max(values) / min(values) > SAME_SCALE:
        return ""
    unit = units.pop() if units else ""
    span = _span([(r.forecast_value or 0.0, f"{r.forecast}{unit}" if zh else f"{r.forecast} {unit}".strip(),
                   r.cell("forecast")) for r in stated], zh)
    if zh:
        return f"{asked.year}年{asked.metric_label}预测{span}{_of(len(stated), len(rows), zh)}"
    return f"{asked.year}E {asked.metric_label} forecasts {span}{_of(len(stated), len(rows), zh)}"


def _span(values: Sequence[tuple[float, str, TableCell]], zh: bool) -> str:
    """"low[n]–high[m], k% apart" over (value, printed, cell) triples; the one value where all agree."""
    low, high = min(values, key=lambda v: v[0]), max(values, key=lambda v: v[0])
    if low[0] == high[0]:
        return f"{low[1]}{_marker(low[2])}" + ("" if len(values) == 1 else "（一致）" if zh else " (all agree)")
    apart = (high[0] / low[0] - 1) * 100 if low[0] > 0 else None
    spread = "" if apart is None else f"，高低相差{apart:.0f}%" if zh else f", {apart:.0f}% apart"
    return f"{low[1]}{_marker(low[2])}–{high[1]}{_marker(high[2])}{spread}"


def _of(stated: int, rows: int, zh: bool) -> str:
    if stated == rows:
        return ""
    return f"（{stated}/{rows}份给出）" if zh else f" ({stated} of {rows} state one)"


def _revisions(rows: Sequence[ReportRow], zh: bool) -> str:
    """The target revisions and rating actions the reports print (previous target → new, 上调/下调/首次)."""
    said = []
    for r in rows:
        c = r.coverage
        if r.move and r.target:
            new, mark = money(r.target, c.target_currency, zh), _marker(r.cell("target_price"))
            old = money(r.previous, c.target_currency, zh) if r.previous else ""
            if zh:
                said.append(f"{c.broker}{'上调' if r.move == 'up' else '下调'}目标价至{new}"
                            + (f"（原{old}）" if old else "") + mark)
            else:
                said.append(f"{c.broker} {'raised' if r.move == 'up' else 'cut'} its target to {new}"
                            + (f" from {old}" if old else "") + mark)
        if c.rating_action in ("上调", "下调", "首次"):
            mark = _marker(r.cell("rating"))
            if zh:
                verb = "首次覆盖，评级" if c.rating_action == "首次" else f"{c.rating_action}评级至"
                said.append(f"{c.broker}{verb}{c.rating}{mark}")
            else:
                verb = {"首次": "initiated at", "上调": "upgraded to", "下调": "downgraded to"}[c.rating_action]
                said.append(f"{c.broker} {verb} {c.rating}{mark}")
    if not said:
        return "各报告未注明评级或目标价的调整" if zh else "no report states a rating or target change"
    return "调整：" + "，".join(said) if zh else "revisions: " + ", ".join(said)


def _marker(cell: TableCell) -> str:
    return f"[{cell.citation}]" if cell.citation else ""
