"""What a line or a chunk of a report is: heading, caption, source line, table row; body or boilerplate.

Hand-written for the domain: no library knows the heading numbering of Chinese reports (一、/（一）/第一节),
10-K item structure, or the legal boilerplate of sell-side research. Every rule lives in one of the tables
below, so a new broker's disclaimer or a new heading style is one line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rag.text import CJK, split_sentences
from rag.types import Kind

# --- Boilerplate: by section heading (category -> headings) -----------------------------------------------
BOILERPLATE_HEADINGS: dict[str, tuple[str, ...]] = {
    "analyst certification": ("分析师声明", "分析师承诺", "analyst certification", "analyst certifications"),
    "rating definitions": (
        "评级说明", "投资评级说明", "评级标准", "投资评级标准", "rating definitions", "ratings definitions",
        "rating system", "explanation of ratings", "rating distribution",
    ),
    "disclaimer": (
        "免责声明", "一般声明", "特别声明", "重要声明", "法律声明", "disclaimer", "disclaimers",
        "important disclosures", "disclosures appendix", "legal disclaimer", "general disclosures",
    ),
    "copyright": ("版权声明", "copyright notice"),
    "contact": ("联系我们", "contact us"),
}

_BOILERPLATE_KEYS = tuple(t.replace(" ", "") for titles in BOILERPLATE_HEADINGS.values() for t in titles)

# --- Boilerplate: by distinctive content, for PDFs whose headings were not detected (name -> pattern) -----
BOILERPLATE_CONTENT: dict[str, re.Pattern[str]] = {
    name: re.compile(pattern)
    for name, pattern in {
        "for clients only": r"本报告仅(供|限)",
        "adviser licence": r"证券投资咨询(执业|业务)?资格",
        "rating table": r"相对同期(相关)?证券市场代表(性)?指数",
        "rating horizon": r"报告发布日后\s*\d+\s*(到|至|-|~)?\s*\d*\s*个月",
        "copyright": r"版权(均)?(归|属)|不得以任何(方式|形式)(翻版|复制|转载|刊登|修改|发送)",
        "not an offer": r"不构成(对任何人的)?(个人)?(投资建议|推荐|出价|要约|所述证券买卖)",
        "conflicts": r"可能(会)?持有本报告中(所)?提及",
        "no warranty": r"不(作|做)任何(保证|担保)",
        # English phrases are matched on lower-cased text and start with a literal word (fast to scan for).
        "en certification": r"certif(y|ies) that (the|all)( of the)? views",
        "en not an offer": r"not (constitute |be construed as )?an? (offer|solicitation)",
        "en audience": r"this (report|research|document|material) (is|has been) "
        r"(prepared|issued|provided|intended) (solely |only )?for\b",
        "en past performance": r"past performance is not (necessarily )?(a guide|indicative)",
        "en rating scale": r"weight\b[^.]{0,80}\b(relative to|versus)\b",
    }.items()
}
# One distinctive phrase marks a short chunk; a long chunk needs two (a body passage may quote one).
_SHORT_BOILERPLATE = 300

# --- Lines --------------------------------------------------------------------------------------------------
MARKERS = "►➤■●◆▶▪◼•"
CAPTION = re.compile(
    r"^\s*(?:(?:图表|附图|附表|图|表)\s*\d{1,3}(?:[-.－]\d{1,2})?\s*[:：、．.\s]"
    r"|(?:Figure|Fig\.|Exhibit|Chart|Table)\s+\d{1,3}[A-Za-z]?\s*[:：.\-–—](?!\d))"  # not "Exhibit 10.1"
)
SOURCE = re.compile(r"^\s*(?:资料来源|数据来源|来源|Sources?|Data sources?)\s*[:：]", re.IGNORECASE)
_TOC_TAIL = re.compile(r"(?:\.{4,}|…{2,}|\s)\s*\d{1,3}\s*$")
_SENTENCE_END = re.compile(r"[。！？；;，,、]\s*$")
_MD = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_CELL_NUMBER = re.compile(r"[-+−(]?[$¥€£]?\d[\d,]*(?:\.\d+)?%?\)?|[-—–]")
_AMOUNT = re.compile(r"\d[\d,]*\.\d+|\d{1,3}(?:,\d{3})+")
_WIDE = re.compile("[\u3000-\u9fff\uf900-\uffef]")

# Numbered heading families, highest first: the order is the usual nesting in reports and filings.
FAMILIES: dict[str, re.Pattern[str]] = {
    "part": re.compile(r"^part\s+[ivx]+\b\.?", re.IGNORECASE),
    "chapter": re.compile(r"^第[一二三四五六七八九十百零〇\d]{1,4}[节章篇部]"),
    "item": re.compile(r"^item\s+\d{1,2}[a-c]?\b\.?", re.IGNORECASE),
    "cn": re.compile(r"^[一二三四五六七八九十]{1,3}\s*[、．.]"),
    "cn_paren": re.compile(r"^[（(]\s*[一二三四五六七八九十]{1,3}\s*[）)]"),
    "note": re.compile(r"^note\s+\d{1,2}\b(?=\s*(?:[.:：–—-]|$))\.?", re.IGNORECASE),
    "arabic": re.compile(rf"^(\d{{1,2}}(?:\.\d{{1,2}}){{0,4}})(?:[、.．]\s*|\s+)(?=[{CJK}A-Za-z《“\"(（])"),
    "arabic_paren": re.compile(rf"^[（(]\d{{1,2}}[）)]\s*(?=[{CJK}])"),  # "(3) Calculation of" is a footnote
}
RANK = {family: rank for rank, family in enumerate(FAMILIES)}
RANK["md"] = -1  # an unnumbered Markdown heading outranks every plain-text numbering family
_NUMBERED = {"arabic", "note"}  # families whose numbers the chunker checks for sequence
_TRAILING_DOT_OK = {"part", "item", "note"}  # "Item 9. Changes in ... Disclosure." is a heading in filings
_HEADING_MAX = 110  # weighted length (a CJK character counts 2)


@dataclass(frozen=True)
class Heading:
    """A heading line: its clean title for the section path and what decides its level."""

    title: str
    family: str  # a FAMILIES key, "md" (unnumbered Markdown), "bullet" (►/➤ marker) or "boilerplate"
    md: int | None = None  # Markdown level (1-6) when the line is a Markdown heading
    number: tuple[int, ...] = ()  # 1.2.3 -> (1, 2, 3) for "arabic", Note 7 -> (7,) for "note"

    @property
    def boilerplate(self) -> bool:
        return self.family == "boilerplate"


Open = tuple[Heading, frozenset[str]]  # an open heading and the heading families the document used before it


def looks_like_markdown(text: str) -> bool:
    """Whether ``#`` lines in ``text`` are Markdown headings: most of them are followed by a blank line."""
    lines = text.split("\n")
    headings = [i for i, line in enumerate(lines) if _MD.match(line)]
    spaced = sum(1 for i in headings if i + 1 == len(lines) or not lines[i + 1].strip())
    return bool(headings) and spaced * 2 > len(headings)


