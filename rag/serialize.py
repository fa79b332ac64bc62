"""The JSON shape of an answer, shared by `reportqa ask --json`, the evaluation results and the app."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from rag.types import Answer, AnswerTable, Figure, Hit


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
        "answer_kind": answer_kind(answer),
        "figure": figure_to_dict(answer.figure) if answer.figure else None,
        "table": table_to_dict(answer.table) if answer.table else None,
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


def answer_kind(answer: Answer) -> str:
    """"figure" | "derived" | "table" | "card" | "passage" | "refusal"."""
    return "refusal" if not answer.answerable else answer.kind


def figure_to_dict(figure: Figure) -> dict[str, Any]:
    """Value, unit, scale, period, entity, formula and the cells read, each with its citation number."""
    data = asdict(figure)
    data["cells"] = [{"citation": c.pop("n"), **c} for c in data["cells"]]
    return data


def table_to_dict(table: AnswerTable) -> dict[str, Any]:
    """Columns (and the field each holds), one row per report with its cells (value, citation n or null), the
    sentence under the table."""
    return {
        "columns": list(table.columns),
        "fields": list(table.fields),
        "rows": [{"doc_id": r.doc_id, "file": r.source, "date": r.date,
                  "cells": [{"value": c.value, "citation": c.citation} for c in r.cells]} for r in table.rows],
        "summary": table.summary,
    }
