"""Questions in, cited answers out: retrieve, then compose (extractive) or generate (LLM), then verify.

Steps of :func:`answer_stream`: follow-up context → retrieval → evidence gate (refuse when nothing
matched or the best match is too weak) → extractive composition or streamed generation →
verification of every ``[n]``, quote and number → the :class:`~rag.types.Answer`.
Citation numbers are passage numbers: ``[n]`` is ``Answer.hits[n-1]``.
"""

from __future__ import annotations

import logging
import math
import re
import time
from dataclasses import dataclass, field, replace
from difflib import SequenceMatcher
from typing import Any, Iterator

import numpy as np

from rag import prompts
from rag.conversation import Conversation, FollowUp
from rag.embeddings import Embedder
from rag.library import Library
from rag.llm import LLMError, build_prompt, stream
from rag.retrieve import Filters, Retrieval, retrieve
from rag.settings import Settings
from rag.text import number_key, numbers, split_sentences
from rag.types import Answer, Hit, Kind
from rag.verify import content_terms, coverage, missing_terms, units, verify

log = logging.getLogger(__name__)

__all__ = ["answer", "answer_stream", "Evidence", "extractive", "generated", "language", "Conversation"]

HITS_SHOWN = 10  # hits returned with every answer
EXTRACT_CHUNKS = 5  # passages the extractive answer reads (and may cite)
MAX_SENTENCES = 3
# Evidence gate: the best top passage must hold this IDF-weighted share of the question's content words.
# Measured after real ingestion of the reference report: 22 answerable questions >= 0.65, 12 questions
# it cannot answer <= 0.40. English filings separate less well (FinanceBench: see the closing note).
MIN_EVIDENCE = 0.55
MIN_SENTENCE = 0.3  # a sentence must itself contain this share of the question's words to be quoted
KEEP_RATIO = 0.75  # further sentences must score this fraction of the best one
LEXICAL_SLACK = 0.25  # ... and contain nearly as much of the question as the best one
DENSE_READABLE = 0.5  # sentence similarity counts only where the model reads this share of tokens
DENSE_MAX = 12  # sentences embedded per question
_QUANTITY = re.compile(
    r"多少|多大|多长|多久|多高|几[个年月天次家倍]|比例|增速|增长率|占比|规模|"
    r"how (?:much|many|long|large|big)|what (?:percentage|share|amount|portion)|"
    r"\bratio\b|\bmargin\b|\brate\b",
    re.I,
)
_SENTENCE_END = re.compile(r"[。！？.!?；;]\W*$")
_FIGURE_LABEL = re.compile(r"(?:图表|图|表|附图|Figure|Fig\.|Table|Exhibit|Chart)\s*\d+(?:[.-]\d+)*", re.I)
_NAME_NUMBER = re.compile(r"\b[A-Z][A-Za-z\-]*\s?\d+(?:\.\d+)*\b|\b\d+(?:\.\d+)*\s?[A-Z][A-Za-z]*\b")
_PUNCT_SPACE = re.compile(r"[\W_]+")
_LEAD_IN = re.compile(
    r"^[^?？]*[:：]\s*(?=(?:what|which|how|who|when|where|why|is|are|was|were|did|does|do)\b)", re.I
)
_YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")
_LATIN_NAME = re.compile(r"[A-Za-z][A-Za-z0-9.\-]*")


@dataclass(frozen=True)
class Evidence:
    """A question with the passages retrieved for it, and what the answer needs to know about both."""

    question: str
    hits: tuple[Hit, ...]
    lang: str
    terms: tuple[str, ...]
    extra_terms: tuple[str, ...] = ()
    scope: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    empty_reason: str = ""  # Retrieval.reason when there are no hits
    weights: dict[str, float] = field(default_factory=dict, compare=False, hash=False)  # term -> IDF


def make_evidence(question: str, hits: tuple[Hit, ...] | list[Hit], *, extra_terms: tuple[str, ...] = (),
                  scope: dict[str, Any] | None = None, empty_reason: str = "",
                  weights: dict[str, float] | None = None) -> Evidence:
    """Evidence from a question and hits in fused order (used by :func:`answer_stream` and by tests)."""
    terms = content_terms(question_focus(question))
    matched = content_terms((scope or {}).get("matched", ""))
    terms = tuple(t for t in terms if t not in matched) or terms  # the scope already satisfies its name
    return Evidence(question, tuple(hits), language(question), terms, tuple(extra_terms), dict(scope or {}),
                    empty_reason, dict(weights or {}))


