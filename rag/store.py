"""The Chroma adapter: the library's source of truth (chunks with vectors, and one record per document).

chromadb is used directly rather than through llama-index's ChromaVectorStore because the library
needs per-document replacement, paginated reads for the lexical index and a model check on open.
A document is complete only once its record exists; its chunks are written before it.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import urlparse

import numpy as np

from rag.settings import Settings
from rag.types import Chunk, Document, Kind

_PAGE = 2000  # rows per Chroma read/write round trip
WRITING, COMPLETE, DELETING = "writing", "complete", "deleting"


class LibraryError(Exception):
    """A library that cannot be used as asked (wrong model, unreachable server)."""


class ModelMismatchError(LibraryError):
    pass


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


class Store:
    """Chunks and document records of one library, written with our own vectors only."""

    def __init__(self, settings: Settings, model: str, dim: int | None, client: Any = None) -> None:
        self.settings = settings
        self.model = model
        self.dim = dim
        self.client = client or make_client(settings)
        name = settings.collection
        meta = {"embed_model": model, "embed_dim": dim or 0, "hnsw:space": "cosine"}
        # embedding_function=None: Chroma must never embed (or download a model) on our behalf.
        self.chunks = self.client.get_or_create_collection(name, metadata=meta, embedding_function=None)
        self.docs = self.client.get_or_create_collection(
            f"{name}_documents", metadata={"role": "documents"}, embedding_function=None
        )
        self._check_model()

    def _check_model(self) -> None:
        meta = self.chunks.metadata or {}
        built_with, built_dim = meta.get("embed_model"), int(meta.get("embed_dim") or 0)
        if built_with == self.model and self.dim and not built_dim:
            # created by a listing that did not load the model; record the dimension now
            self.chunks.modify(metadata={"embed_model": self.model, "embed_dim": self.dim})
            built_dim = self.dim
        if built_with != self.model or (self.dim and built_dim != self.dim):
            raise ModelMismatchError(
                f"library {self.settings.library} was built with embedding model {built_with!r} "
                f"({built_dim} dims) but {self.model!r} ({self.dim or '?'} dims) is configured; set "
                f"REPORTQA_EMBED_MODEL={built_with} or re-index with `reportqa ingest PATH... --rebuild`"
            )

    def drop(self) -> None:
        """Delete the whole library (for ``--rebuild``)."""
        for name in (self.settings.collection, f"{self.settings.collection}_documents"):
            try:
                self.client.delete_collection(name)
            except Exception:  # noqa: BLE001 - absent collection is fine
                pass

    # documents ---------------------------------------------------------------------------------
    # A record's status is "writing" while its chunks are written, "complete" once they all are and
    # "deleting" while they are removed; only complete documents are visible.
    def documents(self) -> list[Document]:
        got = self.docs.get(where={"status": COMPLETE}, include=["metadatas"])
        return sorted((_document(m) for m in got["metadatas"]), key=lambda d: d.source)

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
        self.docs.upsert(ids=[doc.doc_id], embeddings=[[0.0]], metadatas=[_document_meta(doc)])

    def delete_document(self, doc_id: str) -> None:
        """Hide the document first, then remove its chunks, then its record."""
        self.docs.upsert(ids=[doc_id], embeddings=[[0.0]], metadatas=[{"doc_id": doc_id, "status": DELETING}])
        self.delete_chunks(doc_id)
        self.docs.delete(ids=[doc_id])

    def unfinished(self) -> list[str]:
        """Ids of documents a killed job left half-written or half-deleted."""
        got = self.docs.get(where={"status": {"$ne": COMPLETE}}, include=[])
        return sorted(got["ids"])

    def fingerprint(self) -> str:
        """Changes whenever a document is added, replaced, deleted or re-indexed."""
        got = self.docs.get(where={"status": COMPLETE}, include=["metadatas"])
        keys = sorted(f"{m['doc_id']}@{m.get('ingested_at', '')}" for m in got["metadatas"])
        return hashlib.sha256("\n".join(keys).encode()).hexdigest()[:16]

    # chunks ------------------------------------------------------------------------------------
    def add_chunks(self, chunks: list[Chunk], vectors: np.ndarray) -> None:
        for i in range(0, len(chunks), _PAGE):
            part = chunks[i : i + _PAGE]
            self.chunks.upsert(
                ids=[c.chunk_id for c in part],
                embeddings=vectors[i : i + _PAGE],
                documents=[c.text for c in part],
                metadatas=[chunk_meta(c) for c in part],
            )

    def delete_chunks(self, doc_id: str) -> None:
        self.chunks.delete(where={"doc_id": doc_id})

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

    def get_chunks(self, chunk_ids: list[str]) -> list[Chunk]:
        if not chunk_ids:
            return []
        got = self.chunks.get(ids=chunk_ids, include=["documents", "metadatas"])
        by_id = {cid: chunk_from(cid, t, m) for cid, t, m in zip(got["ids"], got["documents"], got["metadatas"])}
        return [by_id[c] for c in chunk_ids if c in by_id]

    def query(self, vector: np.ndarray, k: int, where: dict | None = None) -> list[tuple[Chunk, float]]:
        """Nearest chunks by cosine similarity (1 - distance), best first."""
        if k <= 0:  # an empty collection answers with empty lists: no count() round trip (13 ms at 100k)
            return []
        got = _retry_concurrent_write(
            lambda: self.chunks.query(
                query_embeddings=[vector], n_results=k, where=where,
                include=["documents", "metadatas", "distances"],
            )
        )
        rows = zip(got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0])
        return [(chunk_from(cid, text, meta), 1.0 - float(dist)) for cid, text, meta, dist in rows]


def _retry_concurrent_write(call: Callable[[], Any], attempts: int = 3) -> Any:
    """Run a vector read, retrying while another process's write is half-visible to embedded Chroma.

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
