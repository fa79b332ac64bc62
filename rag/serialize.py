"""The JSON shape of an answer, shared by `reportqa ask --json`, the evaluation results and the app."""

from __future__ import annotations

from typing import Any

from rag.types import Answer, Hit


def hit_to_dict(hit: Hit) -> dict[str, Any]:
    chunk = hit.chunk
    return {
        "chunk_id": chunk.chunk_id, "doc_id": chunk.doc_id, "file": chunk.source, "title": chunk.title,
        "page": chunk.page, "page_end": chunk.page_end, "section": chunk.section, "kind": chunk.kind.value,
        "score": round(hit.score, 6), "ranks": dict(hit.ranks), "text": chunk.text,
    }


def answer_to_dict(answer: Answer, max_hits: int = 10) -> dict[str, Any]:
    """Pages are 1-based; hits are in fused order."""
    return {
        "question": answer.question,
        "answer": answer.text,
        "answerable": answer.answerable,
        "reason": answer.reason,
        "mode": answer.mode,
        "citations": [
            {"n": c.n, "hit": c.hit, "chunk_id": c.chunk_id, "doc_id": c.doc_id, "file": c.source,
             "title": c.title, "page": c.page, "section": c.section, "quote": c.quote}
            for c in answer.citations
        ],
        "flags": [{"kind": f.kind, "detail": f.detail} for f in answer.flags],
        "hits": [hit_to_dict(h) for h in answer.hits[:max_hits]],
        "scope": dict(answer.scope),
        "timings_ms": {k: round(v, 2) for k, v in answer.timings_ms.items()},
    }
