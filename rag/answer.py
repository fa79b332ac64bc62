"""Questions in, cited answers out: retrieve, then compose (extractive) or generate (LLM), then verify.

Steps of :func:`answer_stream`: follow-up context → retrieval → evidence gate (refuse when nothing
matched or the best match is too weak) → extractive composition (:mod:`rag.extractive`) or streamed
generation → verification of every ``[n]``, quote and number → citations numbered [1], [2], … in order
of first appearance in the text → the :class:`~rag.types.Answer`. Each citation keeps the passage it
quotes as ``Citation.hit``: the passage is ``Answer.hits[citation.hit - 1]``.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Generator, Iterator, Mapping
from dataclasses import replace
from typing import Any

from rag import prompts
from rag.cardanswer import card_answer
from rag.conversation import Conversation, FollowUp
from rag.crossreport import table_answer
from rag.embeddings import Embedder
from rag.evidence import (
    Evidence,
    gate,
    language,
    make_evidence,
    mentions,
    refusal,
    required_places,
    term_stats,
    unknown_subject,
)
from rag.extractive import extractive
from rag.figures import NotComputed, figure_answer
from rag.library import Library
from rag.llm import LLMError, build_prompt, stream
from rag.retrieve import Filters, Retrieval, retrieve
from rag.settings import Settings
from rag.store import Store
from rag.terms import analyze
from rag.types import Answer, Chunk, Citation, Document, FigureCell, Flag, Hit
from rag.verify import MARKER, parse_markers, verify

log = logging.getLogger(__name__)

__all__ = ["Conversation", "Evidence", "answer", "answer_stream", "extractive", "gather_evidence", "generated",
           "language", "make_evidence", "numbered_by_appearance", "refusal", "renumber_markers"]

HITS_SHOWN = 10  # hits returned with every answer
SUBJECT_DEPTH = 50  # fused candidates searched for passages about a follow-up's new subject


def answer(question: str, library: Library, *, k: int | None = None, filters: Filters | None = None,
           conversation: Conversation | None = None, mode: str = "auto") -> Answer:
    """Answer ``question`` from the library with cited passages (``mode``: auto | extractive | llm)."""
    final: Answer | None = None
    for item in answer_stream(question, library, k=k, filters=filters, conversation=conversation, mode=mode):
        if isinstance(item, Answer):
            final = item
    assert final is not None  # answer_stream always ends with an Answer
    return final


def answer_stream(question: str, library: Library, *, k: int | None = None, filters: Filters | None = None,
                  conversation: Conversation | None = None, mode: str = "auto") -> Iterator[str | Answer]:
    """Yield text deltas as they are produced, then the verified :class:`Answer` last.

    The Answer's text is authoritative: verification removes markers of passages that were not given.
    ``k`` is the number of passages given to the LLM (default ``settings.top_k``); the extractive
    answer reads the top five.
    """
    start = time.perf_counter()
    settings = library.settings
    requested, mode = mode, _resolve_mode(mode, settings)
    context_size = k or settings.top_k

    follow = conversation.follow_up(question) if conversation else FollowUp(False)
    with library.store.one_version():  # one state of the library for everything up to the first text
        # 1. follow-up context and retrieval
        evidence = gather_evidence(library, question, filters, follow, max(context_size, HITS_SHOWN))
        retrieved = time.perf_counter()

        # 2. a table across the reports on a company, a figure read from its table cell; else compose or
        # generate (each refuses on weak evidence), verified
        found = table_answer(library, question, filters, evidence.hits) or card_answer(library.store, evidence) \
            or figure_from_tables(library, evidence)
        note = found if isinstance(found, str) else ""  # a ratio not computed: which input no table prints
        result = None if isinstance(found, str) else found
        if result is None and mode != "llm":
            result = numbered_by_appearance(extractive(evidence, library.embedder))
    if result is None:
        result = yield from _generated_or_fallback(evidence, settings, library.embedder, context_size,
                                                   fallback=requested == "auto")
    else:
        yield result.text
    result = numbered_by_appearance(result)  # a generated answer streams with passage numbers
    if note:
        result = replace(result, reason=" ".join(part for part in (result.reason, note) if part))

    # 3. the answer, with all hits shown and timings
    timings = {"retrieve": _ms(retrieved - start), **result.timings_ms}
    timings["total"] = _ms(time.perf_counter() - start)
    shown = max(HITS_SHOWN, context_size) if result.mode == "llm" else HITS_SHOWN  # every [n] must resolve
    cells = result.kind in ("table", "figure", "derived", "card")  # hits start with the passages their cells cite
    hits = result.hits[:len(result.citations) + shown] if cells else evidence.hits[:shown]
    result = replace(result, hits=hits, timings_ms=timings)
    if conversation is not None:
        conversation.update(question, result)
    yield result


def gather_evidence(library: Library, question: str, filters: Filters | None = None,
                    follow: FollowUp | None = None, depth: int = HITS_SHOWN) -> Evidence:
    """The ``depth`` best passages for ``question`` in its conversation's context, with term statistics."""
    follow = follow or FollowUp(False)
    retrieval = retrieve(library, question, k=max(depth, SUBJECT_DEPTH) if follow.subject else depth,
                         filters=_with_scope(filters, follow), extra_terms=follow.extra_terms)
    hits = about(retrieval.hits, follow.subject)[:depth]
    evidence = make_evidence(question, hits, extra_terms=follow.extra_terms,
                             scope=_scope_dict(retrieval, follow), empty_reason=retrieval.reason,
                             previous=follow.previous)
    if not hits:
        return evidence
    weights, unseen = term_stats(library, evidence.terms + evidence.extra_terms + evidence.framing)
    return replace(evidence, weights=weights, unseen=unseen)


