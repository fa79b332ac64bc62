"""What every page shares: the library (settings read from the environment here, and only here), its
documents, the sidebar's library summary and the cached page images."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import streamlit as st

from ingest.pdfpages import page_png
from rag.embeddings import Embedder
from rag.library import Library
from rag.settings import Settings
from rag.store import LibraryError
from rag.types import Document
from ui.markdown import markdown_text


@st.cache_resource(show_spinner="Loading the embedding model…")
def _embedder(model: str, batch_size: int) -> Embedder:
    return Embedder(model, batch_size=batch_size)


@st.cache_resource(show_spinner=False)
def _library(settings: Settings) -> Library:
    return Library(settings, embedder=_embedder(settings.embed_model, settings.embed_batch))


def current_library() -> Library:
    """The library the environment names, shared by all sessions of this process."""
    return _library(Settings.load())


def library_documents(library: Library) -> list[Document]:
    """Documents of the library; a library that cannot be opened ends the page with the reason."""
    try:
        return library.store.documents()
    except LibraryError as err:
        st.error(markdown_text(str(err)))
        st.stop()


def sidebar_library(library: Library, docs: Sequence[Document]) -> None:
    """Where the library lives and how big it is."""
    settings = library.settings
    folder = Path(settings.library)
    size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) if folder.exists() else 0
    st.sidebar.caption(f"**Library** `{settings.chroma_url or folder}`")
    pages, chunks = sum(d.pages for d in docs), sum(d.chunks for d in docs)
    st.sidebar.caption(f"{len(docs)} documents · {pages} pages · {chunks} chunks · {size / 1e6:.1f} MB")


@st.cache_data(max_entries=64, show_spinner="Rendering the page…")
def cached_page_png(path: str, modified: float, page_number: int, quotes: tuple[str, ...]) -> bytes:
    """:func:`ingest.pdfpages.page_png`, cached; ``modified`` (the file's mtime) keys a replaced file anew."""
    return page_png(path, page_number, quotes)
