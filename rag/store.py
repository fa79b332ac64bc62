"""The Chroma adapter: the library's source of truth (chunks with vectors, one record per document, and
one record per table recovered from a document's pages).

chromadb is used directly rather than through llama-index's ChromaVectorStore because the library
needs per-document replacement, paginated reads for the search index and a model check on open.
A document is complete only once its record exists; its chunks are written before it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from rag.settings import Settings
from rag.tables import Table, table_from_dict
from rag.types import Chunk, Document, Kind

_PAGE = 2000  # rows per Chroma read/write round trip
WRITING, COMPLETE, DELETING = "writing", "complete", "deleting"
# A record in the documents collection whose value changes after every change readers can see: reading it
# (0.7 ms) tells whether the document list (15 ms for 140 records) must be read again.
_VERSION_ID, _VERSION = "__version__", "version"


class LibraryError(Exception):
    """A library that cannot be used as asked (wrong model, unreachable server)."""


class ModelMismatchError(LibraryError):
    pass


class NoLibraryError(LibraryError):
    """The settings name a library that does not exist (only ``reportqa ingest`` creates one)."""


class ConcurrentWriteError(LibraryError):
    """Embedded Chroma's vector index in this process is behind another process's writes."""


def make_client(settings: Settings):  # noqa: ANN201 - a chromadb client
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        return chromadb.HttpClient(
            host=url.hostname or "127.0.0.1", port=url.port or 8000, ssl=url.scheme == "https",
            settings=chroma_settings,
        )
    path = Path(settings.library) / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


def require_library(settings: Settings) -> None:
    """Raise NoLibraryError unless the library exists: a Chroma folder in the library folder (checked
    without importing chromadb), or the collection on the Chroma server."""
    if settings.chroma_url:
        from chromadb.errors import NotFoundError

        try:
            make_client(settings).get_collection(settings.collection)
            return
        except NotFoundError:
            raise NoLibraryError(
                f"no library {settings.collection!r} on the Chroma server {settings.chroma_url}; create one "
                f"with `reportqa ingest PATH --chroma-url {settings.chroma_url}`"
            ) from None
    if not (Path(settings.library) / "chroma" / "chroma.sqlite3").is_file():
        where = settings.library
        raise NoLibraryError(f"no library at {where}; create one with `reportqa ingest PATH --library {where}`")


def manifest_path(settings: Settings) -> Path:
    return Path(settings.library) / f"manifest-{settings.collection}.json"


def read_manifest(settings: Settings) -> list[Document] | None:
    """The complete documents as the last writer of an embedded library listed them beside it, read
    without importing chromadb (1 s); None for a Chroma server (other machines write there) or when
    the file is absent or unreadable. A writer killed between its Chroma write and this file leaves it
    one change behind until the next ingest."""
    if settings.chroma_url:
        return None
    try:
        listed = json.loads(manifest_path(settings).read_text(encoding="utf-8"))["documents"]
        return [Document(**{**d, "ocr_pages": tuple(d["ocr_pages"])}) for d in listed]
    except (OSError, ValueError, KeyError, TypeError):
        return None


class Store:
    """Chunks and document records of one library, written with our own vectors only."""

    def __init__(self, settings: Settings, model: str, client: Any = None, *, reset: bool = False) -> None:
        """Open (creating if absent) the library's collections; ``reset=True`` empties them first, so a
        library built with another model can be re-indexed with this one."""
        self.settings = settings
        self.model = model
        self.client = client or make_client(settings)
        if reset:
            self._drop()
        self._open()

    def _open(self) -> None:
        name = self.settings.collection
        meta = {"embed_model": self.model, "embed_dim": 0, "hnsw:space": "cosine"}
        # embedding_function=None: Chroma must never embed (or download a model) on our behalf.
        self.chunks = self.client.get_or_create_collection(name, metadata=meta, embedding_function=None)
        self.docs = self.client.get_or_create_collection(
            f"{name}_documents", metadata={"role": "documents"}, embedding_function=None
        )
        # Tables are records of their own kind: the table as JSON, where it stands as metadata, no vector.
        self.tables_collection = self.client.get_or_create_collection(
            f"{name}_tables", metadata={"role": "tables"}, embedding_function=None
        )
        self._catalog: tuple[str, tuple[Document, ...]] | None = None  # (version, complete documents)
        self._tables: dict[str, tuple[str, tuple[Table, ...]]] = {}  # doc_id -> (version, its tables)
        self._pinned = threading.local()  # .version: this thread's library version inside one_version()
        self._check_model()

    def _check_model(self, dim: int = 0) -> None:
        """The library was built with the configured model (and, once vectors are given, its dimension)."""
        meta = self.chunks.metadata or {}
        built_with, built_dim = meta.get("embed_model"), int(meta.get("embed_dim") or 0)
        if built_with == self.model and dim and not built_dim:  # the first vectors record the dimension
            self.chunks.modify(metadata={"embed_model": self.model, "embed_dim": dim})
            built_dim = dim
        if built_with != self.model or (dim and built_dim != dim):
            raise ModelMismatchError(
                f"library {self.settings.library} was built with embedding model {built_with!r} "
                f"({built_dim} dims) but {self.model!r} ({dim or '?'} dims) is configured; set "
                f"REPORTQA_EMBED_MODEL={built_with} or re-index with `reportqa ingest PATH... --rebuild`"
            )

    def reset(self) -> None:
        """Empty the library (for ``--rebuild``): drop both collections, create them again for this
        store's model and hold the new ones (a handle to a dropped collection fails on its next use)."""
        self._drop()
        self._open()

    def _drop(self) -> None:
        from chromadb.errors import NotFoundError

        manifest_path(self.settings).unlink(missing_ok=True)
        base = self.settings.collection
        for name in (base, f"{base}_documents", f"{base}_tables"):
            with contextlib.suppress(NotFoundError):  # a library that was never written: nothing to drop
                self.client.delete_collection(name)

    # documents ---------------------------------------------------------------------------------
    # A record's status is "writing" while its chunks are written, "complete" once they all are and
    # "deleting" while they are removed; only complete documents are visible.
    # Writers change the version after the change it announces, readers read it before the list: a list
    # cached under a version is never older than that version.
    def documents(self) -> list[Document]:
        """Complete documents by file name; read again only when the library version has changed."""
        version = self.version()
        catalog = self._catalog
        if version and catalog is not None and catalog[0] == version:
            return list(catalog[1])
        got = self.docs.get(where={"status": COMPLETE}, include=["metadatas"])
        docs = sorted((_document(m) for m in got["metadatas"]), key=lambda d: d.source)
        self._catalog = (version, tuple(docs)) if version else None
        return docs

    def version(self) -> str:
        """The library version ("" for a library no writer has changed since it had one)."""
        pinned = getattr(self._pinned, "version", None)
        if pinned is not None:
            return pinned
        got = self.docs.get(ids=[_VERSION_ID], include=["metadatas"])
        return str(got["metadatas"][0].get(_VERSION, "")) if got["ids"] else ""

    @contextlib.contextmanager
    def one_version(self) -> Iterator[None]:
        """Within the block this thread reads the library version once: one answer pays one Chroma read
        for it, not six (1.7 ms each at 100k chunks), and works from one state of the library. The cached
        document list and tables stay keyed by version, so a change made meanwhile is seen after the block."""
        if getattr(self._pinned, "version", None) is not None:  # nested: the outer block's version holds
            yield
            return
        self._pinned.version = self.version()
        try:
            yield
        finally:
            del self._pinned.version

    def _new_version(self) -> None:
        meta = {"doc_id": _VERSION_ID, "status": _VERSION, _VERSION: uuid.uuid4().hex[:16]}
        self.docs.upsert(ids=[_VERSION_ID], embeddings=[[0.0]], metadatas=[meta])
        self.write_manifest()

    def write_manifest(self) -> None:
        """List the complete documents beside an embedded library (see :func:`read_manifest`)."""
        if self.settings.chroma_url:
            return
        path = manifest_path(self.settings)
        listed = {"version": self.version(), "documents": [asdict(d) for d in self.documents()]}
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        try:
            tmp.write_text(json.dumps(listed, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, path)
        except OSError:  # a read-only folder: listings open Chroma instead
            tmp.unlink(missing_ok=True)

    def document(self, doc_id: str) -> Document | None:
        got = self.docs.get(ids=[doc_id], include=["metadatas"])
        if got["ids"] and got["metadatas"][0].get("status") == COMPLETE:
            return _document(got["metadatas"][0])
        return None

    def find(self, ref: str) -> Document:
        """The one document whose id, unique id prefix or file name is ``ref``; LookupError otherwise."""
        docs = self.documents()
        matches = [d for d in docs if ref in (d.doc_id, d.source)] or [d for d in docs if d.doc_id.startswith(ref)]
        if len(matches) != 1:
            what = "no document" if not matches else f"{len(matches)} documents"
            raise LookupError(f"{what} matches {ref!r}; see `reportqa library` for ids")
        return matches[0]

    def begin_document(self, doc_id: str) -> None:
        """Record that chunks of ``doc_id`` are about to be written (so a killed job can clean up)."""
        self.docs.upsert(ids=[doc_id], embeddings=[[0.0]], metadatas=[{"doc_id": doc_id, "status": WRITING}])

    def put_document(self, doc: Document) -> None:
        """Mark a document complete: called only after all its chunks are written."""
        self.put_documents([doc])

    def put_documents(self, docs: Sequence[Document]) -> None:
        """Mark documents complete in one write (one new library version)."""
        if not docs:
            return
        self.docs.upsert(ids=[d.doc_id for d in docs], embeddings=[[0.0]] * len(docs),
                         metadatas=[_document_meta(d) for d in docs])
        self._new_version()

    def delete_document(self, doc_id: str) -> None:
        """Hide the document first, then remove its chunks, then its record."""
        self.docs.upsert(ids=[doc_id], embeddings=[[0.0]], metadatas=[{"doc_id": doc_id, "status": DELETING}])
        self._new_version()
        self.delete_chunks(doc_id)
        self.docs.delete(ids=[doc_id])

    def unfinished(self) -> list[str]:
        """Ids of documents a killed job left half-written or half-deleted."""
        got = self.docs.get(where={"status": {"$in": [WRITING, DELETING]}}, include=[])
        return sorted(got["ids"])

    def fingerprint(self) -> str:
        """Changes whenever a document is added, replaced, deleted or re-indexed: the library version, or
        for a library without one a hash of its complete documents."""
        version = self.version()
        if version:
            return version
        got = self.docs.get(where={"status": COMPLETE}, include=["metadatas"])
        keys = sorted(f"{m['doc_id']}@{m.get('ingested_at', '')}" for m in got["metadatas"])
        return hashlib.sha256("\n".join(keys).encode()).hexdigest()[:16]

    # chunks ------------------------------------------------------------------------------------
    def add_chunks(self, chunks: list[Chunk], vectors: np.ndarray) -> None:
        self._check_model(int(vectors.shape[1]))
        for i in range(0, len(chunks), _PAGE):
            part = chunks[i : i + _PAGE]
            self.chunks.upsert(
                ids=[c.chunk_id for c in part],
                embeddings=vectors[i : i + _PAGE],
                documents=[c.text for c in part],
                metadatas=[chunk_meta(c) for c in part],
            )

    def delete_chunks(self, doc_id: str) -> None:
        """Remove a document's chunks and its tables."""
        self.chunks.delete(where={"doc_id": doc_id})
        self.tables_collection.delete(where={"doc_id": doc_id})

    # tables ------------------------------------------------------------------------------------
    def add_tables(self, tables: list[Table]) -> None:
        """Store tables, of one document or several (written with their documents' chunks, before their
        records are complete); a table's id is its document's id and its place among that document's."""
        placed: Counter[str] = Counter()
        ids = []
        for table in tables:
            ids.append(f"{table.doc_id}:t{placed[table.doc_id]:04d}")
            placed[table.doc_id] += 1
        for i in range(0, len(tables), _PAGE):
            part = tables[i : i + _PAGE]
            self.tables_collection.upsert(
                ids=ids[i : i + _PAGE],
                embeddings=[[0.0]] * len(part),
                documents=[json.dumps(t.to_dict(), ensure_ascii=False) for t in part],
                metadatas=[{"doc_id": t.doc_id, "page": t.page, "statement": t.statement, "title": t.title,
                            "rows": len(t.rows)} for t in part],
            )

    def tables(self, doc_id: str) -> tuple[Table, ...]:
        """The tables of one document, in page order; read again only when the library version changed."""
        version = self.version()
        cached = self._tables.get(doc_id)
        if version and cached is not None and cached[0] == version:
            return cached[1]
        got = self.tables_collection.get(where={"doc_id": doc_id}, include=["documents"])
        found = tuple(sorted((table_from_dict(json.loads(text)) for text in got["documents"]),
                             key=lambda t: t.page))
        if version:
            self._tables[doc_id] = (version, found)
        return found

    def chunk_count(self) -> int:
        return self.chunks.count()

    def iter_chunks(self, where: dict | None = None) -> Iterator[Chunk]:
        offset = 0
        while True:
            got = self.chunks.get(
                where=where, limit=_PAGE, offset=offset, include=["documents", "metadatas"]
            )
            for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"]):
                yield chunk_from(cid, text, meta)
            if len(got["ids"]) < _PAGE:
                return
            offset += _PAGE

    def iter_chunks_with_vectors(self) -> Iterator[tuple[Chunk, np.ndarray]]:
        """Every chunk with its stored vector; ConcurrentWriteError while embedded Chroma's vector index in
        this process is behind another process's writes."""
        offset = 0
        while True:
            got = _retry_concurrent_write(lambda: self.chunks.get(
                limit=_PAGE, offset=offset, include=["documents", "metadatas", "embeddings"]))  # noqa: B023 - called at once
            for cid, text, meta, vector in zip(got["ids"], got["documents"], got["metadatas"], got["embeddings"]):
                yield chunk_from(cid, text, meta), np.asarray(vector, dtype=np.float32)
            if len(got["ids"]) < _PAGE:
                return
            offset += _PAGE

    def chunks_on(self, pages: Iterable[tuple[str, int]]) -> dict[tuple[str, int], list[Chunk]]:
        """The chunks covering each ``(doc_id, page)`` in reading order, one read per page number."""
        wanted = set(pages)
        found: dict[tuple[str, int], list[Chunk]] = {page: [] for page in wanted}
        for number in sorted({p for _, p in wanted}):
            ids = sorted({d for d, p in wanted if p == number})
            where = {"$and": [{"doc_id": {"$in": ids}}, {"page": {"$lte": number}}, {"page_end": {"$gte": number}}]}
            for chunk in self.iter_chunks(where):
                found[(chunk.doc_id, number)].append(chunk)
        return {page: sorted(chunks, key=lambda c: c.ordinal) for page, chunks in found.items()}

    def chunks_at(self, doc_id: str, ordinals: Iterable[int]) -> list[Chunk]:
        """The chunks of ``doc_id`` at ``ordinals`` (e.g. a passage's neighbours), in the order asked;
        ordinals the document does not have are left out."""
        wanted = list(dict.fromkeys(int(o) for o in ordinals))
        if not wanted:
            return []
        where = {"$and": [{"doc_id": doc_id}, {"ordinal": {"$in": wanted}}]}
        found = {c.ordinal: c for c in self.iter_chunks(where)}
        return [found[o] for o in wanted if o in found]

    def get_chunks(self, chunk_ids: list[str]) -> list[Chunk]:
        if not chunk_ids:
            return []
        got = self.chunks.get(ids=chunk_ids, include=["documents", "metadatas"])
        by_id = {cid: chunk_from(cid, t, m) for cid, t, m in zip(got["ids"], got["documents"], got["metadatas"])}
        return [by_id[c] for c in chunk_ids if c in by_id]


def _retry_concurrent_write(call: Callable[[], Any], attempts: int = 3) -> Any:
    """Run a read of vectors, retrying while another process's write is half-visible to embedded Chroma.

    Embedded Chroma is not process-safe: while an ingest in another process writes, this process's
    in-memory vector index can answer "Error finding id" until it is reopened (a Chroma server has no
    such limit). Raises ConcurrentWriteError when retrying does not help.
    """
    from chromadb.errors import InternalError

    for attempt in range(attempts):
        try:
            return call()
        except InternalError as err:
            if attempt == attempts - 1:
                raise ConcurrentWriteError(
                    f"the vector index is behind a concurrent ingest ({err}); use REPORTQA_CHROMA_URL "
                    "(a Chroma server) to ask while ingesting"
                ) from err
            time.sleep(0.1 * 2**attempt)
    raise AssertionError("unreachable")


# (de)serialisation: Chroma metadata holds only str/int/float/bool -----------------------------
_CHUNK_FIELDS = ("doc_id", "ordinal", "source", "page", "page_end", "section")


def chunk_meta(chunk: Chunk) -> dict[str, Any]:
    meta: dict[str, Any] = {name: getattr(chunk, name) for name in _CHUNK_FIELDS}
    meta["kind"] = chunk.kind.value
    meta["ocr"] = chunk.ocr
    meta["page_starts"] = json.dumps(chunk.page_starts)
    meta.update({f"m_{k}": v for k, v in chunk.meta.items() if v})
    return meta


def chunk_from(chunk_id: str, text: str, meta: dict[str, Any]) -> Chunk:
    return Chunk(
        chunk_id=chunk_id,
        doc_id=meta["doc_id"],
        ordinal=int(meta["ordinal"]),
        text=text,
        source=meta["source"],
        page=int(meta["page"]),
        page_end=int(meta.get("page_end", meta["page"])),
        section=meta.get("section", ""),
        kind=Kind(meta.get("kind", "body")),
        ocr=bool(meta.get("ocr", False)),
        page_starts=tuple(tuple(p) for p in json.loads(meta.get("page_starts", "[]"))),
        meta={k[2:]: str(v) for k, v in meta.items() if k.startswith("m_")},
    )


def _document_meta(doc: Document) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "doc_id": doc.doc_id, "status": COMPLETE, "source": doc.source, "path": doc.path, "pages": doc.pages,
        "chunks": doc.chunks, "ingested_at": doc.ingested_at, "fmt": doc.fmt,
        "ocr_pages": json.dumps(list(doc.ocr_pages)),
    }
    meta.update({f"m_{k}": v for k, v in doc.meta.items() if v})
    return meta


def _document(meta: dict[str, Any]) -> Document:
    return Document(
        doc_id=meta["doc_id"], source=meta["source"], path=meta["path"], pages=int(meta["pages"]),
        chunks=int(meta["chunks"]), ingested_at=meta["ingested_at"], fmt=meta["fmt"],
        meta={k[2:]: str(v) for k, v in meta.items() if k.startswith("m_")},
        ocr_pages=tuple(json.loads(meta.get("ocr_pages", "[]"))),
    )
