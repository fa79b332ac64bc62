"""Report QA in the browser: chat with cited answers, the report library and the evaluation dashboard.

Start it with ``reportqa app`` (or ``streamlit run app.py``); settings come from the environment
(``REPORTQA_*``) through ``Settings.load()``. Report text is untrusted: every string taken from a report
is escaped before Markdown rendering and nothing is rendered as HTML, so a report cannot inject markup,
links or images. Pages: ``/chat`` (default), ``/library``, ``/evaluation``; ``?page=library`` also works.
"""

from __future__ import annotations

import io
import os
import re
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Collection, Sequence

import streamlit as st

from ingest.job import FAILED, FileResult, JobSummary, Progress, delete_document, ingest_paths
from ingest.loaders import SUPPORTED
from rag.answer import Conversation, answer_stream
from rag.embeddings import Embedder
from rag.library import Library
from rag.llm import LLMError
from rag.retrieve import Filters
from rag.settings import Settings
from rag.store import LibraryError
from rag.types import Answer, Chunk, Citation, Document

UPLOADS = "uploads"  # uploaded reports live in <library>/uploads/
DATASETS = "datasets"  # uploaded question sets live in <library>/datasets/
RUNS = "eval-runs"  # saved evaluation runs live in <library>/eval-runs/<time>-<set>/results.json
STATUS_COLORS = {"new": "green", "replaced": "blue", "unchanged": "gray", "failed": "red", "deleted": "gray"}
FLAG_LABELS = {
    "unsupported_sentence": "Sentence not supported by the passage it cites",
    "number_not_found": "Number not found in the cited passage",
    "unknown_citation": "Cites a passage that was not retrieved",
    "no_citation": "Sentence without a citation",
}
HIGHLIGHT = (255, 170, 0, 90)  # quote boxes on a page image: translucent fill ...
OUTLINE = (230, 120, 0, 255)  # ... and an opaque outline


# --- safe Markdown ----------------------------------------------------------------------------------
# CommonMark lets every ASCII punctuation character be backslash-escaped; escaping all of them
# disables links, images, emphasis, HTML, Streamlit's :color[] directives and $math$ at once.
_PUNCT = re.compile(r"[!-/:-@\[-`{-~]")
# GFM links bare URLs, www. names and e-mail addresses even when escaped; a word joiner (U+2060,
# invisible) before "://", after "www" and before "@" keeps them plain text.
_LINKISH = re.compile(r"(?i)(?<=[a-z])(?=://)|(?<=\bwww)(?=\.)|(?=@)")
_MARKER = re.compile(r"\\\[(\d+)\\\]")  # an [n] marker after escaping


def _esc(text: str) -> str:
    return _PUNCT.sub(r"\\\g<0>", _LINKISH.sub("\u2060", text))


def _mark(text: str) -> str:
    """Highlighted (spaces stay outside, or the bold would not render)."""
    inner = text.strip()
    if not inner:
        return text
    lead, trail = text[: len(text) - len(text.lstrip())], text[len(text.rstrip()) :]
    return f"{lead}:orange-background[**{_esc(inner)}**]{trail}"


def markdown_text(text: str, spans: Sequence[tuple[int, int]] = ()) -> str:
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
    return _MARKER.sub(lambda m: f"[**\\[{m[1]}\\]**](#source-{turn}-{m[1]})", markdown_text(text))


# --- the library (settings are read from the environment here, and only here) ----------------------
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


