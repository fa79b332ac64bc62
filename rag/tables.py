"""Tables as data: statements, key-figure tables and broker forecast tables as rows of cells with periods.

One model serves a 10-K's cash-flow statement, an annual report's 主要会计数据 and a broker's 盈利预测与估值
table: a :class:`Table` has a page, a title, the statement kind it heads (the vocabulary's statement names),
the unit and scale it prints in, column headers resolved to periods, and rows of cells. Ingestion recovers
tables from page text (``ingest.tables``); answers read them to cite a figure's cell.

The parsing of what a cell, a header or a unit line says lives here, once: printed values ("(1,577)",
"—", "14.55%", "1.2万"), periods ("FY2018", "2019年", "2026E", "July 29, 2023", 本期 / 上年同期) and scales
("(Millions)", "in thousands, except per share", 单位：万元, "（百万元）").
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from functools import lru_cache

from rag.text import squeeze

__all__ = ["Cell", "NamedRow", "Row", "Table", "named_rows", "parse_period", "parse_value", "row_unit", "scale_of",
           "table_from_dict", "tables_from_json", "tables_to_json"]

# A printed number: optional sign or parentheses, currency, thousands separators, decimals, percent.
NUMBER = re.compile(
    r"^(?P<open>[(（])?(?P<sign>[-−–+])?(?:US\$|HK\$|RMB|\$|¥|￥)?\s?(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(?P<pct>%)?(?P<cn>万|亿)?(?P<close>[)）])?(?P<pct2>%)?$"
)
_POINTS = re.compile(r"^(增加|减少)(\d+(?:\.\d+)?)个百分点$")  # a change of a percentage, as annual reports print it
DASHES = frozenset({"—", "–", "-", "--", "−", "/", "n/a", "N/A", "NM", "nm", "n.m.", "*"})

_MONTHS = "jan feb mar apr may jun jul aug sep oct nov dec".split()
_MONTH = r"(Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?" \
         r"|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
PERIOD_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^(?:FY|CY)\s?'?((?:19|20)?\d{2})([AEFP])?$", re.I), "fy"),
    (re.compile(r"^((?:19|20)\d{2})\s*([AEFP]|年度?(?:预测|实际)?)?$", re.I), "year"),
    (re.compile(r"^((?:19|20)\d{2})\s*年\s*(末|底)$"), "year_end"),
    (re.compile(r"^(\d{2})([AEFP]|CL|CLe|e)$", re.I), "short_year"),  # 26E; 26CL (CLSA's estimate)
    (re.compile(r"^(?:0?[1369]|12)/(\d{2})([AEFP])?$", re.I), "month_year"),  # 12/25, 3/26e: a fiscal year end
    (re.compile(r"^((?:19|20)\d{2})[/-]?(?:Q|年第?)([1-4])(?:季度?)?([AEFP])?$", re.I), "quarter"),
    (re.compile(r"^([1-4])Q((?:19|20)?\d{2})([AEFP])?$", re.I), "quarter_rev"),
    (re.compile(r"^((?:19|20)\d{2})\s*年?\s*(H1|H2|1H|2H|上半年|下半年|半年度)([AEFP])?$", re.I), "half"),
    (re.compile(r"^((?:19|20)\d{2})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日$"), "date_zh"),
    (re.compile(rf"^{_MONTH}\s+(\d{{1,2}}),?\s+((?:19|20)\d{{2}})$", re.I), "date_en"),
    (re.compile(r"^((?:19|20)\d{2})[-/.](\d{1,2})[-/.](\d{1,2})$"), "date_iso"),
)
RELATIVE_PERIODS = {
    "本期": "current", "本年": "current", "本报告期": "current", "本期金额": "current", "本期发生额": "current",
    "本年金额": "current", "本年发生额": "current", "期末余额": "current", "期末": "current", "年末": "current",
    "本期末": "current", "本年末": "current",
    "上期": "previous", "上年同期": "previous", "上年": "previous", "上期金额": "previous", "上期发生额": "previous",
    "上年金额": "previous", "上年发生额": "previous", "期初余额": "previous", "期初": "previous", "年初": "previous",
    "上年末": "previous", "上年年末": "previous", "上期末": "previous",
}

# Scale words as statements print them, English and Chinese, longest first.
_SCALES: tuple[tuple[re.Pattern[str], str, float], ...] = (
    (re.compile(r"\bin\s+billions\b|\(billions?\)|\bbillions of\b|[（(]\s*(?:us\$|hk\$|\$)?\s*bn\s*[)）]", re.I),
     "billion", 1e9),
    (re.compile(r"\bin\s+millions\b|\(\s*(?:dollars\s+in\s+)?millions?[^)]*\)|\bmillions of\b"
                r"|[（(]\s*(?:us\$|hk\$|rmb|\$)?\s*m(?:n|m)?\s*[)）]", re.I), "million", 1e6),
    (re.compile(r"\bin\s+thousands\b|\(\s*(?:dollars\s+in\s+)?thousands?[^)]*\)|\bthousands of\b", re.I),
     "thousand", 1e3),
)
_CN_UNITS = {"亿元": 1e8, "百万元": 1e6, "千万元": 1e7, "万元": 1e4, "千元": 1e3, "元": 1.0,
             "亿港元": 1e8, "百万港元": 1e6, "百万美元": 1e6, "亿美元": 1e8, "万股": 1e4, "百万股": 1e6, "亿股": 1e8}
_CN_UNIT = re.compile(r"(?:单位|金额单位|币种)\s*[:：]\s*(?:人民币)?\s*(亿元|百万元|千万元|万元|千元|元|百万港元|百万美元|亿港元|亿美元)")
_CN_BRACKET = re.compile(r"[（(]\s*(?:人民币|港币|港元|美元|rmb|hk\$|us\$)?\s*(亿|百万|千万|万|千)\s*(?:元|港元|美元)?\s*[)）]",
                         re.I)  # "(人民币百万)", "（百万元）" in a table's title line
_LABEL_UNIT = re.compile(r"[（(]\s*([^()（）]{0,12}?)\s*[)）]\s*$")
_PERCENT_LABEL = re.compile(r"%|率|\bratio\b|\brate\b|\byoy\b|\bgrowth\b|同比|增速|增长|占比|比重|\bpct\b|倍|\(x\)|\bp/?e\b|\bp/?b\b|"
                            r"\bev/ebitda\b", re.I)


@dataclass(frozen=True)
class Cell:
    """One value of a row: as printed, parsed (``None`` for "—" or text), and the column it stands under."""

    text: str
    value: float | None
    column: str  # the column header as printed: "2018", "2026E", "本期", "July 29, 2023"
    period: str  # the header resolved (:func:`parse_period`): "2018", "2026E", "2023-07-29", "current"


@dataclass(frozen=True)
class Row:
    """A table row: its label (with the label line it is indented under), cells, and the line as printed."""

    label: str
    cells: tuple[Cell, ...]
    line: str  # the row's text exactly as it stands in the page text: the quote a citation shows
    parent: str = ""
    unit: str = ""  # the row's own unit where its label says one: "百万元", "元/股", "%", "x"

    def cell(self, period: str) -> Cell | None:
        return next((c for c in self.cells if c.period == period), None)


@dataclass(frozen=True)
class Table:
    """A table on a page of one document: statement kind, unit and scale, period columns and rows."""

    doc_id: str
    source: str
    page: int
    title: str
    statement: str  # a rag.terms.STATEMENTS name, or "" when the table heads none
    unit: str  # the table's scale word as printed ("million", "万元", "元"), "" when none is printed
    scale: float  # what one printed unit is worth (1e6 for "(Millions)", 1e4 for 万元), 1 when unknown
    columns: tuple[str, ...]
    periods: tuple[str, ...]
    rows: tuple[Row, ...]
    continued_from: int = 0  # the page whose header this continuation carries over (0: none)
    currency: str = ""  # "USD", "CNY", "HKD" where the page says so
    header_line: str = ""  # the header's (last) line as printed, and its page (a continuation's is earlier)
    header_page: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


def parse_value(text: str) -> float | None:
    """The number a cell prints: "(1,577)" -> -1577, "14.55%" -> 14.55, "1.2万" -> 12000, "减少4.07个百分点" ->
    -4.07, "—" -> None."""
    text = text.strip().replace(" ", "")
    points = _POINTS.match(text)
    if points:
        value = float(points[2])
        return -value if points[1] == "减少" else value
    match = NUMBER.match(text)
    if not match:
        return None
    value = float(match["num"].replace(",", ""))
    if match["cn"]:
        value *= 1e4 if match["cn"] == "万" else 1e8
    negative = bool(match["sign"] and match["sign"] != "+") or bool(match["open"] and match["close"])
    if bool(match["open"]) != bool(match["close"]):
        return None  # "(383" is a cut cell, not a value
    return -value if negative else value


def is_value_token(token: str) -> bool:
    """Whether ``token`` prints a value (or an empty value's dash) rather than a word."""
    return token in DASHES or parse_value(token) is not None


@lru_cache(maxsize=8192)
def parse_period(header: str) -> str:
    """A column header as a period: "FY2018"/"2018"/"2018年" -> "2018", "2026E" -> "2026E", "2024Q2"/"2Q24" ->
    "2024Q2", "2023年12月31日"/"December 31, 2023" -> "2023-12-31", 本期 -> "current"; "" when it is none."""
    text = header.strip().strip("()（）")
    if not text:
        return ""
    relative = RELATIVE_PERIODS.get(text.replace(" ", ""))
    if relative:
        return relative
    for pattern, kind in PERIOD_PATTERNS:
        match = pattern.match(text)
        if not match:
            continue
        if kind == "fy":
            year = match[1] if len(match[1]) == 4 else f"20{match[1][-2:]}"
            return year + (match[2] or "").upper()
        if kind == "year":
            suffix = (match[2] or "").upper()
            return match[1] + (suffix if suffix in ("A", "E", "F", "P") else "")
        if kind == "year_end":
            return f"{match[1]}-12-31"
        if kind == "short_year":
            return f"20{match[1]}{'A' if match[2].upper() == 'A' else 'E'}"
        if kind == "month_year":
            return f"20{match[1]}{(match[2] or '').upper()}"
        if kind == "quarter":
            return f"{match[1]}Q{match[2]}{(match[3] or '').upper()}"
        if kind == "quarter_rev":
            year = match[2] if len(match[2]) == 4 else f"20{match[2]}"
            return f"{year}Q{match[1]}{(match[3] or '').upper()}"
        if kind == "half":
            half = "H2" if match[2].upper() in ("H2", "2H", "下半年") else "H1"
            return f"{match[1]}{half}{(match[3] or '').upper()}"
        if kind == "date_zh":
            return f"{match[1]}-{int(match[2]):02d}-{int(match[3]):02d}"
        if kind == "date_en":
            month = _MONTHS.index(match[1][:3].casefold()) + 1
            return f"{match[3]}-{month:02d}-{int(match[2]):02d}"
        if kind == "date_iso":
            return f"{match[1]}-{int(match[2]):02d}-{int(match[3]):02d}"
    return ""


def period_year(period: str) -> str:
    """The calendar year a period lies in ("2026E" -> "2026", "2023-07-29" -> "2023"), "" for relative ones."""
    match = re.match(r"(?:19|20)\d{2}", period)
    return match.group(0) if match else ""


def scale_of(text: str) -> tuple[str, float]:
    """The scale a table's heading lines print: ("million", 1e6) for "(Millions)" or "in millions, except per
    share"; ("万元", 1e4) for "单位：万元"; ("", 1.0) when none is printed."""
    cn = _CN_UNIT.search(text)
    if cn:
        return cn.group(1), _CN_UNITS.get(cn.group(1), 1.0)
    bracket = _CN_BRACKET.search(text)
    if bracket:
        return f"{bracket.group(1)}元", _CN_UNITS[f"{bracket.group(1)}元"]
    for pattern, word, scale in _SCALES:
        if pattern.search(text):
            return word, scale
    return "", 1.0


def row_unit(label: str) -> tuple[str, str]:
    """``(label without its unit, unit)``: "归母净利润（百万元）" -> ("归母净利润", "百万元"), "同比（%）" -> ("同比",
    "%"), "EPS-最新摊薄（元/股）" -> ("EPS-最新摊薄", "元/股"); a label without a unit is returned whole."""
    match = _LABEL_UNIT.search(label)
    if match:
        inside = unicodedata.normalize("NFKC", match.group(1)).strip()
        if inside in ("%", "％", "x", "X", "倍") or inside in _CN_UNITS or "/" in inside or inside.endswith("元") \
                or inside.casefold() in ("millions", "thousands", "billions", "mn", "bn", "m"):
            return label[: match.start()].strip(), inside.replace("％", "%")
    return label.strip(), ""


def row_scale(row: Row, table: Table) -> tuple[str, float]:
    """The unit word and scale a row's values are printed in: its own unit, else the table's, except that
    per-share, percentage and ratio rows are never scaled by the table's "(Millions)"."""
    if row.unit:
        if row.unit in _CN_UNITS:
            return row.unit, _CN_UNITS[row.unit]
        lowered = row.unit.casefold()
        for word, scale in (("billion", 1e9), ("bn", 1e9), ("million", 1e6), ("mn", 1e6), ("thousand", 1e3)):
            if lowered.startswith(word):
                return word if word in ("billion", "million", "thousand") else \
                    {"bn": "billion", "mn": "million"}[word], scale
        return row.unit, 1.0
    if is_ratio_label(row.label) or re.search(r"per\s+share|每股|eps\b", row.label, re.I):
        return "", 1.0
    return table.unit, table.scale


_RATIO_SECTION = re.compile(r"\s*(?:growth|增长率?|成长能力|valuation(?:\s*\(x\))?|估值(?:指标)?|profitability|盈利能力|"
                            r"ratios?|比率分析|per\s+share|每股指标)\s*[:：]?\s*", re.I)


def is_ratio_section(title: str) -> bool:
    """Whether a table or section title heads rows of ratios ("Growth", "Valuation (x)", "比率分析"): its
    "Revenue" row is revenue growth, not revenue."""
    return bool(_RATIO_SECTION.fullmatch(title))


def is_ratio_label(label: str) -> bool:
    """Whether a row label names a percentage or ratio rather than an amount."""
    return bool(_PERCENT_LABEL.search(label))


def table_from_dict(data: dict) -> Table:
    rows = tuple(Row(label=r["label"], cells=tuple(Cell(**c) for c in r["cells"]), line=r["line"],
                     parent=r.get("parent", ""), unit=r.get("unit", "")) for r in data["rows"])
    fields = {k: v for k, v in data.items() if k != "rows"}
    fields["columns"] = tuple(fields["columns"])
    fields["periods"] = tuple(fields["periods"])
    return Table(rows=rows, **fields)


def tables_to_json(tables: Iterable[Table]) -> str:
    return json.dumps([t.to_dict() for t in tables], ensure_ascii=False)


def tables_from_json(text: str) -> list[Table]:
    return [table_from_dict(item) for item in json.loads(text)]


# A table's title line ("表1：本周一级行业估值", "Figure 7: Tencent: valuation…"): it names the table, not a column.
TITLE_LINE = re.compile(r"^\s*(?:图表|附表|表|图|Figure|Fig\.|Table|Exhibit|Chart)\s*\d", re.I)
_PROSE = re.compile(r"[。；！？]|[a-z][.;]\s*$")  # a sentence, not a column header


@dataclass(frozen=True)
class NamedRow:
    """A table row a question names (:func:`named_rows`): its line as printed (stripped), its label, the
    column headers above it, and the header line right above the rows as printed (stripped)."""

    line: str
    label: str
    columns: str
    header: str = ""


def _says_words(question: str, words: list[str]) -> bool:
    """Whether ``question`` (case-folded, single-spaced) says ``words`` as whole words: "PE" is not in "per share"."""
    phrase = r"\s*".join(re.escape(w.casefold()) for w in words)
    return re.search(rf"(?<![a-z0-9]){phrase}(?![a-z0-9])", question) is not None


def named_rows(text: str, question: str, keys: Iterable[str]) -> tuple[NamedRow, ...]:
    """The rows of a table's text that ``question`` names under a column it names.

    A row is a line with two values at least. It is named when the question says its label (the words before
    its first value: "计算机", "华泰证券", "International games") and its column headers say another of the
    question's key terms (``keys``: "PB", "杠杆率"), not one that holds the label ("计算机行业"). The column
    headers are the lines above the row since the last sentence, without the table's title and without the
    first word of the line right above the rows, which names the labels' column (行业名称, 项目, 公司).
    "计算机行业的PB(LF)估值是多少倍？" names the row "计算机 75.75 -4.13% 85.14% 3.99 …" under "PE(TTM)(倍) …
    PB(LF)(倍) …".
    """
    said = squeeze(question)
    spaced = " ".join(question.casefold().split())
    asked = tuple(squeeze(k) for k in keys if len(k) > 1 and not k.isdigit())
    header: list[str] = []
    named: list[NamedRow] = []
    for line in text.splitlines():
        tokens = line.split()
        first = next((i for i, token in enumerate(tokens) if is_value_token(token)), len(tokens))
        if sum(1 for token in tokens[first:] if is_value_token(token)) < 2:
            if _PROSE.search(line):
                header = []  # a sentence: the headers of the next rows start after it
            elif tokens and not TITLE_LINE.match(line):
                header.append(line)
            continue
        label = squeeze("".join(tokens[:first]))
        if len(label) < 2 or label not in said or label.isascii() and not _says_words(spaced, tokens[:first]):
            continue
        columns = " ".join([*header[:-1], *header[-1].split()[1:]]) if header else ""
        above = squeeze(columns)
        if any(k not in label and label not in k and k in above for k in asked):
            named.append(NamedRow(line.strip(), label, columns, header[-1].strip()))
    return tuple(named)
