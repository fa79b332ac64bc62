"""The ingestion job: files in, complete documents in the library out — idempotent and resumable.

Per file, in order: hash the bytes (the document id) and skip what is already complete; load, clean,
chunk and describe it; embed; write its chunks; then write its record, which is what makes it visible.
A job killed at any point leaves at most invisible leftovers that the next run overwrites or removes.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import stat
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from ingest.chunking import chunk_pages
from ingest.clean import clean_pages
from ingest.loaders import SUPPORTED, BadFile, load
from ingest.metadata import extract_metadata
from ingest.tables import extract_tables
from rag.embeddings import sample_rows
from rag.library import Library
from rag.tables import Table
from rag.types import Chunk, Document

log = logging.getLogger(__name__)

NEW, UNCHANGED, REPLACED, FAILED, DELETED = "new", "unchanged", "replaced", "failed", "deleted"
READING, EMBEDDING, INDEXING = "reading", "embedding", "indexing"  # stages of a Progress event
SKIPPED_SHOWN = 5  # skipped files named in the summary line
GROUP_CHUNKS = 512  # files read are embedded together until they hold this many chunks
DEMO_REPORT = Path(__file__).with_name("demo") / "glsc_2024-02_computer_sora_gemini.md"


@dataclass(frozen=True)
class FileResult:
    """What happened to one file; ``reason`` is a one-line explanation for failures."""

    path: str
    status: str
    doc_id: str | None = None
    pages: int = 0
    chunks: int = 0
    reason: str = ""
    seconds: float = 0.0

    def line(self) -> str:
        if self.status == FAILED:
            return f"failed     {self.path}: {self.reason}"
        return f"{self.status:<10} {self.path} ({self.pages} pages, {self.chunks} chunks)"


@dataclass(frozen=True)
class JobSummary:
    """Every file's result; ``skipped`` lists the files of the folders walked whose type is not read."""

    results: tuple[FileResult, ...]
    seconds: float
    embedded: int = 0
    skipped: tuple[str, ...] = ()

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def ok(self) -> bool:
        return self.count(FAILED) == 0

    @property
    def pages(self) -> int:
        return sum(r.pages for r in self.results if r.status != DELETED)

    @property
    def chunks(self) -> int:
        return sum(r.chunks for r in self.results if r.status != DELETED)

    def line(self) -> str:
        counts = ", ".join(f"{self.count(s)} {s}" for s in (NEW, UNCHANGED, REPLACED, FAILED, DELETED))
        rate = self.pages / self.seconds if self.seconds else 0.0
        line = (
            f"{len(self.results)} files: {counts}; {self.pages} pages, {self.chunks} chunks "
            f"({self.embedded} embedded) in {self.seconds:.1f} s ({rate:.1f} pages/s)"
        )
        if self.skipped:
            n, shown = len(self.skipped), ", ".join(self.skipped[:SKIPPED_SHOWN])
            more = f" and {n - SKIPPED_SHOWN} more" if n > SKIPPED_SHOWN else ""
            line += f"; skipped {n} unsupported file{'s' if n > 1 else ''}: {shown}{more}"
        return line


@dataclass(frozen=True)
class Progress:
    """Reported when a file is started, once it is chunked, after each embedded batch, after each file and
    when the search index is built; the CLI and the app render it.

    ``chunks_embedded`` counts the whole job; ``pages``, ``file_chunks`` and ``file_chunks_done`` the
    current file, once it is read.
    """

    files_done: int
    files_total: int
    current: str
    chunks_embedded: int = 0
    result: FileResult | None = None
    stage: str = ""  # READING | EMBEDDING | INDEXING; "" for a file's result
    pages: int = 0
    file_chunks: int = 0
    file_chunks_done: int = 0


@dataclass
class _Prepared:
    doc: Document
    chunks: list[Chunk] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)


@dataclass(frozen=True)
class Found:
    """What :func:`find` found: files to ingest, failures, and unsupported files of walked folders (paths
    relative to the folder given)."""

    files: list[Path]
    failed: list[FileResult]
    skipped: list[str]


def discover(paths: Iterable[Path | str]) -> tuple[list[Path], list[FileResult]]:
    """Supported files under ``paths`` (recursive, sorted), plus failures for paths that cannot be used."""
    found = find(paths)
    return found.files, found.failed


