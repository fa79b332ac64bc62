"""The library page: upload reports and ingest them with progress, list the documents, delete one."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import streamlit as st

from ingest.job import FAILED, INDEXING, FileResult, JobSummary, Progress
from ingest.loaders import SUPPORTED
from ingest.uploads import ingest_uploads, remove_document
from rag.library import Library
from rag.types import Document
from ui.common import current_library, library_documents, sidebar_library
from ui.markdown import markdown_text

STATUS_COLORS = {"new": "green", "replaced": "blue", "unchanged": "gray", "failed": "red", "deleted": "gray"}


def page() -> None:
    """Uploader and ingest button, the last job's lines, the documents table and the delete form."""
    library = current_library()
    docs = library_documents(library)
    sidebar_library(library, docs)
    state = st.session_state
    state.setdefault("uploader", 0)
    st.title("Report library")
    uploads = st.file_uploader(
        "Add reports (PDF, Markdown, text, HTML)", type=sorted(s.lstrip(".") for s in SUPPORTED),
        accept_multiple_files=True, max_upload_size=library.settings.max_upload_mb,
        key=f"uploader-{state.uploader}",
    )
    if uploads and st.button(f"Ingest {len(uploads)} file(s)", type="primary"):
        state.last_job = run_ingest(library, [(u.name, u.getvalue()) for u in uploads])
        state.uploader += 1  # a fresh, empty uploader: the files are in the library now
        st.rerun()
    if "last_job" in state:
        st.markdown("  \n".join(result_markdown(r) for r in state.last_job.results) or "No files.")
        st.caption(markdown_text(state.last_job.line()))
    st.subheader(f"{len(docs)} documents")
    if docs:
        st.dataframe(document_rows(docs), hide_index=True)
        delete_form(library, docs)
    if "deleted" in state:
        st.success(markdown_text(f"Deleted {state.pop('deleted')}"))


def run_ingest(library: Library, files: list[tuple[str, bytes]]) -> JobSummary:
    """Ingest uploaded files with a progress bar and a line per finished file."""
    bar, lines, done = st.progress(0.0, text="Saving the files…"), st.empty(), []

    def progress(event: Progress) -> None:
        share = event.files_done / event.files_total if event.files_total else 1.0
        bar.progress(share, text=progress_text(event))
        if event.result is not None:
            done.append(result_markdown(event.result))
            lines.markdown("  \n".join(done))

    return ingest_uploads(library, files, progress)


def progress_text(event: Progress) -> str:
    """The progress bar's text: files and chunks so far, then the file in work, or the search index being
    built once every file is done (that event names no file)."""
    head = f"{event.files_done}/{event.files_total} files · {event.chunks_embedded} chunks embedded · "
    if event.stage == INDEXING:
        return head + "building the search index"
    return head + markdown_text(Path(event.current).name)


def result_markdown(result: FileResult) -> str:
    """One line per file: status, file name, then pages and chunks, or the reason it failed."""
    name = markdown_text(Path(result.path).name)
    status = f":{STATUS_COLORS.get(result.status, 'gray')}[**{result.status}**]"
    if result.status == FAILED:
        return f"{status} {name}: {markdown_text(result.reason)}"
    return f"{status} {name} ({result.pages} pages, {result.chunks} chunks)"


def document_rows(docs: Sequence[Document]) -> list[dict[str, Any]]:
    """One table row per document (table cells are plain text, never Markdown or HTML)."""
    return [
        {"title": d.title, "publisher": d.meta.get("publisher", ""), "date": d.meta.get("date", ""),
         "company": d.meta.get("company", ""), "pages": d.pages, "chunks": d.chunks, "format": d.fmt,
         "file": d.source, "ingested": d.ingested_at, "id": d.doc_id}
        for d in docs
    ]


def delete_form(library: Library, docs: Sequence[Document]) -> None:
    """Pick a document and delete it (an uploaded file goes with it)."""
    titles = {d.doc_id: f"{d.title} ({d.source})" for d in docs}
    left, right = st.columns([4, 1], vertical_alignment="bottom")
    doc_id = left.selectbox("Document to delete", list(titles), format_func=titles.get, key="delete_doc")
    if right.button("Delete", icon=":material/delete:", key="delete"):
        doc = remove_document(library, doc_id)
        st.session_state.deleted = f"{doc.title} ({doc.source}, {doc.chunks} chunks)"
        st.rerun()
