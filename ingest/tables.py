"""Recover tables from page text: a header line of periods, then rows of a label and one value per column.

pypdfium2 keeps a statement row on one text line with its label and all its period values
(``Purchases of property, plant and equipment (PP&E) (1,577) (1,373) (1,420)`` under ``(Millions) 2018 2017
2016``; ``归母净利润（百万元） 11,036 13,461 15,009`` under ``2024A 2025A 2026E``), so rows are read from lines:
the values are the line's trailing printed numbers, the label what stands before them. Measured against
pdfplumber and camelot on 38 labelled tables (docs/tables.md): ours reads 96% of the labelled cells at ~90
pages/s, camelot's stream mode 67% at 5 pages/s, pdfplumber 16-27% at 2 pages/s. A row that leaves a column
empty is placed by its characters' positions on the PDF page (:class:`PdfPlacer`).
A table without a period header (lists, org charts) is not a table here.

Tables continued on the next page (rows before any header, the same number of values) carry the previous
page's header over.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ingest.pdfpages import normalized_chars
from rag.tables import (
    RELATIVE_PERIODS,
    Cell,
    Row,
    Table,
    is_value_token,
    parse_period,
    parse_value,
    row_unit,
    scale_of,
)
from rag.terms import statement_headings

__all__ = ["extract_tables", "page_tables"]

_MONTH = r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?" \
         r"|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
# Header tokens: whole dates first (they contain spaces), then whitespace-separated words.
_HEADER_TOKEN = re.compile(
    rf"{_MONTH}\s+\d{{1,2}},?\s+(?:19|20)\d{{2}}|(?:19|20)\d{{2}}\s*年\s*\d{{1,2}}\s*月\s*\d{{1,2}}\s*日|\S+", re.I)
_CHANGE_COLUMN = re.compile(r"增减|变动|变化|change|%|同比|环比|比上年|yoy|qoq|variance|cons\.?$|consensus|diff", re.I)
_CURRENCY_TOKEN = frozenset({"$", "US$", "HK$", "¥", "￥", "RMB", "€", "£"})
_GROUPS = ((re.compile(r"three\s+months|quarter\s+ended|第[一二三四]季度|本季度", re.I), "3M"),
           (re.compile(r"six\s+months|半年", re.I), "6M"),
           (re.compile(r"nine\s+months|前三季度|年初至报告期末", re.I), "9M"),
           (re.compile(r"twelve\s+months|years?\s+ended|fiscal\s+years?", re.I), "12M"))
# Cleaning joins an ideograph to the number after it ("应收票据4,668,878.50"): split them again to read the row.
_GLUED = re.compile(r"(?<=[\u4e00-\u9fff）)])(?=[-(（]?\d{1,3}(?:,\d{3})+(?:\.\d+)?(?!\d))")
_NOTE_REF = re.compile(r"\s*(?:[一二三四五六七八九十]{1,3}、\s?\d{1,3}(?:[（(]\d{1,2}[)）])?|\(?note\s+\d{1,2}\)?)$", re.I)
_YEAR_GLUED = re.compile(r"(?<=\S)((?:19|20)\d{2}\s?年(?!\s?\d{1,2}\s?月))")  # "主要财务指标2019年2018年"
_YEAR_BEFORE_WORD = re.compile(r"((?:19|20)\d{2}\s?年)(?=[\u4e00-\u9fff](?<![末初度第上下]))")
_MONTH_DAY = re.compile(rf"\b({_MONTH}\s+\d{{1,2}}),?(?!\d)", re.I)
_YEAR_TOKEN = re.compile(r"(?<![\d,.])((?:19|20)\d{2})(?![\d,.%])")
# A line that holds only header pieces: month-days, years, column-group words, "(Unaudited)" (checked word
# by word: one pattern over the whole line backtracks without end on long lines of numbers).
_FRAGMENT_WORD = re.compile(
    rf"{_MONTH}|\d{{1,2}},?|(?:19|20)\d{{2}}|\(unaudited\)|three|six|nine|twelve|thirteen|fifty-two|months?|weeks?"
    r"|ended|ending|at|as|of|fiscal|years?|quarters?|and|%|change|第[一二三四]季度|[（(]\d{1,2}-\d{1,2}月份?[)）]", re.I)
_QUARTER_ZH = re.compile(r"第([一二三四])季度")
_HEADER_MARK = "\x00"
_YEAR_SPACED = re.compile(r"((?:19|20)\d{2})\s+(年度|年末|年初|年)")  # "2019 年度" as some reports set it
_LABEL_BEFORE_YEAR = re.compile(r"(?<=[\u4e00-\u9fff）)\]])(?=(?:19|20)\d{2}(?:[AEFP]|年)?(?:\s|$))")  # "项目2024"
_STUB_HEADER = re.compile(r"(?:项目|科目|附注|单位|年结[^ ]*|\s)+")
_YEARISH = re.compile(r"(?:19|20)\d{2}|(?<![\d.,])\d{2}(?:[AEFP]|CL)\b|\b[1-4]Q\d{2}|\b(?:0?[1369]|12)/\d{2}[AEFP]?\b",
                      re.I)
_RELATIVE = re.compile("|".join(sorted(RELATIVE_PERIODS, key=len, reverse=True)))
_PROSE_END = ("。", ".", "；", ";")  # a line ending in a colon heads the rows under it
MAX_HEADER = 300  # characters: a longer line is prose, never a header
MAX_LABEL = 120  # characters: a longer line is prose, which ends a table
_HEADER_PART = 10  # characters: a longer line under a header is a row label, not a wrapped header cell
MAX_GAP = 12  # label-only lines in a row a table tolerates (section labels, wrapped labels, 报表 rows left empty)


@dataclass(frozen=True)
class _Header:
    columns: tuple[str, ...]
    periods: tuple[str, ...]
    prefix: str


@dataclass
class _Open:
    header: _Header
    page: int
    title: str
    statement: str
    unit: str
    scale: float
    currency: str
    continued_from: int = 0
    rows: list[Row] = field(default_factory=list)
    header_line: str = ""  # the header's (last) line as printed, for placing a sparse row's values
    header_page: int = 0


# Where a sparse row's values stand: (page, header page, header line, row line, values, columns) -> each
# value's column index.
Placer = Callable[[int, int, str, str, Sequence[str], int], list[int] | None]


def extract_tables(pages: Sequence[str], doc_id: str = "", source: str = "", pdf: str | Path | None = None
                   ) -> list[Table]:
    """The tables on the cleaned ``pages`` (page n is ``pages[n-1]``) of one document. With the ``pdf`` the
    pages come from, a row that leaves a column empty (Chinese statements print nothing there) has its
    values placed under their columns by where the characters stand on the page."""
    placer = PdfPlacer(pdf) if pdf is not None else None
    tables: list[Table] = []
    try:
        for number, text in enumerate(pages, 1):
            previous = tables[-1] if tables and tables[-1].page == number - 1 else None
            tables.extend(page_tables(text, number, doc_id, source, previous, placer))
    finally:
        if placer is not None:
            placer.close()
    return tables


def page_tables(text: str, page: int, doc_id: str = "", source: str = "",
                previous: Table | None = None, placer: Placer | None = None) -> list[Table]:
    """The tables on one page's text; rows before any header continue ``previous`` (the last table of the
    page before) when they print as many values as it has columns. Two tables printed side by side (a
    broker's income statement beside its balance sheet) are read as two."""
    sides = _side_by_side(text.split("\n"))
    if sides is not None:
        left, right = sides
        return [*_tables(left, page, doc_id, source, previous), *_tables(right, page, doc_id, source, None)]
    return _tables(text.split("\n"), page, doc_id, source, previous, placer)


def _side_by_side(lines: list[str]) -> tuple[list[str], list[str]] | None:
    """The page's lines as a left and a right page where a header line holds two runs of the same periods
    ("Income Statement FY24A … FY28E Cash Flow Statement FY24A … FY28E"; "2023 … 2028E 2023 … 2028E"): each
    row under it is cut where its values end and a label starts again. A row with one part stays left;
    the right page keeps the lines above the first such header (titles, units) and blanks for the rest."""
    left, right = list(lines), [""] * len(lines)
    width = 0
    first = -1
    for index, line in enumerate(lines):
        twin = _twin_header(line.strip())
        if twin is not None and not _rows_split(lines, index):
            twin = None  # "2022 2021 2020 2022 2021 2020" over unlabelled rows: one table, two column groups
        if twin is not None:
            left[index], right[index] = twin
            width = len(_header(twin[0]).columns) if _header(twin[0]) else 0  # type: ignore[union-attr]
            first = index if first < 0 else first
            continue
        if width and _header(line.strip()) is not None:
            width = 0  # a single table's header ends the side-by-side block
        if width:
            parts = _row_parts(line.strip())
            if parts is not None:
                left[index], right[index] = parts
    if first < 0:
        return None
    for index in range(max(0, first - 3), first):
        right[index] = lines[index]
    return left, right


def _rows_split(lines: list[str], index: int) -> bool:
    """Whether the first row under the header at ``index`` holds two labelled parts."""
    for line in lines[index + 1:index + 6]:
        if any(is_value_token(t) for t in line.split()):
            return _row_parts(line.strip()) is not None
    return False


def _twin_header(line: str) -> tuple[str, str] | None:
    """A header line of two equal runs of periods, cut before the second run's label (or between the runs)."""
    if len(line) > MAX_HEADER or len(_YEARISH.findall(line)) < 4:
        return None  # most lines: cheaper to rule out than to parse every word
    tokens = _spaced_periods(line).split()
    kinds = [bool(parse_period(t)) for t in tokens]
    runs: list[tuple[int, int]] = []
    for i, is_period in enumerate(kinds):
        if is_period and (not runs or runs[-1][1] != i):
            runs.append((i, i + 1))
        elif is_period:
            runs[-1] = (runs[-1][0], i + 1)
    if len(runs) == 1:  # "2023 … 2028E 2023 … 2028E": one run, the same periods twice
        start, end = runs[0]
        half = (end - start) // 2
        if half >= 2 and (end - start) % 2 == 0 and tokens[start:start + half] == tokens[start + half:end]:
            return " ".join(tokens[:start + half]), " ".join(tokens[start + half:])
        return None
    if len(runs) != 2 or runs[1][1] != len(tokens):
        return None
    (a0, a1), (b0, b1) = runs
    if a1 - a0 < 2 or a1 - a0 != b1 - b0 or a1 == b0:
        return None
    return " ".join(tokens[:a1]), " ".join(tokens[a1:])


def _row_parts(line: str) -> tuple[str, str] | None:
    """A side-by-side row cut where its first values end and the right table's label begins."""
    tokens = _GLUED.sub(" ", line).split()
    seen_value = False
    for i, token in enumerate(tokens):
        if is_value_token(token) or token in _CURRENCY_TOKEN or token in ("%", "％"):
            seen_value = seen_value or is_value_token(token)
        elif seen_value:
            rest = tokens[i:]
            if any(is_value_token(t) for t in rest):
                return " ".join(tokens[:i]), " ".join(rest)
            return None
    return None


def _tables(lines: list[str], page: int, doc_id: str, source: str, previous: Table | None,
            placer: Placer | None = None) -> list[Table]:
    found: list[_Open] = []
    current: _Open | None = None
    pending: list[str] = []  # label-only lines since the last row: a parent label or a wrapped label
    context_start = 0
    if previous is not None:
        carried = _Header(previous.columns, previous.periods, "")
        current = _Open(carried, page, previous.title, previous.statement, previous.unit, previous.scale,
                        previous.currency, continued_from=previous.continued_from or previous.page,
                        header_line=previous.header_line, header_page=previous.header_page)
    index = -1
    while index + 1 < len(lines):
        index += 1
        stripped = lines[index].strip()
        if not stripped:
            continue
        header = _stacked_header(lines, index) if _is_fragment_line(stripped) else None
        if header is None:
            header = _header(stripped)
            if header is not None or _YEAR_GLUED.search(stripped):
                header = _wrapped_header(lines, index, header)
        if header is not None:
            index = _last_header_line(lines, index)
        if header is not None and (index + 1 < len(lines)):
            _close(current, found)
            context = "\n".join(lines[context_start:index + 1])
            current = _open(header, page, index, lines, context)
            current.header_line, current.header_page = lines[index].strip(), page
            pending = []
            continue
        if current is None:
            continue
        width = len(current.header.columns)
        row = _row(stripped, width)
        if row is None and placer is not None and current.header_line:
            row = _row(stripped, width, sparse=True)  # placed below by the characters' positions
        if row is None:
            longest = MAX_LABEL * 2 if stripped.endswith((":", "：")) else MAX_LABEL  # a long section label
            prose = len(stripped) > longest or (stripped.endswith(_PROSE_END) and len(stripped) > 40)
            if prose or len(pending) >= MAX_GAP:  # the table has ended; short lines may head the next one
                _close(current, found)
                context_start = index + 1 if prose else index - len(pending)
                current, pending = None, []
            else:
                pending.append(stripped)
            continue
        label, values, raw_line = row
        label = _NOTE_REF.sub("", label).strip()  # "七、68": a note reference alone is no label
        if not label and pending:  # values on their own line: the label wrapped onto the line(s) above
            wrapped = _wrapped_label(pending)
            label, raw_line = "".join(wrapped) if _cjk(wrapped[0]) else " ".join(wrapped), \
                "\n".join([*wrapped, raw_line])
            pending = pending[: len(pending) - len(wrapped)]
        elif label and pending and _continues(pending[-1], label):  # a label wrapped before its values' line
            wrapped = _wrapped_label(pending)
            label, raw_line = "".join([*wrapped, label]), "\n".join([*wrapped, raw_line])
            pending = pending[: len(pending) - len(wrapped)]
        if not label:
            continue
        parent = _parent(pending) or _last_parent(current)
        label, unit = row_unit(_NOTE_REF.sub("", label).strip())
        header = current.header
        if len(values) < width:
            placed = placer(page, current.header_page, current.header_line, raw_line, values, width) \
                if placer else None
            if placed is None:
                pending = []
                continue  # a row whose values cannot be placed is left out, never guessed
            at = dict(zip(placed, values, strict=True))  # the empty columns get empty cells: rows stay full width
            cells = tuple(Cell(text=at.get(i, ""), value=parse_value(at[i]) if i in at else None, column=c, period=p)
                          for i, (c, p) in enumerate(zip(header.columns, header.periods, strict=True)))
        else:
            cells = tuple(Cell(text=v, value=parse_value(v), column=c, period=p)
                          for v, c, p in zip(values, header.columns, header.periods, strict=True))
        current.rows.append(Row(label=label, cells=cells, line=raw_line, parent=parent, unit=unit))
        pending = []
    _close(current, found)
    return [Table(doc_id=doc_id, source=source, page=o.page, title=o.title, statement=o.statement, unit=o.unit,
                  scale=o.scale, columns=o.header.columns, periods=o.header.periods, rows=tuple(o.rows),
                  continued_from=o.continued_from, currency=o.currency, header_line=o.header_line,
                  header_page=o.header_page) for o in found]


def _stacked_header(lines: list[str], index: int) -> _Header | None:
    """A header printed over several short lines from ``lines[index]`` on: month-day fragments, years and
    column-group words ("January 28, January 29," / "2023 2022"; "Three Months Ended" / "June 30," / "2023
    2022 2023 2022"; "December 31," / "2022" / "December 31," / "2021"), the last line possibly led by the
    unit ("(Dollars in millions …) 2018 2017"). Each year takes its month-day where every column prints
    one; the group words tell repeated periods apart. The lines used are blanked but for the last, which
    is marked for :func:`_last_header_line`: rows follow it."""
    block: list[int] = []
    for ahead in range(index, min(index + 12, len(lines))):
        part = lines[ahead].strip()
        if not part:
            continue
        if _is_fragment_line(part):
            block.append(ahead)
            continue
        if _header(part) is not None:  # "(Dollars in millions …) 2018 2017" closes the block
            block.append(ahead)
        break
    text = " ".join(lines[i].strip() for i in block)
    years = _YEAR_TOKEN.findall(_MONTH_DAY.sub(" ", text))
    days = _MONTH_DAY.findall(text)
    quarters = _QUARTER_ZH.findall(text)
    if len(quarters) >= 2 and not years:  # "第一季度（1-3月份）…" under "2019年分季度主要财务数据"
        year = next((m.group(1) for ln in reversed(lines[max(0, index - 4):index])
                     if (m := re.search(r"((?:19|20)\d{2})\s*年", ln))), "")
        if not year or len(block) < 2:
            return None
        columns = tuple(f"第{q}季度" for q in quarters)
        periods = tuple(f"{year}Q{'一二三四'.index(q) + 1}" for q in quarters)
        for i in block[:-1]:
            lines[i] = ""
        lines[block[-1]] = _HEADER_MARK + lines[block[-1]]
        return _Header(columns, periods, "")
    if len(years) < 2 or len(block) < 2:
        return None
    last = _header(lines[block[-1]].strip())
    if days and len(days) >= len(years):  # one month-day per column ("At December 31" above them is a caption)
        columns = tuple(f"{d.rstrip(',')}, {y}" for d, y in zip(days[-len(years):], years, strict=True))
    else:
        columns = tuple(years)
    periods = tuple(parse_period(c) for c in columns)
    if not all(periods):
        return None
    header = _grouped(_Header(columns, periods, last.prefix if last else ""), [text])
    for i in block[:-1]:
        lines[i] = ""
    lines[block[-1]] = _HEADER_MARK + lines[block[-1]]
    return header


def _is_fragment_line(line: str) -> bool:
    words = line.split()
    return 0 < len(words) <= 16 and all(_FRAGMENT_WORD.fullmatch(w) for w in words)


def _last_header_line(lines: list[str], index: int) -> int:
    """The header's last line (a stacked header marks it), from which rows follow."""
    for ahead in range(index, min(index + 12, len(lines))):
        if lines[ahead].startswith(_HEADER_MARK):
            lines[ahead] = lines[ahead][len(_HEADER_MARK):]
            return ahead
    return index


def _wrapped_header(lines: list[str], index: int, header: _Header | None) -> _Header | None:
    """The header at ``lines[index]`` with the short lines after it that continue it: annual reports wrap
    header cells ("主要会计数据2019年2018年" / "本期比上" / "年同期增" / "减(%)" / "2017年"). Consumed lines are
    blanked."""
    text, used = lines[index].strip(), []
    for ahead in range(index + 1, min(index + 8, len(lines))):
        part = lines[ahead].strip()
        if not part or len(part) > _HEADER_PART or _row(part, 1) is not None:
            break
        starts_period = bool(parse_period(part.split()[0]))
        ends_period = bool(parse_period(text.split()[-1])) if text.split() else False
        text = f"{text} {part}" if starts_period or ends_period or not _cjk(part[:1]) else f"{text}{part}"
        used.append(ahead)
    wider = _header(text) if used else None
    if wider is not None and (header is None or len(wider.columns) > len(header.columns)):
        for ahead in used:
            lines[ahead] = ""
        return wider
    return header


def _header(line: str) -> _Header | None:
    """A line ending in two or more period headers (and change columns): ``(Millions) 2018 2017 2016``."""
    if len(line) > MAX_HEADER or (len(_YEARISH.findall(line)) < 2 and not _RELATIVE.search(line)):
        return None  # most lines name no two periods: ruled out before the word-by-word reading
    line = _spaced_periods(line)
    tokens = [(m.group(0), m.start()) for m in _HEADER_TOKEN.finditer(line)]
    columns: list[str] = []
    start = len(line)
    for token, at in reversed(tokens):
        if parse_period(token) or (_CHANGE_COLUMN.search(token) and len(token) <= 16):
            columns.insert(0, token)
            start = at
        else:
            break
    periods = [parse_period(c) for c in columns]
    if sum(1 for p in periods if p) < 2:
        return None
    dated = [i for i, c in enumerate(columns) if _MONTH_DAY.search(c)]
    if len(dated) == 1 and len(columns) > 1:  # "At December 31, 2022 2021": the date heads all its years
        periods[dated[0]] = periods[dated[0]][:4]
        columns[dated[0]] = periods[dated[0]]
    if any(p and re.fullmatch(r"\d{4}", p) for p in periods) and not _years_descend_or_ascend(periods):
        return None  # "1,2019 2020 150" is a row of numbers, not a header
    return _Header(tuple(columns), tuple(periods), line[:start].strip())


def _spaced_periods(line: str) -> str:
    """A header line with its periods set apart: "主要财务指标2019年2018年" -> "主要财务指标 2019年 2018年",
    "现金流量表（百万元）2025A" -> "现金流量表（百万元） 2025A", "2019 年度" -> "2019年度"."""
    line = _YEAR_SPACED.sub(r"\1\2", line)
    line = _YEAR_GLUED.sub(r" \1", line)
    line = _YEAR_BEFORE_WORD.sub(r"\1 ", line)
    return _LABEL_BEFORE_YEAR.sub(" ", line)


def _years_descend_or_ascend(periods: list[str]) -> bool:
    """Years in one direction, or one such run repeated under column groups ("2022 2021 2020 2022 2021 2020")."""
    years = [int(p[:4]) for p in periods if re.match(r"\d{4}", p)]
    if not all(1990 <= y <= 2100 for y in years):
        return False
    for width in range(len(years), 1, -1):
        if len(years) % width == 0 and all(years[i:i + width] == years[:width] for i in range(0, len(years), width)):
            run = years[:width]
            steps = {(b > a) - (b < a) for a, b in zip(run, run[1:], strict=False)}
            if len(steps - {0}) <= 1:
                return True
    return False


def _open(header: _Header, page: int, index: int, lines: list[str], context: str) -> _Open:
    above = [ln.strip() for ln in lines[max(0, index - 8):index] if ln.strip()]
    header = _grouped(header, above[-2:])
    statement = next((name for name, _ in reversed(statement_headings(context))), "")
    if not statement and any(p.endswith(("E", "F")) for p in header.periods):
        statement = "forecast"
    title = _title(above, header.prefix)
    unit, scale = scale_of(f"{context}")
    currency = _currency("\n".join(above[-3:]) + header.prefix) or _currency(context + "\n" + "\n".join(lines[index:index + 12]))
    return _Open(header, page, title, statement, unit, scale, currency)


def _grouped(header: _Header, above: list[str]) -> _Header:
    """Periods made unique where a group line above says what they cover: "Three Months Ended … Six Months
    Ended" over "July 29, 2023 July 30, 2022 July 29, 2023 July 30, 2022" -> 2023-07-29/3M … 2023-07-29/6M."""
    if len(set(header.periods)) == len(header.periods):
        return header
    for line in reversed(above):
        groups = [(m.start(), tag) for pattern, tag in _GROUPS for m in pattern.finditer(line)]
        groups.sort()
        if len(groups) >= 2 and len(header.periods) % len(groups) == 0:
            width = len(header.periods) // len(groups)
            periods = tuple(f"{p}/{groups[i // width][1]}" if p else p for i, p in enumerate(header.periods))
            return replace(header, periods=periods)
    return header


def _title(above: list[str], prefix: str) -> str:
    prefix = re.sub(r"\[[^\]]*\]", "", prefix).strip()
    stub = _STUB_HEADER.fullmatch(prefix) is not None  # "项目 附注" names the label column, not the table
    if prefix and not stub and not scale_of(prefix)[0] and re.search(r"[A-Za-z\u4e00-\u9fff]{2}", prefix):
        return prefix
    for line in reversed(above):
        if statement_headings(line):
            return line
    for line in reversed(above):
        if 2 <= len(line) <= 80 and not scale_of(line)[0] and not re.match(r"(?i)years?\s+ended|as of", line):
            return re.sub(r"\[[^\]]*\]", "", line).strip()
    return ""


def _currency(text: str) -> str:
    if re.search(r"HK\$|港元|港币", text):
        return "HKD"
    if re.search(r"US\$|美元|\$", text):
        return "USD"
    if re.search(r"人民币|元|RMB", text):
        return "CNY"
    return ""


def _row(line: str, width: int, *, sparse: bool = False) -> tuple[str, list[str], str] | None:
    """``(label, the last ``width`` values, line)`` of a table row; ``None`` for a line that is no row. With
    ``sparse``, a row of fewer amounts than columns (each printed with separators or decimals)."""
    tokens = _GLUED.sub(" ", line).split()
    values: list[str] = []
    cut = len(tokens)
    for i in range(len(tokens) - 1, -1, -1):
        token = tokens[i]
        if token in _CURRENCY_TOKEN:
            cut = i
            continue
        if token in ("%", "％") and i > 0 and parse_value(tokens[i - 1]) is not None:
            continue
        if is_value_token(token):
            following = tokens[i + 1] if i + 1 < len(tokens) else ""
            values.insert(0, token + "%" if following in ("%", "％") else token)
            cut = i
        else:
            break
    if len(values) > width:  # "Net sales $ 3,226,773 100.0% $ 2,729,388 100.0%": each amount with its share
        amounts = [v for v in values if not v.endswith("%")]
        if len(amounts) == width and len(values) == 2 * width:
            values = amounts
    if sparse and 0 < len(values) < width and all(re.search(r"\d[,.]\d", v) for v in values):
        label = " ".join(tokens[:cut]).strip()
        return (label, values, line) if re.search(r"[A-Za-z\u4e00-\u9fff]", label) or not label else None
    if len(values) < width:
        return None
    extra = values[: len(values) - width]
    if any(re.search(r"\d[,.]\d", v) for v in extra):
        return None  # more amounts than columns: the header was not read whole
    label = " ".join([*tokens[:cut], *extra]).strip()
    if label and not re.search(r"[A-Za-z\u4e00-\u9fff]", label):
        return None
    return label, values[len(values) - width:], line


def _wrapped_label(pending: list[str]) -> list[str]:
    """The label lines a values-only line belongs to: the last one, with the one before it where that one
    leaves a bracket open ("扣除非经常性损益后的基本每股收益（元" + "／股）")."""
    lines = [pending[-1]]
    for line in reversed(pending[:-1]):
        cut_at_width = _cjk(line[-1:]) and len(line) >= max(9, len(lines[0])) and not re.search(r"[\d：:]", line)
        if cut_at_width or _continues(line, lines[0]):
            lines.insert(0, line)
        else:
            break
    return lines


def _continues(line: str, after: str) -> bool:
    """Whether label text ``after`` continues ``line``: a bracket left open, or a Chinese label cut before
    its "的" ("归属于上市公司股东" / "的净利润")."""
    if line.count("（") + line.count("(") > line.count("）") + line.count(")"):
        return True
    return _cjk(line[-1:]) and after.startswith(("的", "）", ")")) and not re.search(r"\d", line)


def _parent(pending: list[str]) -> str:
    """The section label rows are listed under: the last label-only line ("Current assets", "流动资产：");
    in Chinese statements only a line ending in a colon (their other label-only lines are empty rows)."""
    for line in reversed(pending):
        if line.endswith(("：", ":")) or not _cjk(line):
            return line.rstrip("：:").strip()
    return ""


def _cjk(text: str) -> bool:
    return bool(re.search(r"[\u4e00-\u9fff]", text))


def _last_parent(current: _Open) -> str:
    return current.rows[-1].parent if current.rows else ""


def _close(current: _Open | None, found: list[_Open]) -> None:
    if current is not None and current.rows:
        found.append(current)


class PdfPlacer:
    """Places a sparse row's values under their columns by the x position of their characters on the PDF page:
    each value goes to the column whose header stands nearest (pypdfium2 character boxes)."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._pdf: Any = None
        self._pages: dict[int, _PageText] = {}

    def __call__(self, page: int, header_page: int, header_line: str, row_line: str, values: Sequence[str],
                 width: int) -> list[int] | None:
        head = self._page(header_page or page)  # a continued table's header is on a page before
        columns = head.centres(header_line, _header_parts(header_line, width))
        placed_values = self._page(page).centres(row_line.split("\n")[-1], values)
        if columns is None or placed_values is None or len(columns) != width:
            return None
        placed = [min(range(width), key=lambda i: abs(columns[i] - x)) for x in placed_values]
        return placed if len(set(placed)) == len(placed) and placed == sorted(placed) else None

    def _page(self, page: int) -> _PageText:
        if page not in self._pages:
            import pypdfium2 as pdfium
            import pypdfium2.raw as pdfium_c

            if self._pdf is None:
                self._pdf = pdfium.PdfDocument(self.path)
            text = self._pdf[page - 1].get_textpage()
            try:
                count = text.count_chars()
                chars = [chr(pdfium_c.FPDFText_GetUnicode(text.raw, i)) for i in range(count)]
                boxes = [text.get_charbox(i) for i in range(count)]
            finally:
                text.close()
            norm, index = normalized_chars(chars)
            self._pages[page] = _PageText(norm, index, [(box[0], box[2]) for box in boxes])
        return self._pages[page]

    def close(self) -> None:
        if self._pdf is not None:
            self._pdf.close()
            self._pdf = None


@dataclass(frozen=True)
class _PageText:
    """A page's characters compared without spacing, width or case, and each one's left and right x."""

    norm: str
    index: list[int]
    xs: list[tuple[float, float]]

    def centres(self, line: str, parts: Sequence[str]) -> list[float] | None:
        """The x centre of each of ``parts``, found in order inside ``line`` on the page."""
        key = normalized_chars(line)[0]
        at = self.norm.find(key) if key else -1
        if at < 0 or not parts:
            return None
        end, cursor, found = at + len(key), at, []
        for part in parts:
            piece = normalized_chars(part)[0]
            start = self.norm.find(piece, cursor, end) if piece else -1
            if start < 0:
                return None
            chars = [self.index[i] for i in range(start, start + len(piece))]
            found.append((min(self.xs[c][0] for c in chars) + max(self.xs[c][1] for c in chars)) / 2)
            cursor = start + len(piece)
        return found


def _header_parts(header_line: str, width: int) -> list[str]:
    """The header line's last ``width`` column texts, as :func:`_header` reads them."""
    found = _header(header_line)
    return list(found.columns[-width:]) if found and len(found.columns) >= width else []