def question_focus(question: str) -> str:
    """The interrogative sentence(s) of a question, without instructions around them.

    "Assume you are an analyst. Answer using the balance sheet: what is the FY2018 net PP&E for 3M?
    Round to two decimals." -> "what is the FY2018 net PP&E for 3M?" (instructions name no evidence).
    """
    asked = [s for s in split_sentences(question) if s.rstrip().endswith(("?", "？"))]
    if not asked:
        return question
    focus = " ".join(s.strip() for s in asked)
    lead_in = _LEAD_IN.search(focus)
    return focus[lead_in.end():] if lead_in else focus


def term_weights(library: Library, terms: tuple[str, ...]) -> dict[str, float]:
    """IDF of each term over the library's chunks (the BM25 index's statistics): rare words weigh more.

    A word no chunk contains gets the highest weight, so a question whose specific words are missing
    from the library (目标价, training cost) cannot pass the evidence gate on its common words alone.
    """
    from rag.lexical import open_index
    from rag.lexical import terms as index_terms

    index = open_index(library.store, library.settings.library)
    total = len(index)
    weights = {}
    for term in terms:
        df = int(np.count_nonzero(index.scores(index_terms(term)) > 0)) if total else 0
        weights[term] = math.log((total + 1) / (df + 0.5))
    return weights


def language(question: str) -> str:
    """``"zh"`` for a question written in Chinese (an English one naming 四方科技 stays English)."""
    cjk = len(re.findall(r"[\u4e00-\u9fff]", question))
    english_function_words = len(re.findall(r"\b(?:what|which|how|is|are|was|were|the|of|did|does|do)\b",
                                             question, re.I))
    return "zh" if cjk and english_function_words < 2 else "en"


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

    # 1. follow-up context and retrieval
    follow = conversation.follow_up(question) if conversation else FollowUp(False)
    retrieval = retrieve(library, question, k=max(context_size, HITS_SHOWN),
                         filters=_with_scope(filters, follow), extra_terms=follow.extra_terms)
    evidence = make_evidence(question, retrieval.hits, extra_terms=follow.extra_terms,
                             scope=_scope_dict(retrieval, follow), empty_reason=retrieval.reason)
    if retrieval.hits:
        evidence = replace(evidence, weights=term_weights(library, evidence.terms + evidence.extra_terms))
    retrieved = time.perf_counter()

    # 2. compose or generate (each refuses on weak evidence / says so), verified inside
    if mode == "llm":
        result = yield from _generated_or_fallback(evidence, settings, library.embedder, context_size,
                                                   fallback=requested == "auto")
    else:
        result = extractive(evidence, library.embedder)
        yield result.text

    # 3. the answer, with all hits shown and timings
    timings = {"retrieve": _ms(retrieved - start), **result.timings_ms}
    timings["total"] = _ms(time.perf_counter() - start)
    shown = max(HITS_SHOWN, context_size) if result.mode == "llm" else HITS_SHOWN  # every [n] must resolve
    result = replace(result, hits=retrieval.hits[:shown], timings_ms=timings)
    if conversation is not None:
        conversation.update(question, result)
    yield result


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
                           fallback: bool) -> Iterator[str | Answer]:
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
        result = extractive(evidence, embedder)
        yield result.text
        return replace(result, reason=f"LLM unavailable ({error}); extractive answer")
    raise LLMError("the LLM stream ended without an answer")


# --- refusals -----------------------------------------------------------------------------------
def refusal(evidence: Evidence, key: str, mode: str, **fill: Any) -> Answer:
    """The fixed refusal string of the question's language, followed by the reason ``key``."""
    reason = prompts.REASONS[key][evidence.lang].format(**fill)
    text = prompts.REFUSAL[evidence.lang] + prompts.SENTENCE_JOIN[evidence.lang] + reason
    return Answer(evidence.question, text, False, hits=evidence.hits, scope=evidence.scope, reason=reason,
                  mode=mode)


