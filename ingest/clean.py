"""Clean raw page texts: drop running headers/footers and page numbers, normalise width and spacing, and
re-join lines that the page layout broke inside a sentence.

Hand-written because no library knows report layouts: Chinese joins without a space, numbered Chinese
headings (一、 / （一）), filings' "Table of Contents" back-links, 图表N captions with their 资料来源 lines.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rag.text import CJK

_FULL_WIDTH_ALNUM = (*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B))
_WIDTH = {code: code - 0xFEE0 for code in _FULL_WIDTH_ALNUM}
_WIDTH.update({ord(c): ord(c) - 0xFEE0 for c in "％＄＋－＝＜＞＠＃＆＊＿"})
_WIDTH.update({code: " " for code in (0x00A0, 0x1680, *range(0x2000, 0x200B), 0x202F, 0x205F, 0x3000)})
_WIDTH.update({code: None for code in (0x00AD, 0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF)})
# Symbol-font glyphs that PDFs map to the private use area: keep the bullets, drop the rest.
_WIDTH.update({code: None for code in range(0xF000, 0xF100)})
_WIDTH.update({0xF0B7: "•", 0xF0A7: "▪", ord("\t"): "  "})
# Control characters: a symbol font's glyph indices ("\x04\x05\x06\x07" for a header drawn in it) say nothing.
_WIDTH.update({code: None for code in (*range(0x00, 0x09), 0x0B, *range(0x0E, 0x20), 0x7F)})

# Kangxi radicals and compatibility ideographs some PDF fonts map ideographs to (⽯油 for 石油, ⾏ for 行): the
# ideographs they stand for, or no search finds the words.
_WIDTH.update({code: unicodedata.normalize("NFKC", chr(code)) for code in (*range(0x2E80, 0x2FE0), *range(0xF900, 0xFB00))
               if unicodedata.normalize("NFKC", chr(code)) != chr(code)})

_WIDE = f"{CJK}\u3000-\u303f\uff00-\uffef"  # ideographs, CJK punctuation, full-width forms
_WIDE_CHAR = re.compile(f"[{_WIDE}]")
# Layout spaces inside Chinese: between ideographs, and around plain numbers ("2024 年3 月"), but not
# around tokens such as "5G" or "H100", which keep the spacing of Latin words.
_CJK_GAP = re.compile(f"(?<=[{CJK}]) (?=[{CJK}]|\\d(?:[\\d.,]*\\d)?%?(?![\\dA-Za-z%.,]))")
_CJK_PUNCTUATION = "，。、；：！？（）《》「」『』【】〔〕"
_PUNCTUATION_GAP = re.compile(f" (?=[{_CJK_PUNCTUATION}])|(?<=[{_CJK_PUNCTUATION}]) ")
_NUMBER_GAP = re.compile(f"(?<![A-Za-z\\d.,])(\\d(?:[\\d.,]*\\d)?%?) (?=[{CJK}])")
_FULLWIDTH_POINT = re.compile(r"(?<=\d)．(?=\d)")
_SPACES = re.compile(r" {2,}")
_DIGITS = re.compile(r"\d+")
_HAS_WORD = re.compile(f"[A-Za-z{CJK}]")

_PAGE_NUMBER = re.compile(
    r"[-–—]\s*\d{1,4}\s*[-–—]|第\s*\d{1,4}\s*页(?:\s*[,，/]?\s*共\s*\d{1,4}\s*页)?"
    r"|共\s*\d{1,4}\s*页\s*第\s*\d{1,4}\s*页"
    r"|(?:page|p\.)\s*\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?|\d{1,4}\s*(?:/|of)\s*\d{1,4}",
    re.I,
)
_BARE_NUMBER = re.compile(r"\d{1,4}|(?=[ivxlc])c{0,3}(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3})", re.I)  # 12, xiv
_TOC = re.compile(r"table of contents|contents|index|目\s*录", re.I)

_HEADING = re.compile(
    r"#{1,6}\s|\d{1,2}(?:\.\d{1,2}){1,3}\.?\s+[^\d\s]|\d{1,2}[.、．]\s*[^\d\s.,]|[一二三四五六七八九十]{1,3}\s*[、.．]"
    r"|[（(][一二三四五六七八九十]{1,3}[)）]|第[一二三四五六七八九十百零\d]{1,4}\s*[章节部分篇]"
    r"|(?:item|part|note|section|chapter|article|schedule)\s+(?:\d{1,3}[a-z]?|[ivx]{1,5})\b",
    re.I,
)
_HEADING_NUMBER = re.compile(r"\s*(?:#{1,6}\s+)?\d{1,2}(?:\.\d{1,2})*\.?\s")  # "1 引言" keeps its space
_CAPS_HEADING = re.compile(r"(?=.*[A-Z].*[A-Z])[A-Z][A-Z0-9 ,.&'’()/\-]{2,79}")
_LIST = re.compile(r"[•·●○■□▪◆◇►▶➢✓√✔☐☑☒]|[-–*]\s|[（(]?(?:\d{1,2}|[a-z])[)）]|[①-⑳]")
_CAPTION = re.compile(
    r"(?:附?图表?|附?表)\s*\d{1,3}|(?:figure|fig\.|table|chart|exhibit|graph)\s*\d{1,3}\b"
    r"|(?:资料来源|数据来源|来源|注|sources?|notes?)\s*[:：]",
    re.I,
)
_NUMERIC = re.compile(r"[-−+(（]?[$¥￥€£]?\d(?:[\d,，./-]*\d)?%?[)）]?")
_CELL_GAP = re.compile(f"[{CJK}]{{2}} (?=[{CJK}]{{2}})")  # "独立董事 副总经理": cells; prose has no such gap
_CURRENCY = frozenset("$¥￥€£")
_COLUMN_GAP = re.compile(r"\S {2,}(?=\S)")
_SENTENCE_END = re.compile(r"[。！？；：.!?;:][\"'”’」』）)】]*$")
_WORD_HYPHEN = re.compile(r"([A-Za-z]+)-$")
_WORD_START = re.compile(r"[A-Za-z]+")
_COMPOUND = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)+")
_BROKEN_WORD = re.compile(r"[A-Za-z]+-\n[A-Za-z]+")
_WORD = re.compile(r"[A-Za-z]+")

EDGE_LINES = 3  # lines at the top and bottom of a page that may be running headers/footers
SHORT_LINE = 0.75  # a plain line narrower than this share of a full line ends its paragraph
FULL_LINE = 0.9  # a heading, item or caption this wide wraps into the next line
_PAUSES = ("，", "、", ",")


@dataclass(frozen=True)
class _Vocabulary:
    """The document's own spelling, consulted to undo line-end hyphens."""

    compounds: frozenset[str]  # hyphenated pairs written on one line: "year-on-year" gives year-on, on-year
    words: frozenset[str]  # lower-case words, not counting halves broken at a line end