# --- uploads ----------------------------------------------------------------------------------------
def sanitize_filename(name: str) -> str:
    """A safe base name: no folders, no leading dots, letters (any script), digits and ``-_.()`` only."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    stem = re.sub(r"[^\w\-.()]+", "_", stem).strip("._-")[:120] or "upload"
    suffix = re.sub(r"[^A-Za-z0-9]", "", suffix).lower()
    return f"{stem}.{suffix}" if suffix else stem


def save_uploads(
    folder: Path, files: Sequence[tuple[str, bytes]], max_mb: int, allowed: Collection[str] = SUPPORTED
) -> tuple[list[Path], list[FileResult]]:
    """Write uploaded ``(name, bytes)`` into ``folder``; too large or unsupported files come back failed."""
    folder.mkdir(parents=True, exist_ok=True)
    saved, rejected = [], []
    for raw_name, data in files:
        name = sanitize_filename(raw_name)
        if Path(name).suffix not in allowed:
            reason = f"unsupported file type; upload one of {', '.join(sorted(allowed))}"
            rejected.append(FileResult(name, FAILED, reason=reason))
        elif len(data) > max_mb * 1024 * 1024:
            size = f"{len(data) / 1e6:.1f} MB"
            reason = f"{size} is over the upload limit of {max_mb} MB (REPORTQA_MAX_UPLOAD_MB)"
            rejected.append(FileResult(name, FAILED, reason=reason))
        else:
            target = folder / name
            partial = target.with_name(f".{name}.part")  # hidden, so never picked up as a report
            partial.write_bytes(data)
            os.replace(partial, target)
            saved.append(target)
    return saved, rejected


def ingest_uploads(
    library: Library, files: Sequence[tuple[str, bytes]], progress: Callable[[Progress], None] | None = None
) -> JobSummary:
    """Save uploaded ``(file name, bytes)`` pairs into ``<library>/uploads`` and ingest them."""
    settings = library.settings
    saved, rejected = save_uploads(Path(settings.library) / UPLOADS, files, settings.max_upload_mb)
    summary = ingest_paths(library, saved, progress=progress) if saved else JobSummary((), 0.0)
    return JobSummary(tuple(rejected) + summary.results, summary.seconds, summary.embedded)


def result_markdown(result: FileResult) -> str:
    """One line per file: status, file name, then pages and chunks, or the reason it failed."""
    name = markdown_text(Path(result.path).name)
    status = f":{STATUS_COLORS.get(result.status, 'gray')}[**{result.status}**]"
    if result.status == FAILED:
        return f"{status} {name}: {markdown_text(result.reason)}"
    return f"{status} {name} ({result.pages} pages, {result.chunks} chunks)"


def remove_document(library: Library, doc_id: str) -> Document:
    """Delete a document; its file goes too when the app stored it (an upload), never otherwise."""
    doc = delete_document(library, doc_id)
    path, uploads = Path(doc.path), (Path(library.settings.library) / UPLOADS).resolve()
    if path.parent == uploads and path.exists():
        path.unlink()
    return doc


# --- the cited page ---------------------------------------------------------------------------------
def _normalized(chars: Sequence[str]) -> tuple[str, list[int]]:
    """Characters compared without spacing, width or case, each mapped back to its index in ``chars``."""
    text, index = [], []
    for i, char in enumerate(chars):
        for c in unicodedata.normalize("NFKC", char).casefold():
            if not c.isspace() and c not in "\u00ad\ufffe":
                text.append(c)
                index.append(i)
    return "".join(text), index


def quote_char_indices(page_chars: Sequence[str], quote: str) -> list[int]:
    """Indices of the page characters that spell ``quote``, ignoring spacing (cleaning joined broken lines).

    When the whole quote is not on the page, its clauses that are (in order) are used instead.
    """
    page, index = _normalized(page_chars)
    pieces = [_normalized(quote)[0]]
    if pieces[0] not in page:
        clauses = re.split(r"[，,。；;：:、！？!?]", quote)
        pieces = [p for p in (_normalized(c)[0] for c in clauses) if len(p) >= 4]
    found, cursor = [], 0
    for piece in pieces:
        at = page.find(piece, cursor) if piece else -1
        if at >= 0:
            found.extend(index[at : at + len(piece)])
            cursor = at + len(piece)
    return sorted(set(found))


def line_boxes(boxes: Sequence[tuple[float, float, float, float]]) -> list[list[float]]:
    """Character boxes ``(left, bottom, right, top)`` merged into one box per text line."""
    lines: list[list[float]] = []
    for left, bottom, right, top in boxes:
        if right <= left or top <= bottom:
            continue  # generated spaces and line breaks have no box
        last = lines[-1] if lines else None
        if last and bottom < last[3] and top > last[1] and left >= last[0] - 1:
            last[:] = [min(last[0], left), min(last[1], bottom), max(last[2], right), max(last[3], top)]
        else:
            lines.append([left, bottom, right, top])
    return lines


@st.cache_data(max_entries=64, show_spinner="Rendering the page…")
def page_png(
    path: str, modified: float, page_number: int, quotes: tuple[str, ...], scale: float = 1.6
) -> bytes:
    """PNG of one PDF page (1-based) with the character boxes of each quote highlighted.

    ``modified`` (the file's mtime) is part of the cache key, so a replaced file is rendered afresh.
    Page coordinates are mapped through the page's bounding box; rotated pages are not handled.
    """
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c
    from PIL import Image, ImageDraw

    pdf = pdfium.PdfDocument(path)
    try:
        page = pdf[page_number - 1]
        image = page.render(scale=scale).to_pil().convert("RGBA")
        text = page.get_textpage()
        chars = [chr(pdfium_c.FPDFText_GetUnicode(text.raw, i)) for i in range(text.count_chars())]
        boxes = [text.get_charbox(i) for quote in quotes for i in quote_char_indices(chars, quote)]
        left, _, _, top = page.get_bbox()
    finally:
        pdf.close()
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    for x0, y0, x1, y1 in line_boxes(boxes):  # PDF points (origin bottom left) to pixels (top left)
        box = [(x0 - left) * scale, (top - y1) * scale, (x1 - left) * scale, (top - y0) * scale]
        draw.rectangle([v + d for v, d in zip(box, (-2, -2, 2, 2))], fill=HIGHLIGHT, outline=OUTLINE, width=2)
    out = io.BytesIO()
    Image.alpha_composite(image, overlay).convert("RGB").save(out, format="PNG")
    return out.getvalue()


def neighbours(library: Library, chunk: Chunk) -> tuple[Chunk | None, Chunk | None]:
    """The chunks just before and after ``chunk`` in its document."""
    around = [chunk.ordinal - 1, chunk.ordinal + 1]
    found = {c.ordinal: c for c in library.store.iter_chunks({"$and": [
        {"doc_id": chunk.doc_id}, {"ordinal": {"$in": around}}]})}
    return found.get(around[0]), found.get(around[1])


# --- chat -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ChatTurn:
    """A question, what it got back (or the error), and the sidebar filters it was asked under."""

    question: str
    answer: Answer | None
    filters: str = ""
    error: str = ""


@dataclass(frozen=True)
class ChatSettings:
    """What the sidebar asks for: filters (and how to name them), top-k and answer mode."""

    filters: Filters | None
    label: str
    k: int
    mode: str


FILTER_KEYS = {"filter_docs": [], "filter_publishers": [], "filter_from": None, "filter_to": None}


def clear_scope(question: str) -> None:
    """Button callback: forget the filters and the conversation's scope, then ask ``question`` again."""
    st.session_state.update(FILTER_KEYS)
    st.session_state.conversation.clear()
    st.session_state.pending_question = question


def new_conversation() -> None:
    st.session_state.turns = []
    st.session_state.conversation = Conversation()


@st.cache_data(ttl=60, show_spinner=False)
def llm_status(base_url: str, api_key: str | None) -> str:
    """Whether the OpenAI-compatible endpoint answers a model listing within a few seconds."""
    from openai import OpenAI, OpenAIError

    client = OpenAI(base_url=base_url, api_key=api_key or "not-needed", timeout=3.0, max_retries=0)
    try:
        return f"answers ({len(client.models.list().data)} models)"
    except OpenAIError as err:
        return f"does not answer ({type(err).__name__})"


def sidebar_filters(docs: Sequence[Document]) -> tuple[Filters | None, str]:
    """Documents, publisher and date range from the sidebar, and a label naming them ("" for none)."""
    side = st.sidebar
    side.subheader("Filters")
    titles = {d.doc_id: d.title for d in docs}
    chosen = side.multiselect("Documents", list(titles), format_func=titles.get, key="filter_docs")
    publishers = sorted({d.meta["publisher"] for d in docs if d.meta.get("publisher")})
    chosen_publishers = side.multiselect("Publisher", publishers, key="filter_publishers")
    left, right = side.columns(2)
    start = left.date_input("From", value=None, key="filter_from", format="YYYY-MM-DD")
    end = right.date_input("To", value=None, key="filter_to", format="YYYY-MM-DD")
    doc_ids = tuple(c for c in chosen if c in titles)
    dates = f"{start or '…'} – {end or '…'}" if start or end else ""
    parts = (", ".join(titles[d] for d in doc_ids), ", ".join(chosen_publishers), dates)
    label = "; ".join(p for p in parts if p)
    filters = Filters(
        doc_ids=doc_ids, publishers=tuple(chosen_publishers),
        date_from=start.isoformat() if start else None, date_to=end.isoformat() if end else None,
    )
    return (filters if label else None), label


def chat_sidebar(library: Library, docs: Sequence[Document]) -> ChatSettings:
    """Filters, top-k and answer mode (with whether the LLM endpoint answers), from the sidebar."""
    settings, side = library.settings, st.sidebar
    filters, label = sidebar_filters(docs)
    side.subheader("Answers")
    k = side.slider("Passages to retrieve (top-k)", 1, 20, min(settings.top_k, 20), key="top_k")
    configured = settings.llm_configured
    names = {"extractive": "Extractive (quoted sentences)", "llm": "LLM (generated, then checked)"}
    mode = side.radio("Answer mode", list(names), index=int(configured), format_func=names.get, key="mode",
                      disabled=not configured)
    if configured:
        status = llm_status(settings.llm_base_url, settings.llm_api_key)
        side.caption(f"LLM `{settings.llm_model}` at `{settings.llm_base_url}`: {status}")
    else:
        side.caption("LLM: not configured (set REPORTQA_LLM_BASE_URL and REPORTQA_LLM_MODEL)")
    side.button("New conversation", on_click=new_conversation)
    return ChatSettings(filters, label, k, mode)


def grouped_citations(answer: Answer) -> dict[int, list[Citation]]:
    """Citations by passage number: an answer may quote one passage several times; it gets one entry."""
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
            st.markdown("  \n".join(markdown_text(c.quote, [(0, len(c.quote))]) for c in cited))
            return
        st.markdown(markdown_text(chunk.text, [(c.start, c.end) for c in cited]))
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
            png = page_png(str(path), path.stat().st_mtime, page, quotes)
            st.image(png, caption=f"{doc.source}, page {page}")
        return
    if doc is not None and doc.fmt == "pdf":
        st.caption(markdown_text(f"{doc.path} is no longer there; showing the passages around the quote."))
    before, after = neighbours(library, chunk)
    with st.container(border=True):
        if before is not None:
            st.caption(markdown_text(before.text))
        st.markdown(markdown_text(chunk.text, [(c.start, c.end) for c in cited]))
        if after is not None:
            st.caption(markdown_text(after.text))


def scope_text(answer: Answer, filters: str) -> str:
    """What the question was restricted to: documents a name pointed at, the sidebar filters, or nothing."""
    parts = []
    if answer.scope:
        named = answer.scope.get("matched")
        label = str(answer.scope.get("label") or named)
        parts.append(label + (f' (from the name "{named}")' if named else ""))
    if filters:
        parts.append(f"filters: {filters}")
    return "; ".join(parts)


def render_answer(library: Library, turn: int, chat: ChatTurn, latest: bool) -> None:
    """The answer with linked [n] markers, flags, scope and sources panel; or the refusal and its scope."""
    answer = chat.answer
    if answer is None:
        st.error(markdown_text(chat.error))
        return
    scope = scope_text(answer, chat.filters)
    if not answer.answerable:
        st.warning(markdown_text(answer.text), icon=":material/block:")
        st.caption(f"**Scope:** {markdown_text(scope or 'the whole library')}")
        if scope:
            st.button("Clear scope and ask again", key=f"clear-{turn}", on_click=clear_scope,
                      args=(chat.question,))
        return
    st.markdown(answer_markdown(answer.text, turn))
    for flag in answer.flags:
        label = FLAG_LABELS.get(flag.kind, flag.kind)
        st.warning(f"**{label}:** {markdown_text(flag.detail)}", icon=":material/warning:")
    facts = [answer.mode, f"{len(answer.citations)} sources", f"{answer.timings_ms.get('total', 0):.0f} ms"]
    st.caption(" · ".join(facts) + (f" · **scope:** {markdown_text(scope)}" if scope else ""))
    if answer.reason:
        st.caption(markdown_text(answer.reason))
    with st.expander("Sources", expanded=latest, icon=":material/format_quote:"):
        for cited in grouped_citations(answer).values():
            render_source(library, turn, answer, cited)


def ask(library: Library, question: str, chat: ChatSettings) -> ChatTurn:
    """Answer ``question`` within this session's conversation, showing the text as it streams in."""
    with st.chat_message("user"):
        st.markdown(markdown_text(question))
    with st.chat_message("assistant"), st.spinner("Searching the library…"):
        shown, text = st.empty(), ""
        stream = answer_stream(question, library, k=chat.k, filters=chat.filters,
                               conversation=st.session_state.conversation, mode=chat.mode)
        try:
            for item in stream:
                if isinstance(item, Answer):
                    return ChatTurn(question, item, chat.label)
                text += item
                shown.markdown(markdown_text(text) + " ▌")
        except (LLMError, LibraryError) as err:
            return ChatTurn(question, None, chat.label, str(err))
    return ChatTurn(question, None, chat.label, "the answer stream ended without an answer")


def chat_page() -> None:
    library = current_library()
    docs = library_documents(library)
    chat = chat_sidebar(library, docs)
    sidebar_library(library, docs)
    state = st.session_state
    state.setdefault("turns", [])
    state.setdefault("conversation", Conversation())
    st.title("Ask the reports")
    if not docs:
        st.info("The library is empty. Add reports on the Library page first.")
        st.page_link(pages()["library"], label="Go to the library", icon=":material/library_books:")
    for i, turn in enumerate(state.turns):
        with st.chat_message("user"):
            st.markdown(markdown_text(turn.question))
        with st.chat_message("assistant"):
            render_answer(library, i, turn, latest=i == len(state.turns) - 1)
    question = st.chat_input("Ask a question about the reports in the library", disabled=not docs)
    question = question or state.pop("pending_question", None)
    if question:
        state.turns.append(ask(library, question, chat))
        st.rerun()


# --- library page -----------------------------------------------------------------------------------
def run_ingest(library: Library, files: list[tuple[str, bytes]]) -> JobSummary:
    """Ingest uploaded files with a progress bar and a line per finished file."""
    bar, lines, done = st.progress(0.0, text="Saving the files…"), st.empty(), []

    def progress(event: Progress) -> None:
        share = event.files_done / event.files_total if event.files_total else 1.0
        text = (f"{event.files_done}/{event.files_total} files · {event.chunks_embedded} chunks embedded · "
                f"{markdown_text(Path(event.current).name)}")
        bar.progress(share, text=text)
        if event.result is not None:
            done.append(result_markdown(event.result))
            lines.markdown("  \n".join(done))

    return ingest_uploads(library, files, progress)


def document_rows(docs: Sequence[Document]) -> list[dict[str, Any]]:
    """One table row per document (table cells are plain text, never Markdown or HTML)."""
    return [
        {"title": d.title, "publisher": d.meta.get("publisher", ""), "date": d.meta.get("date", ""),
         "company": d.meta.get("company", ""), "pages": d.pages, "chunks": d.chunks, "format": d.fmt,
         "file": d.source, "ingested": d.ingested_at, "id": d.doc_id}
        for d in docs
    ]


def delete_form(library: Library, docs: Sequence[Document]) -> None:
    titles = {d.doc_id: f"{d.title} ({d.source})" for d in docs}
    left, right = st.columns([4, 1], vertical_alignment="bottom")
    doc_id = left.selectbox("Document to delete", list(titles), format_func=titles.get, key="delete_doc")
    if right.button("Delete", icon=":material/delete:", key="delete"):
        doc = remove_document(library, doc_id)
        st.session_state.deleted = f"{doc.title} ({doc.source}, {doc.chunks} chunks)"
        st.rerun()


def library_page() -> None:
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


# --- evaluation page --------------------------------------------------------------------------------
def dataset_files(library_dir: Path) -> dict[str, Path]:
    """Bundled question sets and the ones uploaded into this library, by display name."""
    import eval as eval_package

    bundled = sorted((Path(eval_package.__file__).parent / "datasets").glob("*.jsonl"))
    uploaded = sorted((library_dir / DATASETS).glob("*.jsonl"))
    return {**{f"{p.name} (bundled)": p for p in bundled}, **{f"{p.name} (uploaded)": p for p in uploaded}}


def saved_runs(folder: Path) -> list[str]:
    """Names of the saved runs, newest first."""
    return sorted((p.parent.name for p in folder.glob("*/results.json")), reverse=True)


def run_evaluation(library: Library, dataset: Path, limit: int, use_doc: bool, baseline: bool) -> str | None:
    """Run the harness with a progress bar and save the run; its name, or None when it could not start."""
    from eval.datasets import load_dataset
    from eval.harness import EvalError, run_eval
    from eval.report import write_run

    bar = st.progress(0.0, text="Starting…")

    def progress(event: Any) -> None:
        share = min(event.done / event.total, 1.0) if event.total else 1.0
        bar.progress(share, text=f"{event.stage}: {event.done}/{event.total} {markdown_text(event.current)}")

    questions = load_dataset(dataset)
    chosen: Path | list = dataset if limit >= len(questions) else questions[:limit]
    try:
        run = run_eval(chosen, library, use_doc=use_doc, baseline=baseline, progress=progress)
    except EvalError as err:
        st.error(markdown_text(str(err)))
        return None
    base = Path(library.settings.library) / RUNS / f"{time.strftime('%Y%m%d-%H%M%S')}-{dataset.stem}"
    out, n = base, 1
    while out.exists():  # two runs within one second
        n += 1
        out = base.with_name(f"{base.name}-{n}")
    write_run(run, out)
    return out.name


def metric_rows(systems: dict[str, Any]) -> list[dict[str, str]]:
    """The summary table: one row per metric, one column per system (metrics nobody measured left out)."""
    from eval.report import TABLE_METRICS, fmt

    rows = []
    for key, label in TABLE_METRICS:
        values = {name: system["summary"].get(key) for name, system in systems.items()}
        if any(v is not None for v in values.values()):
            rows.append({"metric": label, **{name: fmt(v, key) for name, v in values.items()}})
    return rows


def hit_chart(systems: dict[str, Any]) -> Any:
    """hit@k for each k, by page and by evidence text, one column per system and kind (a DataFrame)."""
    import pandas as pd

    from eval.metrics import HIT_KS

    columns = {
        f"{name} ({kind})": [system["summary"].get(f"{prefix}hit@{k}") for k in HIT_KS]
        for name, system in systems.items()
        for kind, prefix in (("page", ""), ("text", "text_"))
    }
    return pd.DataFrame(columns, index=[f"hit@{k}" for k in HIT_KS]).dropna(axis=1, how="all")


def question_rows(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per question: result, answer, gold, citations, hit@5 (plain-text cells, never Markdown)."""
    out = []
    for row in rows:
        question, answer, scores = row["question"], row["answer"], row["scores"]
        passed = scores["contains_gold"] if question["answerable"] else scores["refused"]
        hit5 = scores.get("text_hit@5") if scores.get("text_hit@5") is not None else scores.get("hit@5")
        citations = "; ".join(f"[{c['n']}] {c['file']} p.{c['page']}" for c in answer["citations"])
        gold = " | ".join(question["answers"]) or "(not in the reports)"
        out.append({"id": row["id"], "result": "pass" if passed else "fail", "question": question["question"],
                    "answer": answer["answer"], "gold": gold, "citations": citations, "hit@5": hit5})
    return out


def show_run(results: dict[str, Any]) -> None:
    """The summary table, the hit@k chart and the per-question tables of one saved run."""
    systems, dataset = results["systems"], results["dataset"]
    about = f"{dataset['name']} · {dataset['questions']} questions · {results['started_at']}"
    st.caption(markdown_text(f"{about} · commit {results['git_commit'][:10]}"))
    st.dataframe(metric_rows(systems), hide_index=True, height="content")
    st.markdown("**hit@k**: share of questions with the evidence among the top k passages")
    st.bar_chart(hit_chart(systems), stack=False, sort=False, height=260)
    for name, system in systems.items():
        st.markdown(f"**Questions: {markdown_text(name)}**")
        st.dataframe(question_rows(system["rows"]), hide_index=True)


def show_comparison(folder: Path, runs: Sequence[str]) -> None:
    """Two saved runs side by side: metrics with Δ and verdict, then the questions that moved."""
    from eval.compare import compare_runs, load_run
    from eval.report import fmt

    left, right = st.columns(2)
    a = left.selectbox("Run A", runs, index=1, key="compare_a")
    b = right.selectbox("Run B", runs, index=0, key="compare_b")
    comparison = compare_runs(load_run(folder / a), load_run(folder / b), names=(a, b))
    st.dataframe([{"metric": m.metric, "A": fmt(m.before, m.metric), "B": fmt(m.after, m.metric),
                   "Δ": fmt(m.delta, m.metric), "B is": m.verdict} for m in comparison.metrics],
                 hide_index=True, height="content")
    moved = [
        {"id": q.id, "question": q.question, "better": ", ".join(m for m, _, _ in q.better),
         "worse": ", ".join(m for m, _, _ in q.worse), "answer A": q.answer_before,
         "answer B": q.answer_after}
        for q in comparison.questions
    ]
    st.caption(f"{len(moved)} questions changed")
    if moved:
        st.dataframe(moved, hide_index=True)


def evaluation_form(library: Library) -> None:
    """Pick a question set (bundled or uploaded), choose how to run it, run it."""
    from eval.datasets import DatasetError, load_dataset

    library_dir = Path(library.settings.library)
    upload = st.file_uploader("Add a question set (JSON Lines)", type=["jsonl"])
    if upload is not None:
        limit = library.settings.max_upload_mb
        save_uploads(library_dir / DATASETS, [(upload.name, upload.getvalue())], limit, allowed={".jsonl"})
    files = dataset_files(library_dir)
    if not files:
        return
    name = st.selectbox("Question set", list(files), key="dataset")
    try:
        questions = load_dataset(files[name])
    except DatasetError as err:
        st.error(markdown_text(str(err)))
        return
    answerable = sum(q.answerable for q in questions)
    st.caption(f"{len(questions)} questions ({answerable} answerable, {len(questions) - answerable} not)")
    left, mid, right = st.columns(3, vertical_alignment="bottom")
    limit = left.number_input("Questions to ask", 1, len(questions), len(questions), key="eval_limit")
    use_doc = mid.toggle("Ask each question within its document", True, key="eval_use_doc")
    baseline = right.toggle("Also run the plain llama-index baseline", False, key="eval_baseline")
    if st.button("Run evaluation", type="primary", key="run_eval"):
        finished = run_evaluation(library, files[name], int(limit), use_doc, baseline)
        if finished:
            st.session_state.run_shown = finished  # show the new run (its selectbox comes below)


def evaluation_page() -> None:
    from eval.compare import load_run

    library = current_library()
    sidebar_library(library, library_documents(library))
    st.title("Evaluation")
    evaluation_form(library)
    folder = Path(library.settings.library) / RUNS
    runs = saved_runs(folder)
    if not runs:
        st.info("No saved runs yet.")
        return
    st.header("Results")
    show_run(load_run(folder / st.selectbox("Saved run", runs, key="run_shown")))
    if len(runs) > 1:
        st.header("Compare two runs")
        show_comparison(folder, runs)


# --- navigation -------------------------------------------------------------------------------------
def pages() -> dict[str, Any]:
    return {
        "chat": st.Page(chat_page, title="Chat", icon=":material/forum:", url_path="chat", default=True),
        "library": st.Page(library_page, title="Library", icon=":material/library_books:",
                           url_path="library"),
        "evaluation": st.Page(evaluation_page, title="Evaluation", icon=":material/analytics:",
                              url_path="evaluation"),
    }


def main() -> None:
    st.set_page_config(page_title="Report QA", page_icon=":material/description:", layout="wide")
    known = pages()
    page = st.navigation(list(known.values()))
    wanted = known.get(st.query_params.get("page", ""))
    if wanted is not None and wanted.url_path != page.url_path:
        st.switch_page(wanted)  # ?page=library deep links (and lets AppTest open a page)
    page.run()


if __name__ == "__main__":
    main()
