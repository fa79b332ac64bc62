"""The search index: BM25 plus a copy of the vectors, derived from Chroma, persisted beside the library.

bm25s over :func:`rag.text.tokenize` tokens (jieba search-mode words for Chinese, lower-cased words
for English, numbers whole and compared by value) of ``section + text`` of every chunk of every
complete document (one with a record), and those chunks' vectors as one matrix in the same row order.
Both lists of a query share one filter mask over those rows, and dense search is one matrix-vector
product (10 ms at 100k chunks): Chroma's own query with a metadata filter pre-selects the allowed ids
in SQLite first (590 ms at 100k chunks for the boilerplate filter alone). The chunks themselves (text
and metadata, as Chroma stores them) are kept too, so a question's hits need no Chroma round trip.

The index describes itself: ``chunks.json`` beside bm25s's files, ``vectors.npy`` and ``records.npy``
holds the chunk ids, the store fingerprint, the tokenizer version and the folder format it was built with. Opening it checks the store's
current fingerprint and rebuilds on any difference, so a deleted or replaced document can never come
back. With a Chroma server the index still lives in the local library folder (``<library>/bm25/``).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import math
import operator
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib.metadata import version
from pathlib import Path
from typing import Any, cast

import numpy as np

from rag.embeddings import sample_rows
from rag.store import ConcurrentWriteError, Store, chunk_from, chunk_meta
from rag.terms import STATEMENT_HEADINGS, STATEMENTS, is_mostly_cjk, statement_headings
from rag.text import STOPWORDS, number_key, tokenize
from rag.types import Chunk, Kind

log = logging.getLogger(__name__)

# Bump when rag.text.tokenize changes what it emits; jieba's version is part of it (its dictionary segments).
TOKENIZER_VERSION = (f"rag.text.tokenize/1+number_key+snowball-en+fiscal;jieba/{version('jieba')};"
                     f"pystemmer/{version('PyStemmer')}")
# What the folder holds (the statement headings are part of it); a folder of another format is rebuilt.
_FORMAT = "bm25s+vectors+records+pages+statements/6;" + hashlib.sha256(
    "|".join(p.pattern for p in STATEMENT_HEADINGS.values()).encode()).hexdigest()[:8]
_NUMERIC = re.compile(r"-?\d+(?:\.\d+)?")
_KINDS = tuple(Kind)
_META, _VECTORS, _RECORDS, _OFFSETS = "chunks.json", "vectors.npy", "records.npy", "offsets.npy"
_CACHE: dict[tuple[str, str], SearchIndex] = {}
_WORDS_KEPT = 4096  # words whose chunk counts are kept (a few hundred questions' worth)
_MASKS_KEPT = 32
_LOCK = threading.Lock()


@dataclass(frozen=True)
class SearchIndex:
    """A loaded BM25 index, the chunks' vectors and the per-chunk metadata that filtering needs.

    ``origin`` says how this object came to be: ``"built"`` from Chroma or ``"loaded"`` from disk.
    ``vectors`` is None for an empty library, and when embedded Chroma could not hand them over during
    another process's ingest (dense retrieval then waits for the next change of the library).
    """

    fingerprint: str
    chunk_ids: tuple[str, ...]
    doc_ids: tuple[str, ...]          # distinct doc ids; ``doc_codes`` index into it
    doc_codes: np.ndarray             # int32 per chunk
    kind_codes: np.ndarray            # int8 per chunk, index into tuple(Kind)
    page_codes: np.ndarray            # int32 per chunk: one code per (document, first page) of the library
    statement_bits: np.ndarray        # uint8 per chunk: bit i set when its page heads rag.terms.STATEMENTS[i]
    bm25: Any | None                  # bm25s.BM25, None when the library has no chunks
    vectors: np.ndarray | None        # float32 (chunks, dim), unit rows
    records: np.ndarray               # uint8: every chunk's JSON [text, Chroma metadata], one after another
    offsets: np.ndarray               # int64 (chunks + 1): where each chunk's record starts
    path: Path
    origin: str

    def __len__(self) -> int:
        return len(self.chunk_ids)

    @cached_property
    def _rows(self) -> dict[str, int]:
        return {cid: row for row, cid in enumerate(self.chunk_ids)}

    def chunks(self, chunk_ids: Sequence[str]) -> list[Chunk]:
        """The chunks with these ids, in that order (ids the index does not have are left out)."""
        found = []
        for cid in chunk_ids:
            row = self._rows.get(cid)
            if row is not None:
                text, meta = self._record(row)
                found.append(chunk_from(cid, text, meta))
        return found

    @cached_property
    def _masks(self) -> dict[tuple, np.ndarray]:
        return {}

    def mask(self, doc_ids: Iterable[str] | None, kinds: Iterable[Kind]) -> np.ndarray:
        """True for chunks of the given documents (all when ``None``) and kinds (read-only; the last
        few asked for are kept: most questions ask for the same one)."""
        key = (None if doc_ids is None else frozenset(doc_ids), frozenset(Kind(k) for k in kinds))
        found = self._masks.get(key)
        if found is None:
            found = np.isin(self.kind_codes, [_KINDS.index(k) for k in key[1]])
            if key[0] is not None:
                found &= np.isin(self.doc_codes, [i for i, d in enumerate(self.doc_ids) if d in key[0]])
            found.setflags(write=False)
            if len(self._masks) >= _MASKS_KEPT:
                self._masks.clear()
            self._masks[key] = found
        return found

    def scores(self, query_tokens: Sequence[str]) -> np.ndarray:
        """BM25 score of every chunk for the (deduplicated) query :func:`terms`; unknown ones are ignored."""
        if self.bm25 is None:
            return np.zeros(0, dtype=np.float32)
        ids = self.bm25.get_tokens_ids(list(dict.fromkeys(query_tokens)))
        if not ids:
            return np.zeros(len(self), dtype=np.float32)
        return np.asarray(self.bm25.get_scores_from_ids(ids), dtype=np.float32)

    def postings(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        """The rows of the chunks that hold ``term`` (one of :func:`terms`), ascending, and its BM25 score in
        each: what a phrase's words have in common is read off these, not off a score per chunk."""
        if self.bm25 is None or term not in self.bm25.vocab_dict:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        scores, token = self.bm25.scores, self.bm25.vocab_dict[term]
        start, end = scores["indptr"][token], scores["indptr"][token + 1]
        rows, values = scores["indices"][start:end], scores["data"][start:end]
        if len(rows) > 1 and np.any(rows[1:] < rows[:-1]):
            order = np.argsort(rows, kind="stable")
            rows, values = rows[order], values[order]
        return rows, values

    def doc_freq(self, term: str) -> int:
        """How many chunks contain ``term`` (one of :func:`terms`), read off the index (no scoring)."""
        if self.bm25 is None or term not in self.bm25.vocab_dict:
            return 0
        token = self.bm25.vocab_dict[term]
        indptr = self.bm25.scores["indptr"]
        return int(indptr[token + 1] - indptr[token])

    def rejoined(self, text: str) -> list[str]:
        """Words of the index that jieba cut into single characters in ``text`` but kept whole in the reports:
        "典型时长范围" is cut 典型/时/长/范围, "典型时长约3–5年" keeps 时长."""
        tokens = tokenize(text, keep_stopwords=True)
        found: list[str] = []
        for i in range(len(tokens)):
            for n in (3, 2):
                run = tokens[i:i + n]
                if len(run) == n and all(len(t) == 1 and is_mostly_cjk(t) for t in run):
                    word = "".join(run)
                    if self.doc_freq(word) and word not in found:
                        found.append(word)
                        break
        return found

    def term_weights(self, words: Sequence[str]) -> tuple[dict[str, float], tuple[str, ...]]:
        """IDF of each word over the chunks, ``log((N + 1) / (df + 0.5))``, and the words no chunk has.

        Rare words weigh more; a word no chunk contains gets the highest weight, so a question whose specific
        words are missing from the library (目标价, training cost) cannot pass the gate on its common words.
        A word the tokenizer splits counts the chunks that hold any of its tokens.
        """
        total = len(self)
        weights, unseen = {}, []
        for word in words:
            df = self._word_freq(word)
            weights[word] = math.log((total + 1) / (df + 0.5))
            if not df:
                unseen.append(word)
        return weights, tuple(unseen)

    @cached_property
    def _word_freqs(self) -> dict[str, int]:
        return {}

    def _word_freq(self, word: str) -> int:
        """How many chunks hold ``word`` (any of its tokens), kept for the next few questions: retrieval and
        the evidence gate both weigh the question's words."""
        found = self._word_freqs.get(word)
        if found is None:
            tokens = terms(word)
            if len(tokens) == 1:  # read off the index, no scoring pass over every chunk
                found = self.doc_freq(tokens[0])
            else:
                found = int(np.count_nonzero(self.scores(tokens) > 0)) if len(self) and tokens else 0
            if len(self._word_freqs) >= _WORDS_KEPT:
                self._word_freqs.clear()
            self._word_freqs[word] = found
        return found

    def search(
        self, query_tokens: Sequence[str], k: int, mask: np.ndarray | None = None
    ) -> list[tuple[str, float]]:
        """The ``k`` best ``(chunk_id, score)`` pairs by BM25 with a positive score, best first."""
        return self.best(self.scores(query_tokens), k, mask)

    def best(self, scores: np.ndarray, k: int, mask: np.ndarray | None = None) -> list[tuple[str, float]]:
        """The ``k`` best ``(chunk_id, score)`` pairs of a score per chunk, positive scores only."""
        if not len(scores):
            return []
        rows = np.flatnonzero(scores > 0)
        if mask is not None and len(rows):
            rows = rows[mask[rows]]
        return self._best(rows, scores[rows], k)

    def page_scores(self, scores: np.ndarray, rest: float) -> np.ndarray:
        """Every chunk's page score: its page's best chunk score plus ``rest`` times the sum of the others
        (a statement page whose rows fall into several chunks adds them up). Only the positive scores are
        aggregated (BM25 scores are sparse); every chunk of a scored page gets the page's score."""
        if not len(scores):
            return scores
        rows = np.flatnonzero(scores > 0)
        values = scores[rows].astype(np.float64)
        best = np.zeros(int(self.page_codes.max()) + 1, dtype=np.float64)
        np.maximum.at(best, self.page_codes[rows], values)
        if rest:
            total = np.bincount(self.page_codes[rows], weights=values, minlength=len(best))
            best = best + rest * (total - best)
        return best[self.page_codes].astype(np.float32)

    def dense_scores(self, vector: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        """Cosine of every chunk with the unit ``vector`` (0 outside ``mask`` and without vectors)."""
        out = np.zeros(len(self), dtype=np.float32)
        if self.vectors is None or not len(self):
            return out
        from rag.embeddings import similarities

        if mask is None or mask.all():
            return np.asarray(similarities(self.vectors, vector), dtype=np.float32)
        rows = np.flatnonzero(mask)
        if len(rows) * 4 < len(self):  # a few documents: copying their rows out costs less
            out[rows] = similarities(self.vectors[rows], vector)
        else:
            out[rows] = np.asarray(similarities(self.vectors, vector))[rows]
        return out

    def statement_mask(self, statements: Iterable[str]) -> np.ndarray:
        """True for chunks on pages that head one of ``statements`` (names of rag.terms.STATEMENTS)."""
        bits = sum(1 << STATEMENTS.index(s) for s in set(statements) if s in STATEMENTS)
        return (self.statement_bits & bits) > 0

    @cached_property
    def _readable(self) -> dict[Callable[[Sequence[str]], bool], np.ndarray]:
        return {}

    def readable_rows(self, reads: Callable[[Sequence[str]], bool]) -> np.ndarray:
        """True for chunks of documents the embedding model reads (:meth:`rag.embeddings.Embedder.reads`
        of the chunks :func:`rag.embeddings.sample_rows` picks from each); kept per ``reads``."""
        found = self._readable.get(reads)
        if found is None:
            starts = np.searchsorted(self.doc_codes, np.arange(len(self.doc_ids) + 1))
            read = np.array([reads([self._record(int(starts[code]) + i)[0]
                                    for i in sample_rows(int(starts[code + 1] - starts[code]))])
                             for code in range(len(self.doc_ids))], dtype=bool)
            found = self._readable[reads] = read[self.doc_codes] if len(self.doc_ids) else np.zeros(0, dtype=bool)
        return found

    def text(self, row: int) -> str:
        """The text of the chunk in ``row``."""
        return self._record(row)[0]

    def _record(self, row: int) -> tuple[str, dict[str, Any]]:
        """A chunk's stored ``(text, Chroma metadata)``."""
        text, meta = json.loads(bytes(self.records[self.offsets[row]:self.offsets[row + 1]]))
        return text, meta

    def page_of(self, chunk_id: str) -> int:
        """The page code of a chunk (chunks with the same code lie on the same page of one document)."""
        return int(self.page_codes[self._rows[chunk_id]])

    def nearest(self, vector: np.ndarray, k: int, mask: np.ndarray | None = None) -> list[tuple[str, float]]:
        """The ``k`` chunks closest to the unit ``vector`` (exact cosine), ``(chunk_id, cosine)`` best first."""
        if self.vectors is None or k <= 0:
            return []
        rows = np.arange(len(self)) if mask is None else np.flatnonzero(mask)
        return self._best(rows, self.dense_scores(vector, mask)[rows], k)

    def _best(self, rows: np.ndarray, scores: np.ndarray, k: int) -> list[tuple[str, float]]:
        return [(self.chunk_ids[rows[i]], float(scores[i])) for i in top_k(scores, k)]


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` highest scores, best first; equal scores in position order."""
    if k <= 0 or not len(scores):
        return np.zeros(0, dtype=np.int64)
    if k < len(scores):
        threshold = np.partition(scores, len(scores) - k)[len(scores) - k]
        candidates = np.flatnonzero(scores >= threshold)  # ties at the threshold all stay in
    else:
        candidates = np.arange(len(scores))
    order = candidates[np.lexsort((candidates, -scores[candidates]))]
    return order[:k]


def open_index(store: Store, library_dir: Path) -> SearchIndex:
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
    tag = hashlib.sha256(f"{TOKENIZER_VERSION};{_FORMAT}".encode()).hexdigest()[:8]
    return Path(library_dir) / "bm25" / f"{collection}-{fingerprint}-{tag}"


def _load_or_build(store: Store, library_dir: Path, fingerprint: str) -> SearchIndex:
    path = index_dir(library_dir, store.settings.collection, fingerprint)
    meta = _read_meta(path)
    if (meta and meta.get("fingerprint") == fingerprint and meta.get("tokenizer") == TOKENIZER_VERSION
            and meta.get("format") == _FORMAT):
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


def _load(path: Path, meta: dict) -> SearchIndex:
    import bm25s

    n = len(meta["chunk_ids"])
    bm25, vectors = None, None
    if n:
        bm25 = bm25s.BM25.load(str(path), show_progress=False)
        vectors = np.load(path / _VECTORS)
    arrays = {"vectors": vectors, "records": np.load(path / _RECORDS, mmap_mode="r"),
              "offsets": np.load(path / _OFFSETS)}
    if (vectors is not None and len(vectors) != n) or len(arrays["offsets"]) != n + 1:
        raise ValueError(f"the arrays under {path} do not match its {n} chunks")
    log.info("search index loaded from %s (%d chunks)", path, n)
    return _make(meta, bm25, arrays, path, "loaded")


def _make(meta: dict, bm25: Any | None, arrays: dict[str, np.ndarray | None], path: Path, origin: str
          ) -> SearchIndex:
    return SearchIndex(
        fingerprint=meta["fingerprint"],
        chunk_ids=tuple(meta["chunk_ids"]),
        doc_ids=tuple(meta["doc_ids"]),
        doc_codes=np.asarray(meta["doc_codes"], dtype=np.int32),
        kind_codes=np.asarray([_KINDS.index(Kind(k)) for k in meta["kinds"]], dtype=np.int8),
        page_codes=np.asarray(meta["page_codes"], dtype=np.int32),
        statement_bits=np.asarray(meta["statement_bits"], dtype=np.uint8),
        bm25=bm25,
        vectors=arrays["vectors"],
        records=cast(np.ndarray, arrays["records"]),  # never None: only the vectors may be missing
        offsets=cast(np.ndarray, arrays["offsets"]),
        path=path,
        origin=origin,
    )


def terms(text: str) -> list[str]:
    """BM25 terms: :func:`rag.text.tokenize`, numbers by value (1,505.60 = 1505.6; 1505 differs), English
    words without possessives, split at hyphens and stemmed (Snowball): "3M's" = "3M", "purchases" =
    "purchase", "year-over-year" = "year over year", fiscal years as years ("FY2018" = "2018"). Chinese words stay jieba's."""
    out: list[str] = []
    for token in tokenize(text):
        if _NUMERIC.fullmatch(token):
            out.append(number_key(token))
        elif token.isascii():
            out.extend(_english(token))
        else:
            out.append(token)
    return out


_POSSESSIVE = re.compile(r"['’]s$")
_FISCAL = re.compile(r"^(?:fy|cy)((?:19|20)\d{2})$")  # FY2018 -> 2018, as statements head their columns


def _english(word: str) -> list[str]:
    parts = _FISCAL.sub(r"\1", _POSSESSIVE.sub("", word)).replace("’", "'").split("-")
    return [_stem(p) if p.isalpha() and len(p) > 3 else p for p in parts if p and p not in STOPWORDS]


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    return _stemmer().stemWord(word)


@lru_cache(maxsize=1)
def _stemmer():  # a Stemmer.Stemmer
    import Stemmer

    return Stemmer.Stemmer("english")


def index_text(chunk: Chunk) -> str:
    """What BM25 sees of a chunk: its section heading path and its text."""
    return f"{chunk.section}\n{chunk.text}" if chunk.section else chunk.text


def _build(store: Store, path: Path, fingerprint: str) -> SearchIndex:
    import bm25s

    complete = {d.doc_id for d in store.documents()}
    try:
        rows: list[tuple[Chunk, Any]] = [  # (chunk, its vector, or None with dense retrieval off)
            (c, v) for c, v in store.iter_chunks_with_vectors() if c.doc_id in complete]
    except ConcurrentWriteError as err:  # BM25 alone (chunk texts are read from Chroma's tables)
        log.warning("dense retrieval off until the library changes again: %s", err)
        rows = [(c, None) for c in store.iter_chunks() if c.doc_id in complete]
    # Half-written documents (chunks without a record) stay out of the index.
    rows.sort(key=lambda row: (row[0].doc_id, row[0].ordinal, row[0].chunk_id))
    chunks = [c for c, _ in rows]
    doc_ids = sorted({c.doc_id for c in chunks})
    code = {d: i for i, d in enumerate(doc_ids)}
    meta = {
        "fingerprint": fingerprint, "tokenizer": TOKENIZER_VERSION, "format": _FORMAT,
        "chunk_ids": [c.chunk_id for c in chunks], "doc_ids": doc_ids,
        "doc_codes": [code[c.doc_id] for c in chunks], "kinds": [c.kind.value for c in chunks],
        "page_codes": _page_codes(chunks),
        "statement_bits": _statement_bits(chunks),
    }
    bm25 = vectors = None
    if chunks:
        bm25 = bm25s.BM25()
        bm25.index([terms(index_text(c)) for c in chunks], show_progress=False)
        if rows[0][1] is not None:
            vectors = np.stack([v for _, v in rows]).astype(np.float32, copy=False)
    records = [json.dumps([c.text, chunk_meta(c)], ensure_ascii=False).encode() for c in chunks]
    arrays = {"vectors": vectors, "records": np.frombuffer(b"".join(records), dtype=np.uint8),
              "offsets": np.concatenate([[0], np.cumsum([len(r) for r in records], dtype=np.int64)])}
    if vectors is not None or not chunks:  # an index without its vectors is used, never saved
        _save(path, meta, bm25, arrays, store.settings.collection)
    log.info("search index built at %s (%d chunks, %d documents)", path, len(chunks), len(doc_ids))
    return _make(meta, bm25, arrays, path, "built")


def _statement_bits(chunks: Sequence[Chunk]) -> list[int]:
    """Per chunk, the statements headed on the pages it spans (a heading counts on the page it lies on:
    a chunk that starts at the foot of page 57 may carry the heading of page 58)."""
    pages: dict[tuple[str, int], int] = {}
    for chunk in chunks:
        for name, offset in statement_headings(chunk.text):
            key = (chunk.doc_id, chunk.page_at(offset))
            pages[key] = pages.get(key, 0) | 1 << STATEMENTS.index(name)
    bits = []
    for c in chunks:
        spanned = range(c.page, max(c.page, c.page_end) + 1)
        bits.append(functools.reduce(operator.or_, (pages.get((c.doc_id, p), 0) for p in spanned), 0))
    return bits


def _page_codes(chunks: Sequence[Chunk]) -> list[int]:
    """One code per page of a paged document (PDF); in other formats (one "page") each chunk is its own."""
    codes: dict[tuple[str, int], int] = {}
    return [codes.setdefault((c.doc_id, c.page if c.source.lower().endswith(".pdf") else -1 - c.ordinal),
                             len(codes)) for c in chunks]


def _save(path: Path, meta: dict, bm25: Any | None, arrays: dict[str, np.ndarray | None], collection: str
          ) -> None:
    """Write into a temporary folder and rename it into place, so readers never see half an index."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".building-", dir=path.parent))
    try:
        if bm25 is not None:
            bm25.save(str(tmp), show_progress=False)
        for name, array in ((_VECTORS, arrays["vectors"]), (_RECORDS, arrays["records"]),
                            (_OFFSETS, arrays["offsets"])):
            if array is not None:
                np.save(tmp / name, array)
        (tmp / _META).write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
    except OSError as err:  # another process won the race, or the disk is read-only: serve from memory
        log.warning("search index not saved to %s: %s", path, err)
        shutil.rmtree(tmp, ignore_errors=True)
        return
    _prune(path, f"{collection}-")


def _prune(keep: Path, prefix: str) -> None:
    """Remove older index folders of the same collection (they describe a past state of the store)."""
    for other in keep.parent.iterdir():
        if other != keep and other.is_dir() and other.name.startswith(prefix):
            shutil.rmtree(other, ignore_errors=True)