@dataclass(frozen=True)
class _Line:
    text: str
    kind: str  # "blank" | "heading" | "list" | "caption" | "table" | "text"


def clean_pages(pages: Sequence[str], fmt: str) -> list[str]:
    """Clean each page of a document; returns as many pages as it got (a page may become "").

    All formats: running headers/footers and page-number lines go, characters and spaces are normalised
    (numbers never change). PDF and plain text also get lines re-joined inside sentences and paragraphs;
    Markdown and HTML keep their line structure.
    """
    normalised = (_FULLWIDTH_POINT.sub(".", page.translate(_WIDTH)) for page in pages)
    pages_lines = [[line.rstrip() for line in page.split("\n")] for page in normalised]
    pages_lines = _drop_page_furniture(pages_lines)
    reflow = fmt in ("pdf", "txt")
    typed = [[_tidy(line, keep_indent=not reflow) for line in lines] for lines in pages_lines]
    if reflow:
        full = _full_width(line for lines in typed for line in lines)
        vocabulary = _vocabulary(pages)
        texts = [_reflow(lines, full, vocabulary) for lines in typed]
    else:
        texts = ["\n".join(line.text for line in lines) for lines in typed]
    return [re.sub(r"\n{3,}", "\n\n", text).strip("\n") for text in texts]