def find(paths: Iterable[Path | str]) -> Found:
    """Supported files under ``paths`` (recursive, sorted), failures for paths that cannot be used, and
    the other files of the folders walked (hidden files aside); a file named directly must be supported."""
    found: dict[str, Path] = {}
    failed: list[FileResult] = []
    skipped: list[str] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            # os.walk does not follow symlinked folders, so a symlink loop cannot trap the walk.
            for folder, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(n for n in files if not n.startswith(".")):
                    candidate = Path(folder) / name
                    if candidate.suffix.lower() in SUPPORTED:
                        _add(candidate, found, failed)
                    else:
                        skipped.append(str(candidate.relative_to(path)))
        elif path.suffix.lower() in SUPPORTED or not path.exists():
            _add(path, found, failed)
        else:
            failed.append(FileResult(str(path), FAILED, reason=_unsupported(path)))
    return Found([found[k] for k in sorted(found)], failed, skipped)


def _add(path: Path, found: dict[str, Path], failed: list[FileResult]) -> None:
    reason = _unusable(path)
    if reason:
        failed.append(FileResult(str(path), FAILED, reason=reason))
    else:
        found.setdefault(str(path.resolve()), path)


def _unusable(path: Path) -> str:
    """Why ``path`` cannot be read as a file ("" if it can): a symlink loop, a dangling link, a pipe (whose
    read would block the job forever), a socket or a device."""
    try:
        mode = path.stat().st_mode
    except OSError as err:
        if err.errno == errno.ELOOP:
            return "symlink loop; fix or remove the link"
        if path.is_symlink():
            return "broken symlink (its target is missing); fix or remove the link"
        return "no such file or folder; check the path"
    if not stat.S_ISREG(mode):
        return "not a regular file (a pipe, socket or device); save the report as a regular file"
    return ""


def _unsupported(path: Path) -> str:
    kinds = ", ".join(sorted(SUPPORTED))
    return f"unsupported file type {path.suffix or '(none)'!r}; convert it to one of {kinds}"


def file_doc_id(data: bytes) -> str:
    """Document id: content hash of the file, so renames keep and edits change it."""
    return hashlib.sha256(data).hexdigest()[:20]


def ingest_paths(
    library: Library,
    paths: Sequence[Path | str],
    *,
    prune: bool = False,
    progress: Callable[[Progress], None] | None = None,
    build_index: bool = True,
) -> JobSummary:
    """Bring the library up to date with ``paths``; never raises for a bad file. When anything changed,
    the search index is built at the end (``build_index``)."""
    started = time.perf_counter()
    found = find(paths)
    files, results = found.files, found.failed
    emit = progress or (lambda event: None)
    for result in results:
        emit(Progress(0, len(files), result.path, 0, result))
    # Checks and deletions need no model: it is loaded (seconds of imports) only when a file is embedded,
    # so a re-run over unchanged files costs a process start, Chroma reads and hashing.
    store = library.store
    version = store.version()
    for doc_id in store.unfinished():  # what a killed job left behind
        store.delete_document(doc_id)
    store.write_manifest()  # one change behind if a job was killed right after a Chroma write
    known = store.documents()
    group = _Group(library, len(files), emit)
    for path in files:
        emit(Progress(group.done, len(files), str(path), group.embedded, stage=READING))
        read = _read_file(library, path, [*known, *group.docs()])
        if isinstance(read, FileResult):
            group.done += 1
            results.append(read)
            emit(Progress(group.done, len(files), str(path), group.embedded, read))
            continue
        group.add(read)
        if group.chunks() >= GROUP_CHUNKS:
            results.extend(group.write())
            known = store.documents()
    results.extend(group.write())
    order = {str(p): i for i, p in enumerate(files)}  # the files' results in the order they were given
    results.sort(key=lambda r: order.get(r.path, -1))
    embedded = group.embedded
    if prune:
        results.extend(prune_missing(library))
    if build_index and store.version() != version:
        emit(Progress(len(files), len(files), "", embedded, stage=INDEXING))
        _build_index(library)
    return JobSummary(tuple(results), time.perf_counter() - started, embedded, tuple(found.skipped))


