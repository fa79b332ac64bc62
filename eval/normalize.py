"""Text and numbers normalised for scoring: canonical text, character n-gram coverage, numbers as quantities.

Hand-written because no well-kept library reads report-style amounts: ``11.75亿元`` = ``117500万元`` =
``1,175,000,000元``, ``(1,577)`` is negative, ``S0590523050001`` (a certificate number) is not a number.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from rag.text import cjk_ratio

_SCALES = {
    "万亿": Decimal(10) ** 12,
    "亿元": Decimal(10) ** 8,
    "亿": Decimal(10) ** 8,
    "千万": Decimal(10) ** 7,
    "百万": Decimal(10) ** 6,
    "万元": Decimal(10) ** 4,
    "万": Decimal(10) ** 4,
    "千元": Decimal(1000),
    "元": Decimal(1),
    "trillion": Decimal(10) ** 12,
    "billion": Decimal(10) ** 9,
    "bn": Decimal(10) ** 9,
    "million": Decimal(10) ** 6,
    "mn": Decimal(10) ** 6,
    "thousand": Decimal(1000),
}
_PERCENT = ("%", "％", "percent", "个百分点", "pct")
_UNITS = sorted([*_SCALES, *_PERCENT], key=len, reverse=True)
UNIT_WORDS = tuple(_UNITS)  # longest first
_UNIT_RE = "|".join(re.escape(u) + (r"\b" if u.isascii() and u.isalpha() else "") for u in _UNITS)

# Not glued to a Latin word or another number (S0590523050001, FY2022, 1.2.3, 10%-20%; 长达60s is fine);
# thousands groups of exactly three digits, so a list comma (表1，2024) is not a separator.
_QUANTITY = re.compile(
    r"(?<![A-Za-z0-9_.%])(?P<sign>[-−+])?(?P<open>\()?(?P<cur>[$¥￥€£])?\s?"
    r"(?P<num>\d{1,3}(?:[,，]\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)(?![\d])(?P<close>\))?"
    rf"(?:\s*(?P<unit>{_UNIT_RE}))?",
    re.IGNORECASE,
)
# One spelling for dimensions, so the second number stands alone (not glued to the "x").
_DIMENSION = re.compile(r"(\d)\s*(?:[x×X*]|\\times)\s*(\d)")
# Citation markers as rag.verify writes them: [1] / [1][2] / [1, 2] / [1，2、3] / [1-3].
_MARKER = re.compile(r"\[\d+(?:\s*(?:[,，、]|[-–])\s*\d+)*\]")
_MINUS = re.compile(r"-(?=\d)")
# Coverage counts a canonical character as found when it lies inside a run of n characters that also occurs
# in the other text: about four words either way (on FinanceBench pages, 8 Latin characters still matched
# half of the evidence text on five random other pages of the same filing).
OVERLAP_CJK, OVERLAP_LATIN = 8, 16
# A gold with numbers counts as stated when all its numbers are, provided its words (numbers and units
# aside) are few: "100 万个 token", "4 秒、256x256 分辨率". Longer golds must appear as text (F1 is separate).
NUMERIC_ANSWER_MAX_TEXT = 12
_ARTICLES = frozenset({"a", "an", "the"})
_WORD = re.compile(r"[^\W_]+(?:\.\d+)?")


@dataclass(frozen=True)
class Quantity:
    """A number as written: magnitude, decimals written, scale word, percent, explicit sign and position."""

    value: Decimal  # unsigned, unscaled
    decimals: int
    scale: Decimal | None  # None when no scale/currency word follows
    percent: bool
    sign: int  # -1 or +1 when written ("-", "+", parentheses), 0 otherwise
    significant: int
    canonical: str
    start: int
    end: int

    def scaled(self) -> Decimal:
        return self.value * (self.scale or 1)

    def step(self, scaled: bool) -> Decimal:
        """The size of one unit in the last written digit."""
        unit = Decimal(1).scaleb(-self.decimals)
        return unit * (self.scale or 1) if scaled else unit


def strip_markers(text: str) -> str:
    """Remove citation markers such as ``[1]`` or ``[2, 3]``."""
    return _MARKER.sub("", text)


def canonical(text: str) -> str:
    """Text for comparison: NFKC, case-folded, numbers in canonical form, no whitespace, punctuation or [n].

    ``%`` and a minus sign before a digit are kept: without them ``-5.0%`` would become ``5``.
    """
    text = strip_markers(unicodedata.normalize("NFKC", text))
    text = _MINUS.sub("\u2212", normalize_numbers(text)).casefold()
    return "".join(
        c for c in text if c == "%" or not (c.isspace() or unicodedata.category(c).startswith("P"))
    )


def numbers_in(text: str) -> list[Quantity]:
    """The quantities of ``text`` after NFKC, citation markers left out."""
    return parse_quantities(unicodedata.normalize("NFKC", strip_markers(text)))


def is_numeric_answer(gold: str) -> bool:
    """Whether an accepted answer is its numbers: at most a few words besides numbers and unit words."""
    text = "".join(c for c in canonical(gold) if unicodedata.category(c)[0] not in "NSP")
    for unit in UNIT_WORDS:
        text = text.replace(unit, "")
    return len(text) <= NUMERIC_ANSWER_MAX_TEXT


def words(text: str) -> list[str]:
    """Lower-cased words with numbers canonical and English articles dropped (for token F1)."""
    text = normalize_numbers(strip_markers(unicodedata.normalize("NFKC", text))).casefold()
    return [w for w in _WORD.findall(text) if w not in _ARTICLES]


def covered_chars(reference: str, texts: Sequence[str]) -> int:
    """How many characters of canonical ``reference`` lie in an n-gram that occurs in one of ``texts``."""
    n = _overlap_n(reference)
    if len(reference) <= n:
        return len(reference) if any(reference in text for text in texts) else 0
    grams = {text[i : i + n] for text in texts for i in range(len(text) - n + 1)}
    covered = bytearray(len(reference))
    for i in range(len(reference) - n + 1):
        if reference[i : i + n] in grams:
            covered[i : i + n] = b"\x01" * n
    return sum(covered)


def overlaps(a: str, b: str) -> bool:
    """Whether two canonical texts share an n-gram (the shorter one whole when it is shorter than n)."""
    short, long = sorted((a, b), key=len)
    n = _overlap_n(short)
    if len(short) <= n:
        return short in long
    grams = {long[i : i + n] for i in range(len(long) - n + 1)}
    return any(short[i : i + n] in grams for i in range(len(short) - n + 1))


def _overlap_n(text: str) -> int:
    return OVERLAP_CJK if cjk_ratio(text) >= 0.3 else OVERLAP_LATIN


def respell_dimensions(text: str) -> str:
    """``1920x1080``, ``1920 × 1080`` and LaTeX ``2048 \\times 2048`` all become ``1920×1080``."""
    return _DIMENSION.sub(lambda m: f"{m.group(1)}×{m.group(2)}", text)


def parse_quantities(text: str) -> list[Quantity]:
    """The numbers in ``text`` with their units; positions refer to :func:`respell_dimensions` of ``text``."""
    return [_quantity(m) for m in _QUANTITY.finditer(respell_dimensions(text))]


def normalize_numbers(text: str) -> str:
    """Rewrite numbers in canonical form: ``1,577.0`` -> ``1577``, ``$1577.00`` -> ``$1577``.

    Dimensions become ``1920×1080``. Units and signs stay as written: ``11.75亿元`` keeps its unit
    (:func:`same_quantity` does the scaling).
    """
    text = respell_dimensions(text)
    out, last = [], 0
    for quantity in parse_quantities(text):
        out.append(text[last : quantity.start])
        out.append(quantity.canonical)
        last = quantity.end
    out.append(text[last:])
    return "".join(out)


def _quantity(match: re.Match[str]) -> Quantity:
    digits = match["num"].replace(",", "").replace("，", "")
    value = Decimal(digits)
    decimals = len(digits.split(".")[1]) if "." in digits else 0
    unit = (match["unit"] or "").lower()
    negative = match["sign"] in ("-", "−") or bool(match["open"] and match["close"])
    sign = -1 if negative else (1 if match["sign"] == "+" else 0)
    key = digits.rstrip("0").rstrip(".") if "." in digits else digits
    start = match.start("cur") if match["cur"] else match.start("num")
    return Quantity(
        value=value,
        decimals=decimals,
        scale=_SCALES.get(unit),
        percent=unit in _PERCENT,
        sign=sign,
        significant=len(digits.replace(".", "").lstrip("0")) or 1,
        canonical=(match["cur"] or "") + (key or "0"),
        start=start,
        end=match.end("num"),
    )


def same_quantity(answer: Quantity, gold: Quantity) -> bool:
    """Whether an answer's number states the gold number.

    Percent must agree; explicit signs must not contradict (a bare ``5.0%`` may state ``-5.0%``: "fell 5.0%").
    A gold with a scale word must be stated at that magnitude (``100万`` = ``1,000,000`` = ``1 million``; bare
    ``100`` does not state it); a gold without one also accepts the answer's number as written
    (``$1,577 million`` states ``$1577.00``). Rounding: an answer finer than the gold matches when it rounds
    (half up) to it, unless the gold has one significant digit (``700,000`` does not state ``1 million``);
    a coarser answer matches when it keeps at least 3 significant digits and the gold rounds to it
    (``11.75亿元`` states ``1,175,301,034.32元``; ``23%`` does not state ``23.15%``).
    """
    if answer.percent != gold.percent or answer.sign * gold.sign < 0:
        return False
    if gold.scale is not None or answer.scale is None:
        return _close(answer, gold, scaled=True)
    return _close(answer, gold, scaled=False) or _close(answer, gold, scaled=True)


def _close(answer: Quantity, gold: Quantity, scaled: bool) -> bool:
    a, g = (answer.scaled(), gold.scaled()) if scaled else (answer.value, gold.value)
    if a == g:
        return True
    answer_step, gold_step = answer.step(scaled), gold.step(scaled)
    if answer_step <= gold_step:
        return gold.significant >= 2 and _round(a, gold_step) == g
    return answer.significant >= 3 and _round(g, answer_step) == a


def _round(value: Decimal, step: Decimal) -> Decimal:
    return (value / step).quantize(Decimal(1), rounding=ROUND_HALF_UP) * step
