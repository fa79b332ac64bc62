"""Dates as reports print them ("2026年04月01日", "2026.04.01", "March 19, 2026", "19 Mar 2026"), as ISO strings.

Hand-written: dateutil would also read "3.30" or "26" as dates, and reports are full of such numbers; only a full
year-month-day written one of these ways counts here.
"""

from __future__ import annotations

import re
from pathlib import PurePath

_MONTHS = {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}
_MONTH = (r"(Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
          r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)")
MONTH_DAY_YEAR = rf"\b{_MONTH}\.?\s+(\d{{1,2}}),?\s+(\d{{4}})"
DAY_MONTH_YEAR = rf"\b(\d{{1,2}})\s+{_MONTH}\.?,?\s+(\d{{4}})\b"
CN_DATE = r"(20\d{2}|19\d{2})\s*[年.\-/]\s*(\d{1,2})\s*[月.\-/]\s*(\d{1,2})\s*日?"
_ANY_DATE = re.compile(f"{CN_DATE}|{MONTH_DAY_YEAR}|{DAY_MONTH_YEAR}", re.IGNORECASE)
# What may stand on a date's line besides the date: labels, weekdays, a clock time, a page count.
_FURNITURE = re.compile(
    r"\[Table_\w+\]|报告日期|发布日期|发布时间|日期|\bdate\b|\b(?:mon|tues|wednes|thurs|fri|satur|sun)day\b"
    r"|\d{1,2}:\d{2}(?::\d{2})?\s*(?:[ap]m)?\s*(?:e[ds]?t|gmt|utc|hkt|bst)?\b|\b\d+\s+pages\b|[\s|│/·:：,，-]",
    re.IGNORECASE)
_NOT_ISSUE_LINE = re.compile(r"《|》|price|priced|close|收盘|股价|timestamp", re.IGNORECASE)


def date_in(text: str) -> str:
    """The first full date in ``text`` as YYYY-MM-DD ("" if none)."""
    found = _ANY_DATE.search(text)
    return _iso_of(found) if found else ""


def standalone_dates(text: str) -> list[str]:
    """Dates that stand on a line of their own or with a label, weekday or time only (an issue date), in
    order; dates inside sentences, in parentheses, in 《related report》 lines or next to a price are not."""
    found = []
    for line in text.splitlines():
        if _NOT_ISSUE_LINE.search(line):
            continue
        for match in _ANY_DATE.finditer(line):
            rest = _FURNITURE.sub("", line[: match.start()] + " " + line[match.end():])
            if len(rest) <= 8 and not re.search(r"[(（]\s*$", line[: match.start()]):
                found.append(_iso_of(match))
    return [date for date in found if date]


def file_date(source: str) -> str:
    """The date a file name carries: "20240218" or "2024-02-18" -> 2024-02-18, "glsc_2024-02_x" -> 2024-02."""
    stem = PurePath(source).stem
    match = re.search(r"(?<!\d)(20\d{2})[-_.]?(0[1-9]|1[0-2])(?:[-_.]?(0[1-9]|[12]\d|3[01]))?(?![\dA-Za-z])",
                      stem)
    if not match:
        return ""
    year, month, day = match.groups()
    return f"{year}-{month}-{day}" if day else f"{year}-{month}"


def iso(year: str | int, month: str | int, day: str | int) -> str:
    """YYYY-MM-DD, or "" when month or day is out of range."""
    y, m, d = int(year), int(month), int(day)
    return f"{y:04d}-{m:02d}-{d:02d}" if 1 <= m <= 12 and 1 <= d <= 31 else ""


def month_number(name: str) -> int:
    """1-12 for an English month name or abbreviation, 0 for anything else."""
    return _MONTHS.get(name[:3].lower(), 0)


def _iso_of(match: re.Match[str]) -> str:
    g = match.groups()
    if g[0]:
        return iso(g[0], g[1], g[2])
    if g[3]:
        return iso(g[5], month_number(g[3]), g[4])
    return iso(g[8], month_number(g[7]), g[6])