def figure_from_tables(library: Library, evidence: Evidence) -> Answer | str | None:
    """The figure answer (:mod:`rag.figures`) with each cell cited by its row's line on the page; ``None``
    when the question asks for no figure, names a company the library lacks (or none it knows, while the top
    passages are about several), restricts to a place (a statement's figure is the whole company's), or no
    table holds the cell;
    for a ratio some of whose inputs no table prints, the note saying which (the passage answer follows)."""
    start = time.perf_counter()
    if not evidence.hits or unknown_subject(evidence) or required_places(evidence):
        return None
    store = library.store
    docs = {d.doc_id: d for d in store.documents()}
    if not evidence.scope.get("doc_ids") and len({_entity(docs.get(h.chunk.doc_id)) for h in evidence.hits[:3]}) > 1:
        return None  # no company named that the library knows, and the top passages are about several
    found = figure_answer(analyze(evidence.question), evidence.hits, store.tables,
                          lambda doc_id: _entity(docs.get(doc_id)))
    if found is None:
        return None
    if isinstance(found, NotComputed):
        return found.note
    text, figure = found
    cited: list[Hit] = []
    citations: list[Citation] = []
    for cell in figure.cells:
        located = _row_in_chunks(store, cell)
        if located is None:
            return None  # a figure is only answered where its row can be shown on the page
        chunk, begin, end = located
        if chunk.chunk_id not in {h.chunk.chunk_id for h in cited}:
            cited.append(Hit(chunk, 1.0, {"table": cell.n}))
        position = next(i for i, h in enumerate(cited, 1) if h.chunk.chunk_id == chunk.chunk_id)
        citations.append(Citation(cell.n, chunk.chunk_id, chunk.doc_id, chunk.source, chunk.title, cell.page,
                                  chunk.section, chunk.text[begin:end], begin, end, hit=position))
    ids = {h.chunk.chunk_id for h in cited}
    hits = (*cited, *(h for h in evidence.hits if h.chunk.chunk_id not in ids))
    kind = "derived" if figure.formula else "figure"
    flags = tuple(Flag("number_not_found", f"[{c.n}] {cell.text} is not in the cited line")
                  for c, cell in zip(citations, figure.cells, strict=True) if cell.text not in c.quote)
    return Answer(evidence.question, text, True, tuple(citations), hits, evidence.scope, flags, "",
                  "extractive", {"figure": _ms(time.perf_counter() - start)}, kind=kind, figure=figure)


def _entity(doc: Document | None) -> str:
    if doc is None:
        return ""
    return re.sub(r"^[\W_]+", "", doc.meta.get("company") or "")  # a cover's rule line is no part of the name


def _row_in_chunks(store: Store, cell: FigureCell) -> tuple[Chunk, int, int] | None:
    """The chunk on the cell's page that holds its row's line, and the line's span in the chunk's text."""
    pattern = re.compile(r"\s+".join(re.escape(part) for part in cell.quote.split()))
    for chunk in store.chunks_on([(cell.doc_id, cell.page)])[(cell.doc_id, cell.page)]:
        match = pattern.search(chunk.text)
        if match:
            return chunk, match.start(), match.end()
    return None


def about(hits: tuple[Hit, ...], names: tuple[str, ...]) -> tuple[Hit, ...]:
    """Hits whose heading or text names one of ``names`` (or its first word: "Gemini" of "Gemini 1.5 Pro")
    first, each group in fused order. A follow-up such as "那 Sora 呢？" inherits the previous question's
    topic words, which would otherwise pull back the passages about the previous subject.
    """
    if not names:
        return hits
    words = {w for name in names for w in (name, name.split()[0])}

    def named(hit: Hit) -> bool:  # the leaf heading only: the report's title heads every section path
        heading = hit.chunk.section.rsplit(">", 1)[-1]
        return any(mentions(f"{heading}\n{hit.chunk.text}", w) for w in words)

    return tuple(sorted(hits, key=lambda h: not named(h)))


def _resolve_mode(mode: str, settings: Settings) -> str:
    if mode not in ("auto", "extractive", "llm"):
        raise ValueError(f"mode must be 'auto', 'extractive' or 'llm', not {mode!r}")
    if mode == "llm" and not settings.llm_configured:
        raise LLMError("mode 'llm' needs REPORTQA_LLM_BASE_URL and REPORTQA_LLM_MODEL")
    return "llm" if mode == "llm" or (mode == "auto" and settings.llm_configured) else "extractive"


