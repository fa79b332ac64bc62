"""Cut cleaned page texts into page-accurate chunks: headings first, then sentences; tables and figures whole.

Hand-written because the libraries fall short here: llama-index's splitters cut numbers such as ``1,505.60``,
know neither Chinese heading numbering nor 图表/资料来源 figure blocks, and do not keep page offsets.

Every chunk is one contiguous span of the document, where the document is the pages joined with ``"\\n"``:
its text is cut out of the pages verbatim, and ``page_starts`` says where each page's part begins.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

from ingest.kinds import (
    MARKERS,
    Heading,
    Open,
    boilerplate_hits,
    classify,
    follows,
    is_caption,
    is_numeric_row,
    is_source,
    is_table_row,
    looks_like_markdown,
    nest,
    parse_heading,
    weight,
)
from rag.text import split_sentences
from rag.types import Kind

MIN_CHUNK = 20  # weighted size below which a fragment joins its neighbour in the same section
MIN_SIZE = 100  # smallest chunk size accepted: a heading and a sentence must fit
_FIGURE_LINE_MAX = 120  # lines between a caption and its source line are chart labels, not paragraphs
_FIGURE_LINES = 8


@dataclass(frozen=True)
class Piece:
    """A chunk before it has ids: verbatim text, the pages it spans, its heading path and kind."""

    text: str
    page: int
    page_end: int
    page_starts: tuple[tuple[int, int], ...]
    section: str
    kind: Kind


@dataclass(frozen=True)
class _Line:
    start: int
    end: int
    text: str
    label: str  # "blank" | "heading" | "caption" | "source" | "table" | "text"
    heading: Heading | None = None


@dataclass(frozen=True)
class _Block:
    kind: str  # "heading" | "figure" | "table" | "text"
    start: int
    end: int
    heading: Heading | None = None


def chunk_pages(pages: Sequence[str], chunk_size: int = 800, *, markdown: bool | None = None) -> list[Piece]:
    """Chunks of the cleaned ``pages`` (page n is ``pages[n-1]``) of about ``chunk_size`` weighted characters.

    A CJK character counts 2, so the default 800 holds about 400 Chinese or 800 English characters.
    ``markdown`` says whether ``#`` lines are headings; by default it is guessed from the text.
    """
    if chunk_size < MIN_SIZE:
        raise ValueError(f"chunk_size {chunk_size} is too small: use at least {MIN_SIZE} (CJK counts 2)")
    doc = "\n".join(pages)
    offsets = [0]
    for page in pages[:-1]:
        offsets.append(offsets[-1] + len(page) + 1)
    blocks = _blocks(_lines(doc, looks_like_markdown(doc) if markdown is None else markdown))
    spans = _merge_tiny(doc, _spans(doc, blocks, chunk_size))
    pieces = (_piece(doc, offsets, start, end, section) for start, end, section, _ in spans)
    return [piece for piece in pieces if piece is not None]


# --- Lines and blocks ---------------------------------------------------------------------------------------


def _lines(doc: str, markdown: bool) -> list[_Line]:
    lines: list[_Line] = []
    start = 0
    for raw in doc.split("\n"):
        heading = parse_heading(raw, markdown) if raw.strip() else None
        label = "blank" if not raw.strip() else "heading" if heading else next(
            (name for name, test in _LABELS if test(raw)), "text")
        lines.append(_Line(start, start + len(raw), raw, label, heading))
        start += len(raw) + 1
    return _in_context(lines)


_LABELS = (("caption", is_caption), ("source", is_source), ("table", is_table_row))


def _in_context(lines: list[_Line]) -> list[_Line]:
    """Demote plain-text heading candidates that their neighbours contradict (Markdown headings always stand).

    A bullet line inside a bullet list is a list item; ``1.5 Pro ...`` after ``1.2`` is not section 1.5.
    """
    out = list(lines)
    last: dict[str, tuple[int, ...] | None] = {"arabic": None, "note": None}
    for index, line in enumerate(lines):
        heading = line.heading
        if heading is None:
            continue
        plain = heading.md is None
        if plain and heading.family == "bullet" and _in_list(lines, index):
            out[index] = _Line(line.start, line.end, line.text, "text")
        elif heading.family in last:
            if plain and not follows(heading.number, last[heading.family]):
                out[index] = _Line(line.start, line.end, line.text, "text")
            else:
                last[heading.family] = heading.number
        elif heading.family != "bullet":
            last["arabic"] = None  # a new outline level restarts numbered lists under it
            if heading.family in ("part", "item", "chapter"):
                last["note"] = None
    return out


def _in_list(lines: list[_Line], index: int) -> bool:
    """Whether the nearest non-blank line before or after ``index`` is a bullet line too."""
    for step in (-1, 1):
        near = index + step
        while 0 <= near < len(lines) and lines[near].label == "blank":
            near += step
        if 0 <= near < len(lines) and lines[near].text.strip()[:1] in MARKERS:
            return True
    return False


def _blocks(lines: list[_Line]) -> list[_Block]:
    blocks: list[_Block] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.label == "blank":
            index += 1
            continue
        if line.label == "heading":
            blocks.append(_Block("heading", line.start, line.end, line.heading))
            last = index
        elif line.label == "caption":
            last = _figure_end(lines, index)
            blocks.append(_Block("figure", line.start, lines[last].end))
        elif line.label == "table":
            last = index
            while last + 1 < len(lines) and lines[last + 1].label == "table":
                last += 1
            blocks.append(_Block("table", line.start, lines[last].end))
        else:
            last = _text_end(lines, index)
            blocks.append(_Block("text", line.start, lines[last].end))
        index = last + 1
    return blocks


def _text_end(lines: list[_Line], first: int) -> int:
    """Last line of the paragraphs from ``first`` on; a disclaimer after body text starts a new block."""
    legal = bool(boilerplate_hits(lines[first].text))
    last = first
    for index in range(first + 1, len(lines)):
        line = lines[index]
        if line.label not in ("text", "source", "blank"):
            break
        if line.label != "blank":
            if not legal and boilerplate_hits(line.text):
                break
            last = index
    return last


def _figure_end(lines: list[_Line], caption: int) -> int:
    """Last line of the figure opened by ``caption``: its source line, else its table's end, else itself."""
    table_end: int | None = None
    labels = 0
    index = caption + 1
    while index < len(lines):
        line = lines[index]
        chart_label = line.label == "heading" and line.heading is not None and line.heading.md is None \
            and line.heading.family == "bullet"  # ■ legends inside charts
        if line.label == "source":
            return index
        if line.label in ("heading", "caption") and not chart_label:
            break
        if line.label == "table":
            first = labels == 0
            while index + 1 < len(lines) and lines[index + 1].label == "table":
                index += 1
            table_end = index if first and table_end is None else table_end
        elif line.label != "blank" and not is_numeric_row(line.text):  # rows whose cell gaps cleaning removed
            labels += 1
            if labels > _FIGURE_LINES or weight(line.text.strip()) > _FIGURE_LINE_MAX:
                break
        index += 1
    return table_end if table_end is not None else caption


