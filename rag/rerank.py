"""Optional cross-encoder reranking (sentence-transformers ``CrossEncoder``), off unless a model is set.

The model is loaded on first use only, so a library without ``settings.reranker`` never imports or loads one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from functools import lru_cache

from rag.types import Hit


@lru_cache(maxsize=2)
def load(name: str):  # noqa: ANN201 - a sentence_transformers.CrossEncoder, imported lazily
    """The cross-encoder named by ``settings.reranker`` (a hub name or a local path), loaded once."""
    from sentence_transformers import CrossEncoder

    return CrossEncoder(name, device="cpu")


def loaded_models() -> int:
    """How many cross-encoders this process has loaded (observable: 0 while reranking is off)."""
    return load.cache_info().currsize


def rerank(name: str, question: str, hits: Sequence[Hit]) -> list[Hit]:
    """``hits`` re-ordered by the cross-encoder's score of (question, section + text).

    ``Hit.score`` becomes the cross-encoder score; ``ranks`` keeps the retrievers' ranks and gains ``rerank``.
    """
    if not hits:
        return []
    pairs = [(question, f"{h.chunk.section}\n{h.chunk.text}".strip()) for h in hits]
    scores = [float(s) for s in load(name).predict(pairs, show_progress_bar=False)]
    order = sorted(range(len(hits)), key=lambda i: -scores[i])
    return [
        replace(hits[i], score=scores[i], ranks={**hits[i].ranks, "rerank": rank})
        for rank, i in enumerate(order, start=1)
    ]
