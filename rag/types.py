"""Value objects that cross package boundaries: chunks, documents, hits, citations, answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class Kind(str, Enum):  # noqa: UP042 - StrEnum would change str(Kind.BODY) from "Kind.BODY" to "body"
    """What a chunk is: retrieval skips boilerplate unless asked."""

    BODY = "body"
    FIGURE = "figure"
    TABLE = "table"
    BOILERPLATE = "boilerplate"


# Report metadata keys stored on documents and chunks (absent keys mean "not found", never guessed).
META_KEYS = (
    "title",
    "publisher",
    "date",
    "report_kind",
    "analysts",
    "rating",
    "rating_action",
    "target_price",
    "target_currency",
    "previous_target",
    "sector",
    "company",
    "ticker",
    "form_type",
    "period",
)


@dataclass(frozen=True)
class Chunk:
    """A passage of one document, with where it came from.

    ``page_starts`` lists ``(offset_in_text, page)`` pairs, so a quote at any offset maps to its page.
    """

    chunk_id: str
    doc_id: str
    ordinal: int
    text: str
    source: str
    page: int
    page_end: int
    section: str = ""
    kind: Kind = Kind.BODY
    ocr: bool = False
    page_starts: tuple[tuple[int, int], ...] = ()
    meta: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    def page_at(self, offset: int) -> int:
        """The 1-based page on which character ``offset`` of the text lies."""
        page = self.page
        for start, number in self.page_starts:
            if start > offset:
                break
            page = number
        return page

    @property
    def title(self) -> str:
        return self.meta.get("title") or self.source


@dataclass(frozen=True)
class Document:
    """One ingested file: identity, provenance and the report metadata found in it."""

    doc_id: str
    source: str
    path: str
    pages: int
    chunks: int
    ingested_at: str
    fmt: str
    meta: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    ocr_pages: tuple[int, ...] = ()

    @property
    def title(self) -> str:
        return self.meta.get("title") or self.source


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its fused score and the rank each retriever gave it (1-based)."""

    chunk: Chunk
    score: float
    ranks: dict[str, int] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Citation:
    """Evidence for the claims marked ``[n]``: the chunk and the exact quoted span of its text.

    ``n`` is the marker's number in the answer text (1, 2, … in order of first appearance); ``hit`` is the
    cited passage's 1-based position in ``Answer.hits`` (0 until the answer is numbered: ``n`` is then the
    passage number, as the verifier assigns it).
    """

    n: int
    chunk_id: str
    doc_id: str
    source: str
    title: str
    page: int
    section: str
    quote: str
    start: int
    end: int
    hit: int = 0


@dataclass(frozen=True)
class Flag:
    """A verification finding: a sentence or number the cited evidence does not support."""

    kind: str  # "unsupported_sentence" | "number_not_found" | "unknown_citation" | "no_citation" | "uncited_cell"
    detail: str


@dataclass(frozen=True)
class FigureCell:
    """A table cell a figure answer reads: where it is printed and what it says (marker ``[n]`` cites it)."""

    n: int
    doc_id: str
    source: str
    page: int
    row: str  # the row label as printed
    column: str  # the column header as printed
    value: float | None
    text: str  # the value as printed: "(1,577)"
    quote: str  # the row's line on the page: what the citation quotes and the page image boxes
    table: str = ""  # the table's title


@dataclass(frozen=True)
class Figure:
    """A figure answer's value: read from one cell, or computed by ``formula`` from ``cells``.

    ``value`` is in ``unit`` as printed ("$ million", "百万元", "%", "x"); ``scale`` is what one unit is worth
    (1e6 for millions), so ``value * scale`` is the amount in currency units.
    """

    value: float
    unit: str
    scale: float
    period: str
    entity: str
    metric: str
    formula: str = ""
    cells: tuple[FigureCell, ...] = ()


@dataclass(frozen=True)
class TableCell:
    """One cell of a table answer: the value as shown ("买入（维持）", "HK$690.00", "—") and the number of the
    citation that quotes the line printing it (``None`` for "—", which no report states)."""

    value: str
    citation: int | None = None


@dataclass(frozen=True)
class TableRow:
    """One report's row of a table answer: its cells in column order, and the report they were read from."""

    cells: tuple[TableCell, ...]
    doc_id: str = ""
    source: str = ""
    date: str = ""


@dataclass(frozen=True)
class AnswerTable:
    """A cross-report answer's table: one row per report, each cell cited; ``fields`` names what each column
    holds ("broker", "date", "rating", "target_price", "forecast"), ``summary`` is the sentence under it."""

    columns: tuple[str, ...]
    fields: tuple[str, ...]
    rows: tuple[TableRow, ...]
    summary: str = ""

    def column(self, field_name: str) -> int | None:
        """The index of the column holding ``field_name``, or ``None``."""
        return self.fields.index(field_name) if field_name in self.fields else None


@dataclass(frozen=True)
class Answer:
    """What a question gets back: text with ``[n]`` markers and everything needed to check it."""

    question: str
    text: str
    answerable: bool
    citations: tuple[Citation, ...] = ()
    hits: tuple[Hit, ...] = ()
    scope: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    flags: tuple[Flag, ...] = ()
    reason: str = ""
    mode: str = "extractive"
    timings_ms: dict[str, float] = field(default_factory=dict, compare=False, hash=False)
    kind: str = "passage"  # "figure" | "derived" | "table" | "card" | "passage" | "refusal"
    figure: Figure | None = None
    table: AnswerTable | None = None
