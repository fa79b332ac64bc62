"""Figures for the numeric-match metric: which numbers of a text are amounts, ratios or counts, and when an
answer's figure states a gold figure (:func:`eval.metrics.numeric_match` is the metric).

A figure is a number written in digits that is not a year (``2018``, ``FY 2022``, ``2019年``), a date
(``January 28, 2023``, ``12月31日``, ``2024. 02. 08``), a quarter (``1Q26E``, ``3Q``), an ordinal (``4th``,
``第3``), a period phrase (``12 months ended``), a page reference (``p. 45``, ``第12页``), a list number
(``(1)``, ``2)``, ``1.`` at the start of a line) or a citation marker (``[1]``). Units come from
:mod:`eval.normalize` (``million``, ``bn``, ``亿元``, ``万``, ``元``, ``%``) plus the spellings of filings and
broker notes (``90m``, ``$5M``, ``Rmb8trn``, ``HKD727``, ``1.7 percentage points``, ``170 bps``). A number glued
to one capital letter is a name (``3M``, ``5G``). Number words (``zero``, ``六家``) are not read.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from eval.normalize import Quantity, parse_quantities, respell_dimensions, strip_markers

__all__ = ["RELATIVE_TOLERANCE", "Figure", "figures_in", "gold_figures", "question_scale", "states"]

# An answer states a gold figure within 0.5% of it, or when it rounds to the gold's last printed digit.
RELATIVE_TOLERANCE = Decimal("0.005")
# A gold printed without a scale ("$1577.00", "8,738") when the question names none: a scaled answer is read
# against it as a plain amount and in the scales statements use (thousands, millions, billions).
_UNKNOWN_SCALES = (Decimal(1), Decimal(10) ** 3, Decimal(10) ** 6, Decimal(10) ** 9)

_MONTH = (
    r"(?=[A-Z])(?i:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
# Spans holding numbers that are not figures; blanked (same length) before the numbers are read.
_NOT_FIGURES = re.compile("|".join([
    r"(?<![\d,.])\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?",  # 2023-01-28, 2024. 02. 08, 2024年2月15日
    r"(?<![\d,.])\d{1,2}\s*[-–~至到]\s*\d{1,2}\s*月",  # 1-3月
    r"(?<![\d,.])\d{1,2}\s*月(?:\s*\d{1,2}\s*日)?",  # 12月31日, 3月 (not 12个月)
    r"(?<![\d,.])\d{1,2}\s*日",
    rf"\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?\b",  # January 28 (the year is a year), Dec. 31
    rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}",  # 28 January
    r"\b\d+(?:st|nd|rd|th)\b",  # 4th
    r"第\s*\d+",  # 第3名, 第12页
    r"(?i:\b\d{1,2}\s*-?\s*(?:months?|weeks?|days?)\s+(?:ended|ending)\b)",  # 12 months ended
    r"\b[1-4][QH](?:\d{2}(?:\d{2})?)?[A-Z]?\b",  # 1Q26E, 4Q25, 2H, 3Q
    r"\bFY\s*'?\d{2}\b",  # FY 23
    r"(?i:\b(?:pp?|pages?)\.?\s*\d+(?:\s*[-–]\s*\d+)?)",  # p. 45, pages 12-14
    r"(?<![\w.,])\(\d{1,2}\)",  # (1) list number
    r"(?<![\w.,(])\d{1,2}\)(?=\s*[^\W\d])",  # 1) list number
    r"(?m:^[ \t]*\d{1,2}[.、][ \t])",  # 1. list number at the start of a line
    r"【\d+】",  # citation marker, CJK brackets
]))
_YEAR = re.compile(r"(?:19|20)\d\d")
# Currency codes glued to the number (RMB95bn, HKD727, cRmb8trn) would make it part of a word: a space goes
# between.
_GLUED_CODE = re.compile(r"(?:(?<![A-Za-z])|(?<=\bc))(USD|RMB|Rmb|CNY|HKD|EUR|GBP|JPY)(?=\d)")
_SYMBOLS = "$¥￥€£"
_MONEY_BEFORE = re.compile(r"(?:[$¥￥€£]|\b(?:USD|RMB|CNY|HKD|EUR|GBP|JPY))\s*\(?$", re.IGNORECASE)
# A bare number glued to one capital letter names something (3M, 5G, 4K); money is scaled ($5M, $2B).
_NAME_AFTER = re.compile(r"[A-Z](?![A-Za-z])")
# Units that eval.normalize does not read, looked for right after a number without one.
_PERCENT_AFTER = re.compile(r"\)?\s*(?:percentage\s+points?|per\s*cent\b|ppts?\b|pp\b)", re.IGNORECASE)
_BPS_AFTER = re.compile(r"\)?\s*(?:bps\b|basis\s+points?\b)", re.IGNORECASE)
_SCALE_AFTER = re.compile(r"(?:k|m|mm|trn|tn|\s*(?i:thousands|millions|billions|trillions))\b")
_MONEY_SCALE_AFTER = re.compile(r"(?:K|M|MM|B|TN)\b")
_SCALE_WORDS = {
    "k": 3, "thousand": 3, "thousands": 3, "m": 6, "mm": 6, "mn": 6, "million": 6, "millions": 6,
    "b": 9, "bn": 9, "billion": 9, "billions": 9, "trn": 12, "tn": 12, "trillion": 12, "trillions": 12,
}
# The unit a question asks for: "(in USD millions)", "Answer in USD billions", "in Rmb million", "(CNY m)",
# "是多少元", "多少百万元", "（百万美元）", "单位：万元".
_CODE = r"(?:USD|US\$|\$|RMB|CNY|HKD|HK\$|EUR|GBP|JPY)"
_QUESTION_EN = re.compile(
    rf"\bin\s+(?:units\s+of\s+)?(?:{_CODE}\s*)?(?P<word>thousands?|millions?|billions?|trillions?|mn|bn)\b"
    rf"|(?:\bin\s+|\(\s*){_CODE}\s*(?P<short>k|m|mn|bn)\b",
    re.IGNORECASE,
)
_ZH_SCALES = {"万亿": 12, "千万": 7, "百万": 6, "亿": 8, "万": 4, "千": 3}
_QUESTION_ZH = re.compile(
    r"(?:多少|单位\s*[:：]?\s*|[（(]\s*)(?:(?P<scale>万亿|千万|百万|亿|万|千(?=元))(?:元|美元|港元|港币)?"
    r"|(?:元|美元|港元|港币)(?:人民币)?(?=\s*[）)？?，,。]|$))"
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|[。！？\n]+")


@dataclass(frozen=True)
class Figure:
    """A figure as written: unsigned value, the size of its last printed digit, its scale, percent, sign."""

    value: Decimal
    step: Decimal  # one unit of the last printed digit, in the written unit
    scale: Decimal | None  # written (million, 亿元; 元 is 1) or the question's; None when not known
    percent: bool
    sign: int  # -1 or +1 when written ("-", "+", parentheses), 0 otherwise


def figures_in(text: str) -> list[Figure]:
    """The figures of ``text``: its numbers less years, dates, quarters, ordinals, pages, list numbers and
    citation markers."""
    return _figures(_masked(text))


def gold_figures(gold: str, question: str = "") -> list[Figure]:
    """The figures a gold answer asks for: every figure of its first sentence (or line) that holds one.

    Later sentences explain ("This means that it took $2.77 of assets to generate $1 of revenue"); a gold
    stating several figures in its first sentence ("from 24.6% in FY 2021 to 21.6% in FY 2022") needs all.
    A figure printed without a scale takes the question's (``$8.70`` for "Answer in USD billions").
    """
    scale = question_scale(question)
    for sentence in _SENTENCE_END.split(_masked(gold)):  # dates are blanked before "2024. 02. 08" is split
        figures = _figures(sentence)
        if figures:
            if scale is None:
                return figures
            return [f if f.scale is not None or f.percent else _with_scale(f, scale) for f in figures]
    return []


def question_scale(question: str) -> Decimal | None:
    """The unit a question asks its answer in (``in USD millions`` → 10^6, ``多少元`` → 1); None when none."""
    match = _QUESTION_EN.search(question)
    if match:
        word = (match["word"] or match["short"]).lower()
        return Decimal(10) ** _SCALE_WORDS[word]
    match = _QUESTION_ZH.search(question)
    if match:
        return Decimal(10) ** _ZH_SCALES[match["scale"]] if match["scale"] else Decimal(1)
    return None


def states(answer: Figure, gold: Figure) -> bool:
    """Whether an answer's figure states a gold figure.

    Percent must agree (``0.165`` does not state ``16.5%``); explicit signs must not contradict (a bare
    ``4.5%`` states ``-4.5%``: "fell 4.5%"). Magnitudes: both scaled when both scales are known; a bare answer
    number is read in the gold's unit or as a plain amount (``1,577`` and ``1,577,000,000`` state ``$1577.00``
    asked in millions); a gold whose scale is unknown is compared as written (``$1,577 million`` states
    ``$1577.00``) and as a plain amount, thousands, millions or billions (``1.577 billion``; ``10.09亿元``
    states ``1,008,714,515.86``). Closeness: within :data:`RELATIVE_TOLERANCE`, or rounding to the gold's
    last printed digit (``24.257`` states ``24.26``, ``1.87%`` states ``1.9%``).
    """
    if answer.percent != gold.percent or answer.sign * gold.sign < 0:
        return False
    readings = [(answer.value, gold.value, gold.step)]
    if gold.scale is not None:
        full = (gold.value * gold.scale, gold.step * gold.scale)
        if answer.scale is None:
            readings.append((answer.value, *full))
        else:
            readings = [(answer.value * answer.scale, *full)]
    elif answer.scale is not None:
        readings += [(answer.value * answer.scale, gold.value * s, gold.step * s) for s in _UNKNOWN_SCALES]
    return any(_near(a, g, step) for a, g, step in readings)


def _near(answer: Decimal, gold: Decimal, step: Decimal) -> bool:
    if abs(answer - gold) <= RELATIVE_TOLERANCE * abs(gold):
        return True
    return (answer / step).quantize(Decimal(1), rounding=ROUND_HALF_UP) * step == gold


def _masked(text: str) -> str:
    """NFKC text without citation markers, dimensions respelled, the spans that hold no figures blanked."""
    text = _GLUED_CODE.sub(r"\1 ", strip_markers(unicodedata.normalize("NFKC", text)))
    return _NOT_FIGURES.sub(lambda m: " " * len(m.group()), respell_dimensions(text))


def _figures(masked: str) -> list[Figure]:
    figures = []
    for quantity in parse_quantities(masked):
        before = masked[max(quantity.start - 6, 0):quantity.start]
        money = quantity.canonical[:1] in _SYMBOLS or bool(_MONEY_BEFORE.search(before))
        if money or quantity.scale is not None or not (
            _NAME_AFTER.match(masked, quantity.end) or _is_year(quantity, masked)
        ):
            figures.append(_figure(quantity, masked[quantity.end:], money))
    return figures


def _figure(quantity: Quantity, after: str, money: bool) -> Figure:
    """The quantity with the units eval.normalize does not read (``90m``, ``$5M``, ``1.7 pp``, ``170 bps``)."""
    value, step = quantity.value, quantity.step(scaled=False)
    scale, percent = quantity.scale, quantity.percent
    if scale is None and not percent:
        if _PERCENT_AFTER.match(after):
            percent = True
        elif _BPS_AFTER.match(after):
            percent, value, step = True, value / 100, step / 100
        elif found := _SCALE_AFTER.match(after) or (_MONEY_SCALE_AFTER.match(after) if money else None):
            scale = Decimal(10) ** _SCALE_WORDS[found[0].strip().lower()]
    return Figure(value, step, scale, percent, quantity.sign)


def _with_scale(figure: Figure, scale: Decimal) -> Figure:
    return Figure(figure.value, figure.step, scale, figure.percent, figure.sign)


def _is_year(quantity: Quantity, text: str) -> bool:
    """A bare four-digit 19xx/20xx (``2018``, ``FY 2022``, ``2019年``, ``2024A``), not a dimension (``2048×2048``)."""
    beside = text[max(quantity.start - 1, 0):quantity.start] + text[quantity.end:quantity.end + 1]
    return bool(_YEAR.fullmatch(text[quantity.start:quantity.end])) and not quantity.percent and "×" not in beside