def weight(text: str) -> int:
    """Length for chunk sizes: a CJK ideograph or full-width character counts 2, anything else 1."""
    return len(text) + len(_WIDE.findall(text))


def clean_title(text: str) -> str:
    """A heading's text for the section path: no Markdown, bold marks, bullet markers or trailing colon."""
    text = _MD.sub(r"\2", text).replace("**", "").strip()
    text = re.sub(r"\s+", " ", text.lstrip(MARKERS + " ")).rstrip("：: ")
    return re.sub(r"(?<=[A-Za-z)])\.$", "", text)  # "Item 9. ... Disclosure." -> "... Disclosure"


def is_boilerplate_heading(title: str) -> bool:
    """True for a section title such as 分析师声明, 投资评级说明 or Important Disclosures."""
    if weight(title) > _HEADING_MAX:
        return False
    name = _bare(title)
    for key in _BOILERPLATE_KEYS:
        rest = name.replace(key, "", 1)
        # "投资评级说明" matches "评级说明"; "请务必阅读正文之后的重要声明" and "see important disclosures" do not.
        if key in name and len(rest) <= 4 and not re.search("[a-z]", rest):
            return True
    return False


@lru_cache(maxsize=4096)
def boilerplate_section(section: str) -> bool:
    """True when any element of a " > "-joined section path is a boilerplate heading."""
    return any(is_boilerplate_heading(part) for part in section.split(" > ") if part)


def boilerplate_hits(text: str) -> list[str]:
    """Names of the distinctive boilerplate phrases found in ``text``."""
    lowered = text.lower()
    return [name for name, pattern in BOILERPLATE_CONTENT.items() if pattern.search(lowered)]


def is_table_row(line: str) -> bool:
    """A Markdown table row (``| a | b |``) or a tab-separated row with at least two cells."""
    stripped = line.strip()
    if stripped.startswith("|"):
        return True
    return "\t" in line and sum(1 for cell in line.split("\t") if cell.strip()) >= 2


def is_numeric_row(line: str) -> bool:
    """A row of a table whose cell gaps were lost in extraction: a label followed by two or more numbers."""
    tokens = line.split()
    trailing = 0
    for token in reversed(tokens):
        if not _CELL_NUMBER.fullmatch(token):
            break
        trailing += 1
    return trailing >= 2


def is_caption(line: str) -> bool:
    """A figure/table caption such as ``图表1: ...`` or ``Figure 3: ...`` (short, not a sentence)."""
    short = weight(line.strip()) <= 2 * _HEADING_MAX
    return bool(CAPTION.match(line)) and short and not line.rstrip().endswith("。")


def is_source(line: str) -> bool:
    """A ``资料来源: ...`` / ``Source: ...`` line closing a figure."""
    return bool(SOURCE.match(line))


