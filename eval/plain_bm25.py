"""A plain lexical baseline: bm25s over jieba tokens of fixed ~300-character windows of each page.

Nothing of ours is in it on purpose (no sections, kinds, scope, fusion, stemming or question analysis):
the page texts come straight from the file (PDF text layer page by page, other formats as one page),
every page is cut into consecutive windows of :data:`WINDOW` characters, and a question is scored
against every window. Where our ranking loses to this, our ranking is what needs work.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.types import Answer, Chunk, Hit

__all__ = ["WINDOW", "WindowBM25", "plain_tokens"]

WINDOW = 300  # characters
_WORD = re.compile(r"[a-z0-9]+(?:[.,][0-9]+)*|[\u3400-\u9fff]+")


@dataclass(frozen=True)
class _Window:
    source: str
    page: int
    text: str


def plain_tokens(text: str) -> list[str]:
    """Lower-cased Latin words and numbers; jieba search-mode words for runs of Chinese characters."""
    import jieba

    tokens: list[str] = []
    for match in _WORD.finditer(text.lower()):
        word = match.group()
        if "\u3400" <= word[0] <= "\u9fff":
            tokens.extend(t for t in jieba.cut_for_search(word) if t.strip())
        else:
            tokens.append(word)
    return tokens


class WindowBM25:
    """bm25s over fixed windows of every page of the files it was built on; top-k windows per question."""

    def __init__(self, top_k: int = 10, window: int = WINDOW) -> None:
        self.top_k = top_k
        self.window = window
        self._windows: list[_Window] = []
        self._bm25: Any = None

    def build(self, paths: Sequence[Path | str]) -> int:
        """Index every page of every file; returns the number of windows."""
        import bm25s
        import jieba

        jieba.setLogLevel(60)
        from ingest.loaders import load

        self._windows = []
        for path in paths:
            loaded = load(Path(path), ocr=False)
            for number, text in enumerate(loaded.pages, start=1):
                text = re.sub(r"\s+", " ", text).strip()
                for start in range(0, len(text), self.window):
                    self._windows.append(_Window(Path(path).name, number, text[start:start + self.window]))
        self._bm25 = bm25s.BM25()
        self._bm25.index([plain_tokens(w.text) for w in self._windows], show_progress=False)
        return len(self._windows)

    def answer(self, question: str, files: Sequence[str] = ()) -> Answer:
        """The top-k windows (only of ``files`` when given); the "answer" is the best window's text."""
        import numpy as np

        started = time.perf_counter()
        tokens = list(dict.fromkeys(plain_tokens(question)))
        ids = self._bm25.get_tokens_ids(tokens) if self._bm25 is not None else []
        scores = np.asarray(self._bm25.get_scores_from_ids(ids)) if ids else np.zeros(len(self._windows))
        if files:
            allowed = np.array([w.source in files for w in self._windows])
            scores = np.where(allowed, scores, 0.0)
        order = [i for i in np.argsort(-scores, kind="stable")[: self.top_k] if scores[i] > 0]
        hits = tuple(self._hit(int(i), rank, float(scores[i])) for rank, i in enumerate(order, start=1))
        elapsed = (time.perf_counter() - started) * 1000
        return Answer(question=question, text=hits[0].chunk.text if hits else "", answerable=bool(hits),
                      hits=hits, mode="baseline", timings_ms={"retrieve": elapsed, "total": elapsed})

    def _hit(self, row: int, rank: int, score: float) -> Hit:
        window = self._windows[row]
        chunk = Chunk(chunk_id=f"w{row}", doc_id=window.source, ordinal=row, text=window.text,
                      source=window.source, page=window.page, page_end=window.page)
        return Hit(chunk=chunk, score=score, ranks={"bm25": rank})
