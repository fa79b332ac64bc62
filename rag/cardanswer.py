"""Answers read off one report's card: who wrote it. A question scoped to one report ("开源证券那篇《…》是哪位分析师
写的？", "Who wrote UBS's note on Tencent?") is answered with the analysts its card lists, each name cited to the
line of the report's first pages that prints it, with the certificate number where the card has one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.evidence import Evidence
from rag.store import Store
from rag.terms import question_focus
from rag.types import Answer, Chunk, Citation, Hit

__all__ = ["analysts_of", "card_answer"]

_AUTHOR = re.compile(r"分析师|作者|谁写|撰写|执笔|\bwho\s+(?:wrote|authored|writes|is\s+the\s+analyst)\b|\bauthors?\b"
                     r"|\banalysts?\b", re.I)
_FIRST = re.compile(r"第一作者|第一位|首席|\blead\s+analyst\b|\bfirst\s+author\b", re.I)
_CARD_PAGES = (1, 2)  # analysts are printed on a report's first page, a few reports' second
_ANALYST = re.compile(r"^\s*(?P<name>.+?)\s*(?:\((?P<cert>[^)]*)\))?\s*$")


def analysts_of(value: str) -> list[tuple[str, str]]:
    """``(name, certificate)`` pairs of a card's analysts field ("殷晟路 (S0790522080001); 周航")."""
    pairs = []
    for part in value.split(";"):
        match = _ANALYST.match(part)
        if match and match["name"]:
            pairs.append((match["name"], match["cert"] or ""))
    return pairs


def card_answer(store: Store, evidence: Evidence) -> Answer | None:
    """The analysts of the one report the question is scoped to, when it asks who wrote it; ``None`` otherwise
    or when no line of the report's first pages prints a name of its card."""
    doc_ids = list(evidence.scope.get("doc_ids") or ())
    focus = question_focus(evidence.question)
    if len(doc_ids) != 1 or not _AUTHOR.search(focus):
        return None
    doc = store.document(doc_ids[0])
    people = analysts_of(doc.meta.get("analysts", "")) if doc else []
    if doc is None or not people:
        return None
    if _FIRST.search(focus):
        people = people[:1]
    pages = store.chunks_on([(doc.doc_id, p) for p in _CARD_PAGES])
    chunks = [c for p in _CARD_PAGES for c in pages[(doc.doc_id, p)]]
    citations: list[Citation] = []
    cited: list[Chunk] = []
    for name, _ in people:
        found = _printed(chunks, name)
        if found is None:
            return None  # a name the report does not print is not stated
        chunk, start, end = found
        if chunk not in cited:
            cited.append(chunk)
        citations.append(Citation(len(citations) + 1, chunk.chunk_id, chunk.doc_id, chunk.source, chunk.title,
                                  chunk.page_at(start), chunk.section, chunk.text[start:end], start, end,
                                  hit=cited.index(chunk) + 1))
    text = _sentence(evidence.lang, doc.meta, people, first=bool(_FIRST.search(focus)))
    ids = {c.chunk_id for c in cited}
    hits = (*(Hit(c, 1.0, {"card": i}) for i, c in enumerate(cited, 1)),
            *(h for h in evidence.hits if h.chunk.chunk_id not in ids))
    return Answer(evidence.question, text, True, tuple(citations), hits, evidence.scope, kind="card")


def _printed(chunks: Sequence[Chunk], name: str) -> tuple[Chunk, int, int] | None:
    """The first line of ``chunks`` printing ``name`` (its characters may be spaced apart), as a span."""
    pattern = re.compile(r"\s*".join(re.escape(ch) for ch in name.replace(" ", "")))
    for chunk in chunks:
        match = pattern.search(chunk.text)
        if match:
            start = chunk.text.rfind("\n", 0, match.start()) + 1
            end = chunk.text.find("\n", match.end())
            return chunk, start, len(chunk.text) if end < 0 else end
    return None


def _sentence(lang: str, meta: dict[str, str], people: list[tuple[str, str]], first: bool) -> str:
    title, house, date = meta.get("title", ""), meta.get("publisher", ""), meta.get("date", "")
    if lang == "zh":
        who = "、".join(f"{name}（执业证书编号 {cert}）[{n}]" if cert else f"{name}[{n}]"
                       for n, (name, cert) in enumerate(people, 1))
        report = f"{house}《{title}》" + (f"（{date}）" if date else "")
        return f"{report}的{'第一作者' if first else '分析师'}：{who}。"
    who = ", ".join(f"{name} (certificate {cert}) [{n}]" if cert else f"{name} [{n}]"
                    for n, (name, cert) in enumerate(people, 1))
    report = f"{house}'s \"{title}\"" + (f" ({date})" if date else "")
    return f"{report} was written by {who}." if not first else f"The first author of {report} is {who}."
