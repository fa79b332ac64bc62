"""The sources panel under an answer: one entry per cited passage, its quotes highlighted, and on demand
the cited PDF page with the quotes boxed, or the passages around a quote from another format."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from rag.library import Library
from rag.store import Store
from rag.types import Answer, Chunk, Citation, Document
from ui.common import cached_page_png
from ui.markdown import markdown_text, quote_markdown


def render_sources(library: Library, turn: int, answer: Answer) -> None:
    """Every cited passage of ``answer`` in citation order."""
    for cited in grouped_citations(answer).values():
        render_source(library, turn, answer, cited)


def grouped_citations(answer: Answer) -> dict[int, list[Citation]]:
    """Citations by number: an answer may quote one passage several times; it gets one entry."""
    grouped: dict[int, list[Citation]] = {}
    for citation in answer.citations:
        grouped.setdefault(citation.n, []).append(citation)
    return dict(sorted(grouped.items()))


def chunk_for(library: Library, answer: Answer, citation: Citation) -> Chunk | None:
    """The cited chunk: among the answer's hits, else (a passage beyond the hits shown) from the store."""
    chunk = next((h.chunk for h in answer.hits if h.chunk.chunk_id == citation.chunk_id), None)
    return chunk or next(iter(library.store.get_chunks([citation.chunk_id])), None)


def render_source(library: Library, turn: int, answer: Answer, cited: list[Citation]) -> None:
    """One entry of the sources panel: title, page, section, the quotes highlighted in their passage."""
    first, pages = cited[0], sorted({c.page for c in cited})
    chunk = chunk_for(library, answer, first)
    with st.container(border=True):
        heading = f":small[\\[{first.n}\\] {markdown_text(first.title)}]"
        st.subheader(heading, anchor=f"source-{turn}-{first.n}")
        where = ("page " if len(pages) == 1 else "pages ") + ", ".join(map(str, pages))
        st.caption(markdown_text(" · ".join(x for x in (where, first.section, first.source) if x)))
        if chunk is None:  # deleted since the answer was given
            st.markdown("  \n".join(quote_markdown(c.quote, [(0, len(c.quote))]) for c in cited))
            return
        st.markdown(quote_markdown(chunk.text, [(c.start, c.end) for c in cited]))
        doc = library.store.document(first.doc_id)
        label = f"Show {where}" if doc is not None and doc.fmt == "pdf" else "Show surrounding text"
        if st.toggle(label, key=f"show-{turn}-{first.n}"):
            show_context(library, doc, chunk, cited)


def show_context(library: Library, doc: Document | None, chunk: Chunk, cited: list[Citation]) -> None:
    """The cited PDF pages as images with the quotes boxed, or the passages around a non-PDF quote."""
    path = Path(doc.path) if doc is not None else None
    if doc is not None and doc.fmt == "pdf" and path is not None and path.exists():
        for page in sorted({c.page for c in cited}):
            quotes = tuple(c.quote for c in cited if c.page == page)
            png = cached_page_png(str(path), path.stat().st_mtime, page, quotes)
            st.image(png, caption=f"{doc.source}, page {page}")
        return
    if doc is not None and doc.fmt == "pdf":
        st.caption(markdown_text(f"{doc.path} is no longer there; showing the passages around the quote."))
    before, after = neighbours(library.store, chunk)
    with st.container(border=True):
        if before is not None:
            st.caption(quote_markdown(before.text))
        st.markdown(quote_markdown(chunk.text, [(c.start, c.end) for c in cited]))
        if after is not None:
            st.caption(quote_markdown(after.text))


def neighbours(store: Store, chunk: Chunk) -> tuple[Chunk | None, Chunk | None]:
    """The chunks just before and after ``chunk`` in its document (None at either end)."""
    found = {c.ordinal: c for c in store.chunks_at(chunk.doc_id, [chunk.ordinal - 1, chunk.ordinal + 1])}
    return found.get(chunk.ordinal - 1), found.get(chunk.ordinal + 1)
