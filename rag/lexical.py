"""The lexical (BM25) index: derived from Chroma, persisted beside the library, rebuilt when stale.

bm25s over :func:`rag.text.tokenize` tokens (jieba search-mode words for Chinese, lower-cased words
for English, numbers whole and compared by value) of ``section + text`` of every chunk of every
complete document (one with a record). The index describes itself: ``chunks.json`` beside bm25s's
files holds the chunk ids, the store fingerprint and the tokenizer version it was built with.
Opening it checks the store's current fingerprint and rebuilds on any difference, so a deleted or
replaced document can never come back. With a Chroma server the index still lives in the local
library folder (``<library>/bm25/``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import threading
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from rag.store import Store
from rag.text import number_key, tokenize
from rag.types import Chunk, Kind

log = logging.getLogger(__name__)

# Bump when rag.text.tokenize changes what it emits; jieba's version is part of it (its dictionary segments).
TOKENIZER_VERSION = f"rag.text.tokenize/1+number_key;jieba/{version('jieba')}"
_NUMERIC = re.compile(r"-?\d+(?:\.\d+)?")
_KINDS = tuple(Kind)
_META = "chunks.json"
_CACHE: dict[tuple[str, str], LexicalIndex] = {}
_LOCK = threading.Lock()


@dataclass(frozen=True)
class LexicalIndex:
    """A loaded BM25 index plus the per-chunk metadata that filtering needs (no Chroma round trips).

    ``origin`` says how this object came to be: ``"built"`` from Chroma or ``"loaded"`` from disk.
    """

    fingerprint: str
    chunk_ids: tuple[str, ...]
    doc_ids: tuple[str, ...]          # distinct doc ids; ``doc_codes`` index into it
    doc_codes: np.ndarray             # int32 per chunk
    kind_codes: np.ndarray            # int8 per chunk, index into tuple(Kind)
    bm25: object | None               # bm25s.BM25, None when the library has no chunks
    path: Path
    origin: str

    def __len__(self) -> int:
        return len(self.chunk_ids)

    def mask(self, doc_ids: Iterable[str] | None, kinds: Iterable[Kind]) -> np.ndarray:
        """1.0 for chunks of the given documents (all when ``None``) and kinds, else 0.0."""
        allowed_kinds = np.isin(self.kind_codes, [_KINDS.index(Kind(k)) for k in kinds])
        if doc_ids is None:
            return allowed_kinds.astype(np.float32)
        wanted = set(doc_ids)
        codes = [i for i, d in enumerate(self.doc_ids) if d in wanted]
        return (allowed_kinds & np.isin(self.doc_codes, codes)).astype(np.float32)

    def scores(self, query_tokens: Sequence[str]) -> np.ndarray:
        """BM25 score of every chunk for the (deduplicated) query :func:`terms`; unknown ones are ignored."""
        if self.bm25 is None:
            return np.zeros(0, dtype=np.float32)
        ids = self.bm25.get_tokens_ids(list(dict.fromkeys(query_tokens)))
        if not ids:
            return np.zeros(len(self), dtype=np.float32)
        return np.asarray(self.bm25.get_scores_from_ids(ids), dtype=np.float32)

    def doc_freq(self, term: str) -> int:
        """How many chunks contain ``term`` (one of :func:`terms`), read off the index (no scoring)."""
        if self.bm25 is None or term not in self.bm25.vocab_dict:
            return 0
        token = self.bm25.vocab_dict[term]
        indptr = self.bm25.scores["indptr"]
        return int(indptr[token + 1] - indptr[token])

    def search(
        self, query_tokens: Sequence[str], k: int, mask: np.ndarray | None = None
    ) -> list[tuple[str, float]]:
        """The ``k`` best ``(chunk_id, score)`` pairs with a positive score, best first."""
        scores = self.scores(query_tokens)
        if mask is not None and len(scores):
            scores = scores * mask
        return top_k(self.chunk_ids, scores, k)


def top_k(chunk_ids: Sequence[str], scores: np.ndarray, k: int) -> list[tuple[str, float]]:
    """Best ``k`` positive scores, ties broken by position so results are deterministic."""
    positive = np.flatnonzero(scores > 0)
    if k <= 0 or not len(positive):
        return []
    order = positive[np.lexsort((positive, -scores[positive]))][:k]
    return [(chunk_ids[i], float(scores[i])) for i in order]


def open_index(store: Store, library_dir: Path) -> LexicalIndex:
    """The current index of ``store``: from the in-process cache, from disk, or rebuilt from Chroma.

    The store fingerprint is checked on every call (one cheap Chroma read), so a stale index is never used.
    """
    fingerprint = store.fingerprint()
    key = (str(Path(library_dir).resolve()), store.settings.collection)
    cached = _CACHE.get(key)
    if cached is not None and cached.fingerprint == fingerprint:
        return cached
    with _LOCK:
        cached = _CACHE.get(key)
        if cached is None or cached.fingerprint != fingerprint:
            cached = _load_or_build(store, Path(library_dir), fingerprint)
            _CACHE[key] = cached
        return cached


def clear_cache() -> None:
    """Forget loaded indexes (the next :func:`open_index` reads them from disk)."""
    with _LOCK:
        _CACHE.clear()


def index_dir(library_dir: Path, collection: str, fingerprint: str) -> Path:
    """One folder per (collection, fingerprint, tokenizer): a stale folder is never opened by mistake."""
    tag = hashlib.sha256(TOKENIZER_VERSION.encode()).hexdigest()[:8]
    return Path(library_dir) / "bm25" / f"{collection}-{fingerprint}-{tag}"


def _load_or_build(store: Store, library_dir: Path, fingerprint: str) -> LexicalIndex:
    path = index_dir(library_dir, store.settings.collection, fingerprint)
    meta = _read_meta(path)
    if meta and meta.get("fingerprint") == fingerprint and meta.get("tokenizer") == TOKENIZER_VERSION:
        try:
            return _load(path, meta)
        except (OSError, ValueError, KeyError) as err:  # a damaged folder is rebuilt, never trusted
            log.warning("BM25 index at %s unreadable (%s); rebuilding", path, err)
    return _build(store, path, fingerprint)


def _read_meta(path: Path) -> dict | None:
    try:
        return json.loads((path / _META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _load(path: Path, meta: dict) -> LexicalIndex:
    import bm25s

    bm25 = bm25s.BM25.load(str(path), show_progress=False) if meta["chunk_ids"] else None
    log.info("BM25 index loaded from %s (%d chunks)", path, len(meta["chunk_ids"]))
    return _make(meta, bm25, path, "loaded")


def _make(meta: dict, bm25: object | None, path: Path, origin: str) -> LexicalIndex:
    return LexicalIndex(
        fingerprint=meta["fingerprint"],
        chunk_ids=tuple(meta["chunk_ids"]),
        doc_ids=tuple(meta["doc_ids"]),
        doc_codes=np.asarray(meta["doc_codes"], dtype=np.int32),
        kind_codes=np.asarray([_KINDS.index(Kind(k)) for k in meta["kinds"]], dtype=np.int8),
        bm25=bm25,
        path=path,
        origin=origin,
    )


def terms(text: str) -> list[str]:
    """BM25 terms: :func:`rag.text.tokenize`, numbers by value (1,505.60 = 1505.6; 1505 differs)."""
    return [number_key(t) if _NUMERIC.fullmatch(t) else t for t in tokenize(text)]


def index_text(chunk: Chunk) -> str:
    """What BM25 sees of a chunk: its section heading path and its text."""
    return f"{chunk.section}\n{chunk.text}" if chunk.section else chunk.text


def _build(store: Store, path: Path, fingerprint: str) -> LexicalIndex:
    import bm25s

    complete = {d.doc_id for d in store.documents()}
    # Half-written documents (chunks without a record) stay out of the index.
    chunks = [c for c in store.iter_chunks() if c.doc_id in complete]
    chunks.sort(key=lambda c: (c.doc_id, c.ordinal, c.chunk_id))
    doc_ids = sorted({c.doc_id for c in chunks})
    code = {d: i for i, d in enumerate(doc_ids)}
    meta = {
        "fingerprint": fingerprint, "tokenizer": TOKENIZER_VERSION,
        "chunk_ids": [c.chunk_id for c in chunks], "doc_ids": doc_ids,
        "doc_codes": [code[c.doc_id] for c in chunks], "kinds": [c.kind.value for c in chunks],
    }
    bm25 = None
    if chunks:
        bm25 = bm25s.BM25()
        bm25.index([terms(index_text(c)) for c in chunks], show_progress=False)
    _save(path, meta, bm25, store.settings.collection)
    log.info("BM25 index built at %s (%d chunks, %d documents)", path, len(chunks), len(doc_ids))
    return _make(meta, bm25, path, "built")


def _save(path: Path, meta: dict, bm25: object | None, collection: str) -> None:
    """Write into a temporary folder and rename it into place, so readers never see half an index."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".building-", dir=path.parent))
    try:
        if bm25 is not None:
            bm25.save(str(tmp), show_progress=False)
        (tmp / _META).write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
    except OSError as err:  # another process won the race, or the disk is read-only: serve from memory
        log.warning("BM25 index not saved to %s: %s", path, err)
        shutil.rmtree(tmp, ignore_errors=True)
        return
    _prune(path, f"{collection}-")


def _prune(keep: Path, prefix: str) -> None:
    """Remove older index folders of the same collection (they describe a past state of the store)."""
    for other in keep.parent.iterdir():
        if other != keep and other.is_dir() and other.name.startswith(prefix):
            shutil.rmtree(other, ignore_errors=True)