def gate(evidence: Evidence, mode: str) -> Answer | None:
    """A refusal when nothing was retrieved, or (extractive) when the best passage is too weak; else None."""
    if not evidence.hits:
        if evidence.empty_reason.startswith("filtered out"):
            return refusal(evidence, "filtered_out", mode, scope=evidence.scope.get("label") or "filters")
        return refusal(evidence, "nothing_matched", mode)
    if mode == "llm":
        return None  # the model reads paraphrases and other languages; it refuses by itself
    usable = _usable(evidence)
    if not usable:
        years, names = _required_names(evidence)
        first = _passage_text(evidence.hits[0])
        absent = [y for y in years if y not in first] + [n for n in names if not _mentions(first, n)]
        return refusal(evidence, "entity_missing", mode, missing="、".join(absent))
    best = max((_passage_text(evidence.hits[n - 1]) for n in usable),
               key=lambda t: coverage(evidence.terms, t, evidence.weights))
    covered = coverage(evidence.terms, best, evidence.weights)
    if covered < MIN_EVIDENCE:
        missing = ", ".join(missing_terms(evidence.terms, best)) or "-"
        return refusal(evidence, "too_weak", mode, covered=f"{covered:.0%}", missing=missing)
    return None


def _usable(evidence: Evidence) -> list[int]:
    """Numbers of the top passages that mention the question's years and (one of) its Latin-script names.

    One name suffices: a passage often says "1.5 Pro" under a heading that says "Gemini".
    """
    years, names = _required_names(evidence)
    return [
        n for n, hit in enumerate(evidence.hits[:EXTRACT_CHUNKS], start=1)
        if all(re.search(rf"(?<!\d){y}(?!\d)", _passage_text(hit)) for y in years)
        and (not names or any(_mentions(_passage_text(hit), name) for name in names))
    ]


def _required_names(evidence: Evidence) -> tuple[list[str], list[str]]:
    """Years, and Latin-script names inside a Chinese question, that an answering passage must mention."""
    scoped = evidence.scope.get("matched", "").lower()
    years = [y for y in dict.fromkeys(_YEAR.findall(evidence.question)) if y not in scoped]
    names = _LATIN_NAME.findall(evidence.question) if evidence.lang == "zh" else []
    return years, [n for n in dict.fromkeys(names) if len(n) > 1 and n.lower() not in scoped]


def _mentions(text: str, name: str) -> bool:
    return re.search(r"(?<![A-Za-z0-9])" + re.escape(name) + r"(?![A-Za-z0-9])", text, re.I) is not None


def _passage_text(hit: Hit) -> str:
    """What a passage says with its context: document title, file name, period, section, text."""
    chunk = hit.chunk
    return f"{chunk.title}\n{chunk.source}\n{chunk.meta.get('period', '')}\n{chunk.section}\n{chunk.text}"


# --- extractive ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Sentence:
    n: int  # passage number (rank in the hits)
    start: int
    end: int
    text: str
    score: float = 0.0
    lexical: float = 0.0


def extractive(evidence: Evidence, embedder: Embedder | None = None) -> Answer:
    """1-3 sentences quoted verbatim from the top passages, in reading order, each followed by its [n]."""
    start = time.perf_counter()
    refused = gate(evidence, "extractive")
    if refused is not None:
        return replace(refused, timings_ms={"compose": _ms(time.perf_counter() - start)})
    scored = _score(evidence, _candidates(evidence), embedder)
    asked = {number_key(x) for x in numbers(evidence.question)}
    chosen = _choose(scored, bool(_QUANTITY.search(evidence.question)), asked)
    if not chosen:
        covered = max((c.lexical for c in scored), default=0.0)
        refused = refusal(evidence, "too_weak", "extractive", covered=f"{covered:.0%}", missing="-")
        return replace(refused, timings_ms={"compose": _ms(time.perf_counter() - start)})
    join = prompts.SENTENCE_JOIN[evidence.lang]
    text = join.join(f"{s.text}[{s.n}]" for s in chosen)
    composed = time.perf_counter()
    checked = verify(text, evidence.hits[:EXTRACT_CHUNKS])
    timings = {"compose": _ms(composed - start), "verify": _ms(time.perf_counter() - composed)}
    return Answer(evidence.question, checked.text, True, checked.citations, evidence.hits, evidence.scope,
                  checked.flags, "", "extractive", timings)


def _candidates(evidence: Evidence) -> list[_Sentence]:
    """Quotable sentences of the top passages, without headings and fragments."""
    found: list[_Sentence] = []
    for n in _usable(evidence):
        hit = evidence.hits[n - 1]
        text = hit.chunk.text
        heading = hit.chunk.section.rsplit(">", 1)[-1].strip()
        for start, end in units(text, hit.chunk.kind):
            sentence = text[start:end]
            line_start = text.rfind("\n", 0, start) + 1
            if text[line_start:start].lstrip().startswith("#") or sentence == heading:
                continue
            if len(content_terms(sentence)) < 2 and not numbers(sentence):
                continue
            found.append(_Sentence(n, start, end, sentence))
    return found