def parse_heading(line: str, markdown: bool = True) -> Heading | None:
    """The heading on ``line``, if any: Markdown ``#`` lines always, plain lines when short and numbered.

    With ``markdown=False`` a ``#`` line is plain text (PDF footnotes start with ``#``). Context checks
    (numbering sequence with :func:`follows`, bullet lists) are the chunker's job.
    """
    md = _MD.match(line) if markdown else None
    text = (md.group(2) if md else line).replace("**", "").strip()
    if not text or (not md and weight(text) > _HEADING_MAX):
        return None
    title = clean_title(text)
    if md:
        return _labelled(title, text, len(md.group(1)))
    if is_caption(text) or is_source(text) or is_table_row(line):
        return None
    if "。" in text or (_TOC_TAIL.search(text) and not re.fullmatch(r"(?i)note\s+\d+", text)):
        return None
    heading = _labelled(title, text, None)
    if heading.family == "md":  # plain, unnumbered text is a heading only when it names a boilerplate section
        return None
    if _SENTENCE_END.search(text) or (text.endswith(".") and heading.family not in _TRAILING_DOT_OK):
        return None
    rest = _strip_label(text)
    if len(split_sentences(rest)) > 1:  # "1.1. Objective. It is the intent of ..." is prose
        return None
    if len(_AMOUNT.findall(rest)) >= 2 or (weight(rest) > 64 and "，" in rest):
        return None  # a statement row; a wrapped sentence
    return heading


def nest(stack: list[Open], heading: Heading, seen: frozenset[str]) -> list[Open]:
    """The open headings after ``heading``: it closes the first open one at its level or below, then opens."""
    for index, (old, old_seen) in enumerate(stack):
        if _closes(heading, old, old_seen):
            return [*stack[:index], (heading, seen)]
    return [*stack, (heading, seen)]


def follows(number: tuple[int, ...], last: tuple[int, ...] | None) -> bool:
    """Whether heading number ``number`` can follow ``last`` in an outline (one missed heading allowed)."""
    if last is None or number == (1,):
        return number[-1] <= 2 or len(number) == 1
    parent = number[:-1]
    if parent == last[: len(parent)] and len(last) >= len(parent):
        previous = last[len(parent)] if len(last) > len(parent) else 0
        return previous < number[-1] <= previous + 2
    return number[0] == last[0] + 1 and all(n == 1 for n in number[1:])


def classify(text: str, section: str) -> Kind:
    """Kind of a chunk: boilerplate (by section path or content), table, figure, else body."""
    hits = boilerplate_hits(text)
    if boilerplate_section(section) or len(hits) >= 2 or (hits and weight(text.strip()) < _SHORT_BOILERPLATE):
        return Kind.BOILERPLATE
    lines = [line for line in text.splitlines() if line.strip()]
    while len(lines) > 1 and parse_heading(lines[0]) is not None:  # a section's heading opens its first chunk
        lines.pop(0)
    content = [line for line in lines if not is_source(line)]
    rows = sum(1 for line in content if is_table_row(line) or is_numeric_row(line))
    if rows and rows * 2 >= len(content):
        return Kind.TABLE
    if not content or any(is_caption(line) for line in content[:2]):
        return Kind.FIGURE  # a source line alone is the end of a split figure
    return Kind.BODY


def _closes(new: Heading, old: Heading, old_seen: frozenset[str]) -> bool:
    """Whether ``new`` ends the section that ``old`` opened.

    Numbering depth wins over Markdown level (``## 1.2`` sits under ``## 1.``); bullet headings (►/➤) are
    leaves under the current section; a boilerplate section ends only at a heading style used before it.
    """
    if new.boilerplate or old.family == "bullet":
        return True
    by_markdown = "md" in (new.family, old.family) or old.boilerplate  # numbered pairs compare by numbering
    if new.md is not None and old.md is not None and by_markdown:
        return old.md >= new.md and (new.family != "bullet" or old.family == "md")
    if new.family == "bullet":
        return False
    if old.boilerplate:
        return new.family in old_seen
    if new.family == old.family:
        return len(old.number) >= len(new.number) if new.family == "arabic" else True
    return RANK[new.family] <= RANK[old.family]


def _labelled(title: str, text: str, md: int | None) -> Heading:
    bare = text.lstrip(MARKERS + " ")
    if is_boilerplate_heading(title):
        return Heading(title, "boilerplate", md)
    for family, pattern in FAMILIES.items():
        match = pattern.match(bare)
        if match and (family != "arabic" or _arabic_ok(match)):
            number = tuple(int(n) for n in re.findall(r"\d+", match.group(0))) if family in _NUMBERED else ()
            return Heading(title, family, md, number)
    if bare != text:
        return Heading(title, "bullet", md)
    return Heading(title, "md", md)


def _arabic_ok(match: re.Match[str]) -> bool:
    # "1 Apple" is a table row, "1. Business" / "1、行业" / "1.2 标题" are headings.
    label = match.group(0)
    return "." in match.group(1) or bool(re.search(r"[、.．]", label))


def _strip_label(title: str) -> str:
    title = title.lstrip(MARKERS + " ")
    for pattern in FAMILIES.values():
        title = pattern.sub("", title, count=1)
    return title


def _bare(title: str) -> str:
    """Title without numbering, markers, punctuation and spaces, lower-cased, for table look-ups."""
    return re.sub(r"[\s:：.,，、*#]+", "", _strip_label(title)).lower()