# --- Sections and spans -------------------------------------------------------------------------------------


def _spans(doc: str, blocks: list[_Block], size: int) -> list[tuple[int, int, str, str]]:
    """(start, end, section, block kind) for every chunk, in document order."""
    spans: list[tuple[int, int, str, str]] = []
    stack: list[Open] = []
    seen: set[str] = set()
    section = ""
    lead: int | None = None  # start of headings whose section has no content yet: they open the next chunk
    for block in blocks:
        if block.kind == "heading" and block.heading is not None:
            stack = nest(stack, block.heading, frozenset(seen))
            seen.add(block.heading.family)
            section = " > ".join(heading.title for heading, _ in stack if heading.title)
            lead = block.start if lead is None else lead
            continue
        start = block.start if lead is None else lead
        lead = None
        spans.extend((s, e, section, block.kind) for s, e in _block_spans(doc, block, start, size))
    if lead is not None:
        spans.append((lead, blocks[-1].end, section, "text"))
    return spans


def _block_spans(doc: str, block: _Block, start: int, size: int) -> list[tuple[int, int]]:
    if block.kind == "text":
        units = _sentence_units(doc, block.start, block.end, size)
        if start < block.start:  # the section's heading opens its first chunk
            units[0] = (start, units[0][1])
        return _pack(doc, units, size, overlap=True)
    if weight(doc[start : block.end]) <= 2 * size:
        return [(start, block.end)]
    return _pack(doc, _line_units(doc, start, block.end, size), size, overlap=False)