# ---------------------------------------------------------------- running headers, footers, page numbers


def _drop_page_furniture(pages: list[list[str]]) -> list[list[str]]:
    """Remove running header/footer lines, then page-number lines, from the edges of each page."""
    edges = [_edges(lines) for lines in pages]
    counts = Counter(key for lines, idx in zip(pages, edges) for key in {_key(lines[i]) for i in idx})
    with_text = sum(1 for idx in edges if idx)
    threshold = max(3, math.ceil(0.5 * with_text))
    running = {key for key, count in counts.items() if count >= threshold and _HAS_WORD.search(key)}
    backlinks = {n for n, (lines, idx) in enumerate(zip(pages, edges)) if any(_is_toc(lines[i]) for i in idx)}
    pages = [
        _without(lines, {i for i in idx
                         if _key(lines[i]) in running or (len(backlinks) >= 2 and _is_toc(lines[i]))})
        for lines, idx in zip(pages, edges)
    ]
    if len(pages) > 1:
        pages = [_without(lines, _page_number_lines(lines)) for lines in pages]
    return pages


def _is_toc(line: str) -> bool:
    """A filing's "Table of Contents" back-link (or 目录) standing alone on a line."""
    return bool(_TOC.fullmatch(line.strip()))


def _edges(lines: list[str]) -> list[int]:
    """Indices of the first and last few non-empty lines."""
    filled = [i for i, line in enumerate(lines) if line.strip()]
    return sorted(set(filled[:EDGE_LINES] + filled[-EDGE_LINES:]))


def _key(line: str) -> str:
    """A line with digits masked, so "Page 3" on page 3 and "Page 4" on page 4 count as one line."""
    return _DIGITS.sub("#", " ".join(line.split()))


def _page_number_lines(lines: list[str]) -> set[int]:
    """Edge lines that are page numbers; a bare "12" only as the first or last line (it may be a cell)."""
    idx = _edges(lines)
    found = {i for i in idx if _PAGE_NUMBER.fullmatch(lines[i].strip())}
    found |= {i for i in idx[:1] + idx[-1:] if _BARE_NUMBER.fullmatch(lines[i].strip())}
    return found


def _without(lines: list[str], drop: set[int]) -> list[str]:
    return [line for i, line in enumerate(lines) if i not in drop] if drop else lines


# ---------------------------------------------------------------- one line


def _tidy(line: str, keep_indent: bool) -> _Line:
    """Classify a line, then remove layout spaces inside Chinese and collapse runs of spaces.

    Table rows keep their spaces: there a space separates cells ("损益 105,961.19"), and only single
    spaces elsewhere are layout artefacts ("2024 年3 月"); runs of spaces are column gaps.
    """
    kind = _kind(line)
    if kind not in ("table", "blank"):
        number = _HEADING_NUMBER.match(line) if kind == "heading" else None
        cut = number.end() if number else 0
        rest = _PUNCTUATION_GAP.sub("", _CJK_GAP.sub("", line[cut:]))
        line = line[:cut] + _NUMBER_GAP.sub(r"\1", rest)
    indent = line[: len(line) - len(line.lstrip())] if keep_indent else ""
    return _Line(indent + _SPACES.sub(" ", line.strip()), kind)


def _kind(line: str) -> str:
    stripped = line.strip()
    if not stripped:
        return "blank"
    if _is_table_row(stripped):
        return "table"
    if _CAPTION.match(stripped):
        return "caption"
    if _HEADING.match(stripped) or _CAPS_HEADING.fullmatch(stripped):
        return "heading"
    if _LIST.match(stripped):
        return "list"
    return "text"


