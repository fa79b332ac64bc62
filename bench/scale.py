"""Libraries of any size from a real one: its chunks and stored vectors, replicated under distinct doc ids.

Vectors are copied from Chroma, never recomputed, so a 100k-chunk library costs only Chroma writes.
A size below the source's takes the same share of every document (each a prefix by ordinal);
a size above it adds whole copies, then such a share of the next copy.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from rag.library import Library
from rag.settings import Settings
from rag.store import Store, chunk_from
from rag.types import Chunk, Document

_READ = 2000


@dataclass(frozen=True)
class Source:
    """A library read into memory: documents with their chunks (by ordinal) and the chunks' vectors."""

    model: str
    documents: tuple[Document, ...]
    chunks: dict[str, list[Chunk]]
    vectors: dict[str, np.ndarray]  # chunk_id -> vector

    @property
    def total(self) -> int:
        return sum(len(c) for c in self.chunks.values())


def read_source(library: Path) -> Source:
    """Every complete document of ``library`` with its chunks and vectors."""
    store = Library(Settings.load(library=library)).store
    documents = tuple(store.documents())
    complete = {d.doc_id for d in documents}
    chunks: dict[str, list[Chunk]] = {d.doc_id: [] for d in documents}
    vectors: dict[str, np.ndarray] = {}
    offset = 0
    while True:
        got = store.chunks.get(limit=_READ, offset=offset, include=["documents", "metadatas", "embeddings"])
        for cid, text, meta, vector in zip(got["ids"], got["documents"], got["metadatas"], got["embeddings"]):
            if meta["doc_id"] in complete:
                chunks[meta["doc_id"]].append(chunk_from(cid, text, meta))
                vectors[cid] = np.asarray(vector, dtype=np.float32)
        if len(got["ids"]) < _READ:
            break
        offset += _READ
    for items in chunks.values():
        items.sort(key=lambda c: c.ordinal)
    return Source(store.model, documents, chunks, vectors)


def plan(sizes: dict[str, int], n: int) -> list[tuple[int, str, int]]:
    """``(copy, doc_id, count)`` triples whose counts add up to exactly ``n`` (``sizes``: chunks per doc)."""
    total = sum(sizes.values())
    copies, rest = divmod(n, total)
    triples = [(r, d, size) for r in range(copies) for d, size in sizes.items()]
    shares = {d: rest * size // total for d, size in sizes.items()}
    for d in sorted(sizes, key=lambda d: -sizes[d])[: rest - sum(shares.values())]:
        shares[d] += 1  # the rounding remainder goes to the largest documents, one chunk each
    triples += [(copies, d, count) for d, count in shares.items() if count]
    return triples


def copy_id(doc_id: str, copy: int) -> str:
    """Copy 0 keeps the real id; later copies get a distinct content-hash-shaped id."""
    return doc_id if copy == 0 else hashlib.sha256(f"{doc_id}/{copy}".encode()).hexdigest()[:20]


def build(source: Source, library: Path, n: int) -> dict[str, float]:
    """Write an ``n``-chunk library at ``library`` through ``Store.add_chunks`` / ``Store.put_document``."""
    started = time.perf_counter()
    store = Store(Settings.load(library=library), source.model)
    by_id = {d.doc_id: d for d in source.documents}
    triples = plan({d: len(c) for d, c in source.chunks.items()}, n)
    for copy, doc_id, count in triples:
        new_id = copy_id(doc_id, copy)
        originals = source.chunks[doc_id][:count]
        part = [replace(c, doc_id=new_id, chunk_id=f"{new_id}:{c.ordinal:05d}") for c in originals]
        store.begin_document(new_id)
        store.add_chunks(part, np.stack([source.vectors[c.chunk_id] for c in originals]))
        doc = by_id[doc_id]
        store.put_document(replace(doc, doc_id=new_id, chunks=count, path=f"{doc.path}#copy{copy}"))
    seconds = round(time.perf_counter() - started, 1)
    return {"chunks": store.chunk_count(), "documents": len(triples), "build_s": seconds}