def _score(evidence: Evidence, candidates: list[_Sentence], embedder: Embedder | None) -> list[_Sentence]:
    """Term overlap + section match + numbers asked for + passage rank + dense similarity (where readable).

    A follow-up's inherited terms count at half weight beside its own ("and in 2017?" + tax rate).
    """
    quantity = bool(_QUANTITY.search(evidence.question))
    asked = {number_key(x) for x in numbers(evidence.question)}
    terms, weights = _scoring_terms(evidence)
    lexical = [coverage(evidence.terms, c.text, evidence.weights) for c in candidates]
    # only sentences that can be chosen are embedded, the most lexical first (embedding is the slow part)
    eligible = sorted((i for i, x in enumerate(lexical) if x >= MIN_SENTENCE), key=lambda i: -lexical[i])
    dense = _dense_scores(evidence.question, [candidates[i] for i in eligible[:DENSE_MAX]], embedder)
    dense = {eligible[j]: v for j, v in dense.items()}
    scored = []
    for i, c in enumerate(candidates):
        hit = evidence.hits[c.n - 1]
        keys = _answer_numbers(c.text)
        score = (
            coverage(terms, c.text, weights)
            + 0.15 * coverage(evidence.terms, hit.chunk.section, evidence.weights)
            + (0.2 * len(asked & keys) / len(asked) if asked else 0.0)
            + (0.2 if quantity and keys - asked else 0.0)
            + 0.1 * (1 - (c.n - 1) / EXTRACT_CHUNKS)
            + 0.3 * dense.get(i, 0.0)
            - (0.15 if hit.chunk.kind == Kind.BODY and not _SENTENCE_END.search(c.text) else 0.0)
        )
        scored.append(replace(c, score=score, lexical=lexical[i]))
    return scored


def _scoring_terms(evidence: Evidence) -> tuple[tuple[str, ...], dict[str, float]]:
    inherited = tuple(t for t in evidence.extra_terms if t not in evidence.terms)
    weights = {t: evidence.weights.get(t, 1.0) for t in evidence.terms}
    weights.update({t: 0.5 * evidence.weights.get(t, 1.0) for t in inherited})
    return evidence.terms + inherited, weights


def _answer_numbers(text: str) -> set[str]:
    """Number keys that can answer "how much": not figure labels (图表25) or model names (Gemini 1.5 Pro)."""
    return {number_key(x) for x in numbers(_NAME_NUMBER.sub(" ", _FIGURE_LABEL.sub(" ", text)))}


def _dense_scores(question: str, candidates: list[_Sentence], embedder: Embedder | None) -> dict[int, float]:
    """Cosine similarity of question and sentence, only for text the embedding model can read."""
    if embedder is None or not candidates or embedder.readable_share(question) < DENSE_READABLE:
        return {}
    readable = [i for i, c in enumerate(candidates) if embedder.readable_share(c.text) >= DENSE_READABLE]
    if not readable:
        return {}
    vectors = embedder.encode([question] + [candidates[i].text for i in readable])
    sims = vectors[1:] @ vectors[0]
    return {i: float(max(0.0, s)) for i, s in zip(readable, np.asarray(sims))}


def _choose(scored: list[_Sentence], quantity: bool, asked: set[str]) -> list[_Sentence]:
    """Up to three distinct sentences near the best one, then in reading order (passage, offset).

    A "how much" question is answered by sentences that state a number, when one matches as well.
    """
    eligible = sorted((s for s in scored if s.lexical >= MIN_SENTENCE), key=lambda s: -s.score)
    if quantity and eligible:
        floor = max(s.lexical for s in eligible) - LEXICAL_SLACK
        eligible = [s for s in eligible if s.lexical >= floor and _answer_numbers(s.text) - asked] or eligible
    if not eligible:
        return []
    best = eligible[0]
    chosen: list[_Sentence] = []
    for sentence in eligible:
        if sentence.score < KEEP_RATIO * best.score or len(chosen) == MAX_SENTENCES:
            break
        if sentence.lexical >= best.lexical - LEXICAL_SLACK and not any(_same(sentence, o) for o in chosen):
            chosen.append(sentence)
    return sorted(chosen, key=lambda s: (s.n, s.start))


def _same(a: _Sentence, b: _Sentence) -> bool:
    """Near-duplicates: reports repeat their summary in the body, with other punctuation and spacing."""
    x, y = _PUNCT_SPACE.sub("", a.text), _PUNCT_SPACE.sub("", b.text)
    return x in y or y in x or SequenceMatcher(None, x, y, autojunk=False).ratio() >= 0.8


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