def _is_table_row(line: str) -> bool:
    """Cells separated by pipes or column gaps, a label followed by several numbers, or Chinese cells."""
    if line.count("|") >= 2:
        return True
    tokens = [token for token in line.split() if token not in _CURRENCY]
    numeric = [bool(_NUMERIC.fullmatch(token)) for token in tokens]
    trailing = next((i for i, flag in enumerate(reversed(numeric)) if not flag), len(numeric))
    count = sum(numeric)
    # "2019 年 1 月" is prose, "7.64 11.71" are cells
    adjacent = sum(1 for a, b in zip(numeric, numeric[1:]) if a and b)
    gaps = len(_COLUMN_GAP.findall(line)) + len(_CELL_GAP.findall(line))
    return trailing >= 2 or (count >= 3 and adjacent >= 1) or gaps >= 2 or (gaps >= 1 and count >= 1)


# ---------------------------------------------------------------- joining lines


def _reflow(lines: list[_Line], full: float, vocabulary: _Vocabulary) -> str:
    """Join each text line to the one before when the layout, not the author, broke it."""
    out: list[str] = []
    previous: _Line | None = None
    for line in lines:
        if previous is not None and _continues(previous, line, full):
            out[-1] = _join(out[-1], line.text, vocabulary)
        else:
            out.append(line.text)
        previous = line
    return "\n".join(out)


def _continues(previous: _Line, line: _Line, full: float) -> bool:
    """A plain line continues the line before (plain, or a heading/item/caption that wraps) unless that one
    ended a sentence or stopped short of the full width."""
    if previous.kind in ("blank", "table") or line.kind != "text":
        return False
    if _WORD_HYPHEN.search(previous.text) and line.text[0].isalpha():
        return True  # "establish-" / "ing": a word broken at the line end, however short the line
    if _SENTENCE_END.search(previous.text):
        return False
    if previous.kind != "text":  # a heading runs on only when it is clearly mid-sentence
        return _columns(previous.text) >= FULL_LINE * full or previous.text.endswith(_PAUSES)
    return _columns(previous.text) >= SHORT_LINE * full


def _join(left: str, right: str, vocabulary: _Vocabulary) -> str:
    """Chinese joins with no space, English with one; a line-end hyphen between lower-case letters goes
    ("manage-" + "ment") unless the document shows a compound ("forward-" + "looking", "weather-related")."""
    hyphen = _WORD_HYPHEN.search(left)
    if hyphen:
        word = _WORD_START.match(right)
        broken = word and left[-2].islower() and right[0].islower()
        if word and broken and not _is_compound(hyphen[1], word[0], vocabulary):
            return left[:-1] + right
        return left + right
    if _WIDE_CHAR.match(left[-1]) or _WIDE_CHAR.match(right[0]):
        return left + right
    return f"{left} {right}"


def _is_compound(head: str, tail: str, vocabulary: _Vocabulary) -> bool:
    """Seen hyphenated on one line; else not seen joined and the tail is a word of its own."""
    head, tail = head.lower(), tail.lower()
    if f"{head}-{tail}" in vocabulary.compounds:
        return True
    return head + tail not in vocabulary.words and tail in vocabulary.words


def _vocabulary(pages: Sequence[str]) -> _Vocabulary:
    compounds: set[str] = set()
    words: set[str] = set()
    for page in pages:
        page = _BROKEN_WORD.sub(" ", page)
        for compound in _COMPOUND.findall(page):
            parts = compound.lower().split("-")
            compounds.update(f"{a}-{b}" for a, b in zip(parts, parts[1:]))
        words.update(word.lower() for word in _WORD.findall(page))
    return _Vocabulary(frozenset(compounds), frozenset(words))


def _full_width(lines: Iterable[_Line]) -> float:
    """The width of a full line in this document: the 90th percentile of its plain lines' widths."""
    widths = sorted(_columns(line.text) for line in lines if line.kind == "text")
    return widths[int(0.9 * (len(widths) - 1))] if widths else 0.0


def _columns(text: str) -> int:
    """Display width: ideographs and full-width forms count two columns."""
    return len(text) + len(_WIDE_CHAR.findall(text))
