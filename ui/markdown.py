"""Report text as safe Markdown: every string taken from a report is escaped before Streamlit renders it.

Nothing is ever rendered as HTML, so a report cannot inject markup, links or images. Quoted report text
(answers, passages) first loses its own Markdown marks (``##`` headings, ``**`` bold, leading ``- ``
and ``> ``), which would otherwise show as literal characters once escaped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

Span = tuple[int, int]

# CommonMark lets every ASCII punctuation character be backslash-escaped; escaping all of them
# disables links, images, emphasis, HTML, Streamlit's :color[] directives and $math$ at once.
_PUNCT = re.compile(r"[!-/:-@\[-`{-~]")
# GFM links bare URLs, www. names and e-mail addresses even when escaped; a word joiner (U+2060,
# invisible) before "://", after "www" and before "@" keeps them plain text.
_LINKISH = re.compile(r"(?i)(?<=[a-z])(?=://)|(?<=\bwww)(?=\.)|(?=@)")
_MARKER = re.compile(r"\\\[(\d+)\\\]")  # an [n] marker after escaping
# a report's own Markdown: heading, block quote and list marks opening a line, and bold markers
_REPORT_MARKS = re.compile(r"(?m)^[ \t]*(?:(?:#{1,6}|>|[-*+])(?:[ \t]+|$))+|\*\*")


def without_marks(text: str, spans: Sequence[Span] = ()) -> tuple[str, list[Span]]:
    """``text`` without its Markdown marks, and ``spans`` moved to the same characters of the result."""
    removed = [0] * (len(text) + 1)  # marks removed before each offset
    kept, position = [], 0
    for mark in _REPORT_MARKS.finditer(text):
        kept.append(text[position : mark.start()])
        for i in range(mark.start(), mark.end()):
            removed[i + 1] = 1
        position = mark.end()
    kept.append(text[position:])
    for i in range(1, len(removed)):
        removed[i] += removed[i - 1]
    moved = [(start - removed[start], end - removed[end]) for start, end in spans]
    return "".join(kept), [(start, end) for start, end in moved if start < end]


def quote_markdown(text: str, spans: Sequence[Span] = ()) -> str:
    """Quoted report text without its Markdown marks, escaped, the ``spans`` highlighted."""
    return markdown_text(*without_marks(text, spans))


def markdown_text(text: str, spans: Sequence[Span] = ()) -> str:
    """``text`` as literal Markdown (lines kept, indents dropped), the ``(start, end)`` spans highlighted."""
    lines, offset = [], 0
    for line in text.split("\n"):
        body = line.strip()
        first = offset + len(line) - len(line.lstrip())
        out, pos = [], 0
        for start, end in sorted(spans):
            start, end = max(start - first, pos), min(end - first, len(body))
            if start < end:
                out += [_esc(body[pos:start]), _mark(body[start:end])]
                pos = end
        lines.append("".join(out) + _esc(body[pos:]))
        offset += len(line) + 1
    # a hard break ("  ") between lines, a blank line between paragraphs (Streamlit drops blank-line spaces)
    ends = [f"{line}  " if line and following else line for line, following in zip(lines, lines[1:] + [""])]
    return "\n".join(ends)


def answer_markdown(text: str, turn: int) -> str:
    """Escaped answer text whose ``[n]`` markers link to source ``n`` of this turn's sources panel."""
    return _MARKER.sub(lambda m: f"[**\\[{m[1]}\\]**](#source-{turn}-{m[1]})", quote_markdown(text))


def _esc(text: str) -> str:
    return _PUNCT.sub(r"\\\g<0>", _LINKISH.sub("\u2060", text))


def _mark(text: str) -> str:
    """Highlighted (spaces stay outside, or the bold would not render)."""
    inner = text.strip()
    if not inner:
        return text
    lead, trail = text[: len(text) - len(text.lstrip())], text[len(text.rstrip()) :]
    return f"{lead}:orange-background[**{_esc(inner)}**]{trail}"
