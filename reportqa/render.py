"""Answers and passages as terminal text, for `reportqa ask` and `reportqa chat`."""

from __future__ import annotations

import io
import shutil

from rag.types import Answer, AnswerTable, Chunk, Citation


def format_answer(answer: Answer) -> str:
    """The answer text (a table answer as a table and its sentence), its scope, one line per citation (title,
    page, section, quote) and any flags."""
    lines = [format_table(answer.table) + "\n" + answer.table.summary] if answer.table else [answer.text]
    if answer.scope:
        lines.append(f"\n(scope: {answer.scope.get('label') or answer.scope.get('matched')})")
    for c in answer.citations:
        section = f" · {c.section}" if c.section else ""
        lines.append(f"[{c.n}] {c.title} — p.{c.page}{section}\n    “{c.quote.strip()}”")
    lines.extend(f"! {flag.kind}: {flag.detail}" for flag in answer.flags)
    return "\n".join(lines)


def format_passage(citation: Citation, chunk: Chunk) -> str:
    """The whole passage a citation quotes, its place in the report, and the quote marked »like this«."""
    text = chunk.text
    start, end = citation.start, citation.end
    if text[start:end] != citation.quote:  # offsets of another passage version: find the quote instead
        start = text.find(citation.quote)
        end = start + len(citation.quote)
    if start >= 0 and citation.quote:
        text = f"{text[:start]}»{text[start:end]}«{text[end:]}"
    section = f" · {chunk.section}" if chunk.section else ""
    pages = f"p.{chunk.page}" if chunk.page_end == chunk.page else f"pp.{chunk.page}-{chunk.page_end}"
    return f"[{citation.n}] {chunk.title} — {pages}{section} ({chunk.source})\n\n{text.strip()}"


def format_table(table: AnswerTable, width: int | None = None) -> str:
    """A table answer drawn with rich: one row per report, each cell with its citation marker [n]."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    grid = Table(show_header=True, header_style="bold")
    for column in table.columns:
        grid.add_column(column, overflow="fold")
    for row in table.rows:  # Text, not markup: "[3]" is a citation, not a rich style
        grid.add_row(*(Text(c.value + (f"[{c.citation}]" if c.citation else "")) for c in row.cells))
    out = io.StringIO()
    Console(file=out, width=width or shutil.get_terminal_size((120, 24)).columns, color_system=None,
            highlight=False).print(grid)
    return out.getvalue().rstrip("\n")