def _build_index(library: Library) -> None:
    """Build the search index of the changed library now, so that the first question does not wait for it;
    on failure the documents are in and the first question builds it."""
    from rag.index import open_index
    from rag.store import LibraryError

    try:
        open_index(library.store, library.settings.library)
    except (OSError, LibraryError) as err:
        log.warning("search index not built (%s); the first question builds it", err)


def _read_file(library: Library, path: Path, known: list[Document]) -> FileResult | _Read:
    """The file's result when there is nothing to embed (unchanged, or it cannot be read), else the file
    loaded, chunked and described, waiting for its embeddings."""
    started = time.perf_counter()
    key = str(path.resolve())
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        gone = "the file disappeared during the job; check where it went"
        return FileResult(str(path), FAILED, reason=gone)
    except OSError as err:
        return FileResult(str(path), FAILED, reason=f"cannot read file ({err.strerror}); check permissions")
    doc_id = file_doc_id(data)
    same_path = [d for d in known if d.path == key and d.doc_id != doc_id]
    existing = next((d for d in known if d.doc_id == doc_id), None)
    if existing is not None:
        _delete_all(library, same_path)  # finishes a replacement a killed job left half-done
        return FileResult(str(path), UNCHANGED, doc_id, existing.pages, existing.chunks)
    try:
        prepared = prepare(path, doc_id, library.settings.chunk_size, ocr=library.settings.ocr)
    except BadFile as err:
        return FileResult(str(path), FAILED, doc_id, reason=str(err))
    except Exception as err:  # one bad file must not end the job
        log.exception("unexpected error reading %s", path)
        return FileResult(str(path), FAILED, doc_id, reason=f"could not be read ({type(err).__name__}: {err})")
    return _Read(path, prepared, same_path, started)


@dataclass
class _Read:
    path: Path
    prepared: _Prepared
    same_path: list[Document]  # earlier versions of the file, deleted once this one is written
    started: float


class _Group:
    """Files read and waiting to be embedded together: the chunks of several short reports sorted by length
    fill whole batches of like length, where one report at a time leaves short, padded ones. Progress names
    the group's first file and counts the group's chunks; the group is written together (:func:`_write`) and
    each file reported in turn."""

    def __init__(self, library: Library, total: int, emit: Callable[[Progress], None]) -> None:
        self.library, self.total, self.emit = library, total, emit
        self.reads: list[_Read] = []
        self.done = 0  # files finished
        self.embedded = 0  # chunks embedded in the job

    def add(self, read: _Read) -> None:
        self.reads.append(read)

    def docs(self) -> list[Document]:
        return [r.prepared.doc for r in self.reads]

    def chunks(self) -> int:
        return sum(len(r.prepared.chunks) for r in self.reads)

    def write(self) -> list[FileResult]:
        reads, self.reads = self.reads, []
        if not reads:
            return []
        chunks = [c for r in reads for c in r.prepared.chunks]
        shown = str(reads[0].path) + (f" + {len(reads) - 1} more" if len(reads) > 1 else "")
        embedding = Progress(self.done, self.total, shown, self.embedded, stage=EMBEDDING,
                             pages=sum(r.prepared.doc.pages for r in reads), file_chunks=len(chunks))
        self.emit(embedding)
        vectors = _embed(self.library, chunks, lambda n: self.emit(
            replace(embedding, chunks_embedded=self.embedded + n, file_chunks_done=n)))
        self.embedded += len(chunks)
        _write(self.library, [r.prepared for r in reads], vectors)
        results = []
        for read in reads:
            _delete_all(self.library, read.same_path)
            doc = read.prepared.doc
            result = FileResult(str(read.path), REPLACED if read.same_path else NEW, doc.doc_id, doc.pages,
                                doc.chunks, seconds=time.perf_counter() - read.started)
            self.done += 1
            results.append(result)
            self.emit(Progress(self.done, self.total, str(read.path), self.embedded, result))
        return results