def _sentence_units(doc: str, start: int, end: int, size: int) -> list[tuple[int, int]]:
    units: list[tuple[int, int]] = []
    position = start
    for sentence in split_sentences(doc[start:end]):
        stop = position + len(sentence)
        if weight(sentence.strip()) > size:
            units.extend(_line_units(doc, position, stop, size))
        else:
            units.append((position, stop))
        position = stop
    return units


def _line_units(doc: str, start: int, end: int, size: int) -> list[tuple[int, int]]:
    """Split at line breaks; a line still over ``size`` is cut hard, never inside a number."""
    units: list[tuple[int, int]] = []
    position = start
    while position < end:
        stop = doc.find("\n", position, end)
        stop = end if stop < 0 else stop + 1
        units.extend(_hard_cut(doc, position, stop, size))
        position = stop
    return units


def _hard_cut(doc: str, start: int, end: int, size: int) -> list[tuple[int, int]]:
    units: list[tuple[int, int]] = []
    while weight(doc[start:end]) > size:
        cut, used = start, 0
        while cut < end and used + weight(doc[cut]) <= size:
            used += weight(doc[cut])
            cut += 1
        soft = max(doc.rfind(mark, start, cut) for mark in "，,；;、 ")
        if soft > start + (cut - start) * 7 // 10:
            cut = soft + 1
        while cut - 1 > start and doc[cut - 1] in _NUMBER_CHARS and doc[cut] in _NUMBER_CHARS:
            cut -= 1
        units.append((start, cut))
        start = cut
    units.append((start, end))
    return units


_NUMBER_CHARS = frozenset("0123456789.,%")


def _pack(doc: str, units: list[tuple[int, int]], size: int, overlap: bool) -> list[tuple[int, int]]:
    """Greedy packing of contiguous units up to ``size``; the next chunk may repeat the last short unit."""
    chunks: list[tuple[int, int]] = []
    current: int | None = None
    used = 0
    previous = (0, 0, 0)  # start, end, weight of the last unit taken
    for start, end in units:
        size_of = weight(doc[start:end].strip())
        if current is not None and used + size_of > size:
            chunks.append((current, previous[1]))
            short = previous[2] < size / 4 and previous[2] + size_of <= size
            repeat = overlap and short and previous[0] > current
            current, used = (previous[0], previous[2]) if repeat else (start, 0)
        if current is None:
            current = start
        used += size_of
        previous = (start, end, size_of)
    if current is None:
        return chunks
    if chunks and weight(doc[chunks[-1][1] : previous[1]].strip()) < MIN_CHUNK:
        chunks[-1] = (chunks[-1][0], previous[1])
    else:
        chunks.append((current, previous[1]))
    return chunks


def _merge_tiny(doc: str, spans: list[tuple[int, int, str, str]]) -> list[tuple[int, int, str, str]]:
    """Join text fragments under ``MIN_CHUNK`` to a neighbour of the same section (figures may stay short)."""
    out: list[tuple[int, int, str, str]] = []
    carry: int | None = None  # start of a fragment waiting for the next span of its section
    for index, (start, end, section, kind) in enumerate(spans):
        start = start if carry is None else carry
        carry = None
        if kind == "text" and weight(doc[start:end].strip()) < MIN_CHUNK:
            if out and out[-1][2] == section:
                out[-1] = (out[-1][0], end, section, out[-1][3])
                continue
            if index + 1 < len(spans) and spans[index + 1][2] == section:
                carry = start
                continue
        out.append((start, end, section, kind))
    return out


def _piece(doc: str, offsets: list[int], start: int, end: int, section: str) -> Piece | None:
    while start < end and doc[start].isspace():
        start += 1
    while end > start and doc[end - 1].isspace():
        end -= 1
    if start >= end:
        return None
    first = bisect_right(offsets, start) - 1
    last = bisect_right(offsets, end - 1) - 1
    starts = ((0, first + 1),) + tuple((offsets[p] - start, p + 1) for p in range(first + 1, last + 1))
    text = doc[start:end]
    return Piece(text, first + 1, last + 1, starts, section, classify(text, section))