def _with_scope(filters: Filters | None, follow: FollowUp) -> Filters | None:
    """The user's filters, narrowed to the documents the previous question was scoped to."""
    if not follow.doc_ids:
        return filters
    filters = filters or Filters()
    keep = tuple(d for d in follow.doc_ids if not filters.doc_ids or d in filters.doc_ids)
    return replace(filters, doc_ids=keep or filters.doc_ids)


def _scope_dict(retrieval: Retrieval, follow: FollowUp) -> dict[str, Any]:
    if retrieval.scope is not None:
        scope = retrieval.scope
        return {"doc_ids": list(scope.doc_ids), "matched": scope.matched, "label": scope.label}
    return dict(follow.scope or {})


def _generated_or_fallback(evidence: Evidence, settings: Settings, embedder: Embedder, context_size: int,
                           fallback: bool) -> Generator[str, None, Answer]:
    """The LLM answer; in auto mode, an endpoint failing before its first token falls back to extractive."""
    produced = False
    try:
        for item in generated(evidence, settings, context_size):
            if isinstance(item, Answer):
                return item
            produced = True
            yield item
    except LLMError as error:
        if produced or not fallback:
            raise
        log.warning("falling back to the extractive answer: %s", error)
        result = numbered_by_appearance(extractive(evidence, embedder))
        yield result.text
        return replace(result, reason=f"LLM unavailable ({error}); extractive answer")
    raise LLMError("the LLM stream ended without an answer")


# --- citation numbers ----------------------------------------------------------------------------
def numbered_by_appearance(result: Answer) -> Answer:
    """``result`` with its markers renumbered [1], [2], … in order of first appearance in the text.

    Verification numbers a citation by the passage it quotes, so an answer may read [3], [1]; readers
    expect [1] first. Each citation keeps its passage as ``hit``; numbering twice changes nothing.
    """
    numbers = appearance_numbers(result.text)
    for n in sorted({c.n for c in result.citations} - set(numbers)):  # cited, yet no marker left in the text
        numbers[n] = len(numbers) + 1
    citations = [replace(c, n=numbers[c.n], hit=c.hit or c.n) for c in result.citations]
    return replace(result, text=renumber_markers(result.text, numbers),
                   citations=tuple(sorted(citations, key=lambda c: (c.n, c.start))))


def appearance_numbers(text: str) -> dict[int, int]:
    """Each number cited by a marker of ``text`` → its rank by first appearance (1, 2, …)."""
    order = dict.fromkeys(n for marker in MARKER.finditer(text) for n in parse_markers(marker.group()))
    return {n: rank for rank, n in enumerate(order, start=1)}


def renumber_markers(text: str, numbers: Mapping[int, int] | None = None) -> str:
    """``text`` with every marker's numbers mapped through ``numbers`` (default: by first appearance),
    written one per bracket (``[1, 3]`` → ``[1][2]``). Safe on a partly streamed text."""
    numbers = appearance_numbers(text) if numbers is None else numbers
    return MARKER.sub(lambda m: "".join(f"[{numbers.get(n, n)}]" for n in parse_markers(m.group())), text)


# --- generated ----------------------------------------------------------------------------------
def generated(evidence: Evidence, settings: Settings, context_size: int) -> Iterator[str | Answer]:
    """Stream the LLM's answer over the top ``context_size`` passages, then yield it verified."""
    start = time.perf_counter()
    refused = gate(evidence, "llm")
    if refused is not None:
        yield refused.text
        yield replace(refused, timings_ms={"generate": _ms(time.perf_counter() - start)})
        return
    given = evidence.hits[:context_size]
    parts: list[str] = []
    for delta in stream(settings, build_prompt(evidence.question, given, evidence.lang)):
        parts.append(delta)
        yield delta
    text = "".join(parts).strip()
    generated_at = time.perf_counter()
    if is_refusal(text):
        reason = prompts.REASONS["llm_refused"][evidence.lang].format(count=len(given))
        yield Answer(evidence.question, text, False, hits=evidence.hits, scope=evidence.scope, reason=reason,
                     mode="llm", timings_ms={"generate": _ms(generated_at - start)})
        return
    checked = verify(text, given)
    timings = {"generate": _ms(generated_at - start), "verify": _ms(time.perf_counter() - generated_at)}
    yield Answer(evidence.question, checked.text, True, checked.citations, evidence.hits, evidence.scope,
                 checked.flags, "", "llm", timings)


def is_refusal(text: str) -> bool:
    """Whether a generated answer is (or contains) one of the fixed refusal strings."""
    squeezed = _squeeze(text)
    return any(_squeeze(r) in squeezed for r in prompts.REFUSAL.values())


def _squeeze(text: str) -> str:
    """Models vary spacing, case and the final full stop of the refusal sentence."""
    return re.sub(r"[\s。.!！]", "", text).lower()


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)