def prepare(path: Path, doc_id: str, chunk_size: int, ocr: bool = True) -> _Prepared:
    """Load (OCR'ing pages without a usable text layer if ``ocr``), clean, chunk and describe one file."""
    loaded = load(path, ocr=ocr)
    for finding in loaded.quality:
        log.warning("%s: %s", path.name, finding)
    pages = clean_pages(loaded.pages, loaded.fmt)
    meta = extract_metadata(pages, path.name, loaded.info)
    pieces = chunk_pages(pages, chunk_size, markdown=loaded.fmt in ("md", "html"))
    if not pieces:
        raise BadFile("no text found after cleaning; check that the file is a report with a text layer")
    chunks = [
        Chunk(
            chunk_id=f"{doc_id}:{i:05d}", doc_id=doc_id, ordinal=i, text=p.text, source=path.name,
            page=p.page, page_end=p.page_end, section=p.section, kind=p.kind, page_starts=p.page_starts,
            meta=meta, ocr=any(p.page <= n <= p.page_end for n in loaded.ocr_pages),
        )
        for i, p in enumerate(pieces)
    ]
    doc = Document(
        doc_id=doc_id, source=path.name, path=str(path.resolve()), pages=len(pages), chunks=len(chunks),
        ingested_at=datetime.now(UTC).isoformat(timespec="seconds"), fmt=loaded.fmt, meta=meta,
        ocr_pages=loaded.ocr_pages,
    )
    return _Prepared(doc, chunks, extract_tables(pages, doc_id, path.name, path if loaded.fmt == "pdf" else None))


def embedding_text(chunk: Chunk) -> str:
    """What the model embeds: a short header (title, section) in front of the chunk text."""
    header = " | ".join(part for part in (chunk.title, chunk.section) if part)
    return f"{header}\n{chunk.text}"


def _embed(library: Library, chunks: list[Chunk], batch_done: Callable[[int], None]) -> dict[str, np.ndarray]:
    """Each chunk's vector, embedded in batches of texts of like length in tokens (they pad less). Of a
    document the model does not read (:meth:`Embedder.reads`: a Chinese report under an English-only model)
    only what it reads is embedded: retrieval leaves such vectors out, and [UNK] tokens cost the model as
    much as words."""
    embedder = library.embedder
    texts = {c.chunk_id: embedding_text(c) for c in chunks}
    by_doc: dict[str, list[Chunk]] = {}
    for chunk in chunks:
        by_doc.setdefault(chunk.doc_id, []).append(chunk)
    unread = [c.chunk_id for doc in by_doc.values()
              if not embedder.reads([doc[i].text for i in sample_rows(len(doc))]) for c in doc]
    texts.update(zip(unread, embedder.readable_part([texts[cid] for cid in unread]), strict=True))
    tokens = dict(zip(texts, embedder.token_counts(list(texts.values())), strict=True))
    by_length = sorted(texts, key=lambda cid: tokens[cid])
    vectors: dict[str, np.ndarray] = {}
    for start in range(0, len(by_length), embedder.batch_size):
        part = by_length[start : start + embedder.batch_size]
        vectors.update(zip(part, embedder.encode([texts[cid] for cid in part]), strict=True))
        batch_done(start + len(part))
    return vectors


def _write(library: Library, prepared: list[_Prepared], vectors: dict[str, np.ndarray]) -> None:
    """A group of files: each marked unfinished, then their chunks with their vectors and their tables, then
    their records, in as few Chroma writes as the store allows (a write of a few rows costs about as much as
    one of a thousand). A file without its record is unfinished and cleaned up by the next job."""
    store = library.store
    for one in prepared:
        store.begin_document(one.doc.doc_id)
        store.delete_chunks(one.doc.doc_id)  # leftovers of a killed run
    chunks = [c for one in prepared for c in one.chunks]
    store.add_chunks(chunks, np.stack([vectors[c.chunk_id] for c in chunks]))
    store.add_tables([t for one in prepared for t in one.tables])
    store.put_documents([one.doc for one in prepared])


def _delete_all(library: Library, docs: Iterable[Document]) -> None:
    for doc in docs:
        library.store.delete_document(doc.doc_id)


def delete_document(library: Library, doc_ref: str) -> Document:
    """Delete one document by id, unique id prefix or file name; raises LookupError if unknown."""
    doc = library.store.find(doc_ref)
    library.store.delete_document(doc.doc_id)
    return doc


def prune_missing(library: Library) -> list[FileResult]:
    """Delete documents whose source files no longer exist."""
    gone = [d for d in library.store.documents() if not Path(d.path).exists()]
    _delete_all(library, gone)
    return [FileResult(d.path, DELETED, d.doc_id, d.pages, d.chunks) for d in gone]
