"""Evaluation metrics: pure functions over retrieved hits, answers and page/text-labelled evidence.

Written here rather than taken from llama-index or RAGAS: llama-index labels relevance by node id (lost on
re-chunking) and RAGAS judges with an LLM; neither knows pages, Chinese money units or citations.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePath

import numpy as np

from eval.crossreport import TableScore, score_table, table_summary
from eval.datasets import Evidence, Question
from eval.normalize import (
    canonical,
    covered_chars,
    is_numeric_answer,
    numbers_in,
    overlaps,
    same_quantity,
    words,
)
from eval.normalize import normalize_numbers as normalize_numbers  # re-exported: part of the metrics API
from eval.numeric import figures_in, gold_figures, states
from rag.text import cjk_ratio
from rag.types import Answer, Chunk, Hit

HIT_KS = (1, 3, 5, 10)
RECALL_K = 5
# Formats whose page numbers locate a passage; Markdown, text and HTML files are one page each.
_PAGED_SUFFIXES = frozenset({"", ".pdf"})


# ----- retrieval ----------------------------------------------------------------------------------


def same_document(source: str, doc_id: str, evidence: Evidence) -> bool:
    """Whether a chunk (file name ``source``, content-hash ``doc_id``) belongs to the evidence's document.

    File names compare without directories and case; an evidence file or doc without an extension matches
    the file's stem (FinanceBench's ``doc_name``). Evidence naming neither file nor doc matches any document.
    """
    name = _file_name(source)
    stem = name.rsplit(".", 1)[0] if "." in name else name
    wanted = [w for w in (evidence.file, evidence.doc) if w]
    return not wanted or any(_file_name(w) in (name, stem) or w == doc_id for w in wanted)


def chunk_matches(chunk: Chunk, evidence: Sequence[Evidence]) -> bool:
    """Whether a chunk of the right document covers an evidence page (any page when none are given)."""
    last = max(chunk.page, chunk.page_end)
    return any(
        same_document(chunk.source, chunk.doc_id, ev)
        and (not ev.pages or any(chunk.page <= page <= last for page in ev.pages))
        for ev in evidence
    )


def page_hit_at(hits: Sequence[Hit], evidence: Sequence[Evidence], k: int) -> bool:
    """Whether any of the top ``k`` hits lies on an evidence page of the right document."""
    return any(chunk_matches(hit.chunk, evidence) for hit in hits[:k])


def reciprocal_rank(hits: Sequence[Hit], evidence: Sequence[Evidence]) -> float:
    """1 / rank of the first hit on an evidence page; 0.0 when none is."""
    for rank, hit in enumerate(hits, start=1):
        if chunk_matches(hit.chunk, evidence):
            return 1.0 / rank
    return 0.0


def evidence_recall(hits: Sequence[Hit], evidence: Sequence[Evidence], k: int = RECALL_K) -> float | None:
    """Share of the evidence texts' canonical characters found in the top ``k`` chunks; None without text.

    Character n-gram coverage (see :func:`eval.normalize.covered_chars`) rather than difflib's matching
    blocks: it is linear, it does not depend on the order of the chunks, and evidence split across two
    chunks is covered by both halves.
    """
    references = _references(evidence)
    if not references:
        return None
    texts = [canonical(hit.chunk.text) for hit in hits[:k]]
    return sum(covered_chars(ref, texts) for ref in references) / sum(len(ref) for ref in references)


def text_hit_at(hits: Sequence[Hit], evidence: Sequence[Evidence], k: int) -> bool | None:
    """Whether one of the top ``k`` chunks holds an evidence text: it covers at least half of the text, or the
    text covers at least half of the chunk (a passage over several chunks). None without evidence text.

    The page-free counterpart of :func:`page_hit_at`, for files without pages (Markdown, HTML).
    """
    references = _references(evidence)
    if not references:
        return None
    for hit in hits[:k]:
        text = canonical(hit.chunk.text)
        if text and any(2 * covered_chars(ref, [text]) >= min(len(ref), len(text)) for ref in references):
            return True
    return False


def _references(evidence: Sequence[Evidence]) -> list[str]:
    return [ref for ref in (canonical(ev.text) for ev in evidence if ev.text) if ref]


# ----- answers ------------------------------------------------------------------------------------


def contains_gold(answer_text: str, golds: Iterable[str]) -> bool:
    """Whether the answer states an accepted answer.

    A numeric gold (numbers plus at most a few words: ``$1577.00``, ``100 万个 token``) is stated when each of
    its numbers is among the answer's numbers (see :func:`eval.normalize.same_quantity`): comparing digits
    as text would find ``402`` inside ``2024.02``. Any other gold must occur in the answer as canonical text
    (case, spaces, punctuation and number formatting aside).
    """
    text = canonical(answer_text)
    numbers = numbers_in(answer_text)
    for gold in golds:
        gold_numbers = numbers_in(gold)
        if gold_numbers and is_numeric_answer(gold):
            if all(any(same_quantity(a, g) for a in numbers) for g in gold_numbers):
                return True
        elif canonical(gold) and canonical(gold) in text:
            return True
    return False


def numeric_match(answer_text: str, gold: str, question: str = "") -> bool | None:
    """Whether the answer states the gold's figures; None when the gold holds none (not a figure question).

    The gold's figures are every figure of its first sentence (or line) that holds one, so an explanation
    after it does not count; each must be stated somewhere in the answer. Years, dates, quarters, page and
    list numbers and ``[n]`` markers are not figures, on either side. Units and scales are read (``$1,577
    million``, ``1.577 billion``, ``891.8亿元`` = ``89,184百万元``); a gold printed without a scale takes the
    question's ("in USD millions", "多少元"). A percent gold needs a percent (``0.165`` does not state
    ``16.5%``). Close enough: within 0.5%, or rounding to the gold's last printed digit (``24.257`` states
    ``24.26``, ``1.87%`` states ``1.9%``). See :mod:`eval.numeric` for the rules in full.
    """
    wanted = gold_figures(gold, question)
    if not wanted:
        return None
    found = figures_in(answer_text)
    return all(any(states(figure, want) for figure in found) for want in wanted)


def char_f1(prediction: str, gold: str) -> float:
    """F1 over the multisets of canonical characters (the usual measure for Chinese answers)."""
    return _f1(list(canonical(prediction)), list(canonical(gold)))


def token_f1(prediction: str, gold: str) -> float:
    """F1 over lower-cased words with numbers canonical and articles dropped (SQuAD style, for English)."""
    return _f1(words(prediction), words(gold))


def answer_f1(answer_text: str, golds: Sequence[str], lang: str | None = None) -> float:
    """Best F1 over the accepted answers: char F1 for Chinese, token F1 otherwise; lang detected when None."""
    if not golds:
        return 0.0
    if lang is None:
        lang = "zh" if cjk_ratio(" ".join(golds) + answer_text) >= 0.3 else "en"
    measure = char_f1 if lang.startswith("zh") else token_f1
    return max(measure(answer_text, gold) for gold in golds)


def _f1(prediction: list[str], gold: list[str]) -> float:
    if not prediction or not gold:
        return float(prediction == gold)
    common = sum((Counter(prediction) & Counter(gold)).values())
    if not common:
        return 0.0
    precision, recall = common / len(prediction), common / len(gold)
    return 2 * precision * recall / (precision + recall)


# ----- citations ----------------------------------------------------------------------------------


def citation_precision(answer: Answer, evidence: Sequence[Evidence]) -> float | None:
    """Share of citations whose quote overlaps an evidence text or lies on an evidence page of the right
    document; None when the answer cites nothing.

    Pages count only for paged files (PDF, or evidence naming no file extension): in a Markdown or HTML file
    every passage is on page 1, so there only the quote decides.
    """
    if not answer.citations:
        return None
    texts = _references(evidence)
    good = 0
    for citation in answer.citations:
        quote = canonical(citation.quote)
        on_text = bool(quote) and any(overlaps(quote, text) for text in texts)
        on_page = any(
            paged(ev)
            and same_document(citation.source, citation.doc_id, ev)
            and (not ev.pages or citation.page in ev.pages)
            for ev in evidence
        )
        good += on_text or on_page
    return good / len(answer.citations)


def numbers_supported(answer: Answer, chunk_texts: Mapping[str, str] | None = None) -> bool:
    """Whether every number in the answer text (``[n]`` markers aside) occurs in some cited chunk.

    ``chunk_texts`` maps chunk id to text; by default the answer's own hits. A cited chunk missing from the
    mapping contributes its quote only.
    """
    wanted = numbers_in(answer.text)
    if not wanted:
        return True
    texts = chunk_texts if chunk_texts is not None else {h.chunk.chunk_id: h.chunk.text for h in answer.hits}
    found = [q for c in answer.citations for q in numbers_in(texts.get(c.chunk_id, c.quote))]
    return all(any(same_quantity(number, other) for other in found) for number in wanted)


def paged(evidence: Evidence) -> bool:
    """Whether the evidence's file has pages that locate a passage (PDF); Markdown, text, HTML do not."""
    return not evidence.file or PurePath(_file_name(evidence.file)).suffix in _PAGED_SUFFIXES


# ----- rows, refusals and the summary -------------------------------------------------------------


@dataclass(frozen=True)
class Scores:
    """Per-question scores; None where a metric does not apply (retrieval on unanswerable questions, ...)."""

    hit_at: tuple[bool, ...] | None  # one per HIT_KS
    text_hit_at: tuple[bool, ...] | None  # one per HIT_KS; None without evidence text
    reciprocal_rank: float | None
    evidence_recall: float | None
    contains_gold: bool | None
    numeric: bool | None  # numeric match; None unless the first accepted answer holds a figure
    f1: float | None
    citation_precision: float | None
    numbers_supported: bool | None
    refused: bool
    latency_ms: float | None
    table: TableScore | None = None  # a cross-report question's table scores (eval.crossreport)


@dataclass(frozen=True)
class EvalRow:
    """One evaluated question: the labels, what the system answered, and the scores."""

    question: Question
    answer: Answer
    scores: Scores


@dataclass(frozen=True)
class RefusalStats:
    """Refusals reported apart from errors: right on unanswerable questions, wrong on answerable ones."""

    unanswerable: int
    correct_refusals: int
    answerable: int
    wrong_refusals: int

    @property
    def correct_refusal_rate(self) -> float | None:
        return self.correct_refusals / self.unanswerable if self.unanswerable else None

    @property
    def wrong_refusal_rate(self) -> float | None:
        return self.wrong_refusals / self.answerable if self.answerable else None


def score(
    question: Question, answer: Answer, hits: Sequence[Hit] | None = None, latency_ms: float | None = None
) -> EvalRow:
    """Score one answer. ``hits`` default to the answer's hits, latency to ``answer.timings_ms["total"]``.

    Retrieval and citation metrics apply to answerable questions with evidence; a refusal of an answerable
    question scores contains-gold False and F1 0; numeric match applies to answerable questions whose first
    accepted answer (the key fact) holds a figure, and is True when any accepted answer's figures are stated;
    numbers-supported applies to every answer given; table scores to questions that expect a table.
    """
    hits = answer.hits if hits is None else hits
    labelled = question.answerable and bool(question.evidence)
    answered = answer.answerable
    scores = Scores(
        hit_at=tuple(page_hit_at(hits, question.evidence, k) for k in HIT_KS) if labelled else None,
        text_hit_at=_text_hits(hits, question.evidence) if labelled else None,
        reciprocal_rank=reciprocal_rank(hits, question.evidence) if labelled else None,
        evidence_recall=evidence_recall(hits, question.evidence) if labelled else None,
        contains_gold=answered and contains_gold(answer.text, question.answers)
        if question.answerable
        else None,
        numeric=_numeric(question, answer) if question.answerable else None,
        f1=(answer_f1(answer.text, question.answers, question.lang) if answered else 0.0)
        if question.answerable
        else None,
        citation_precision=citation_precision(answer, question.evidence) if labelled and answered else None,
        numbers_supported=numbers_supported(answer) if answered else None,
        refused=not answered,
        latency_ms=answer.timings_ms.get("total") if latency_ms is None else latency_ms,
        table=score_table(question.table, answer) if question.table is not None else None,
    )
    return EvalRow(question=question, answer=answer, scores=scores)


def _numeric(question: Question, answer: Answer) -> bool | None:
    golds = question.answers
    if not golds or not gold_figures(golds[0], question.question):
        return None
    return answer.answerable and any(numeric_match(answer.text, g, question.question) for g in golds)


def _text_hits(hits: Sequence[Hit], evidence: Sequence[Evidence]) -> tuple[bool, ...] | None:
    if not _references(evidence):
        return None
    return tuple(bool(text_hit_at(hits, evidence, k)) for k in HIT_KS)


def refusal_stats(rows: Iterable[EvalRow]) -> RefusalStats:
    """Count correct refusals (unanswerable, refused) and wrong refusals (answerable, refused)."""
    rows = list(rows)
    unanswerable = [r for r in rows if not r.question.answerable]
    answerable = [r for r in rows if r.question.answerable]
    return RefusalStats(
        unanswerable=len(unanswerable),
        correct_refusals=sum(not r.answer.answerable for r in unanswerable),
        answerable=len(answerable),
        wrong_refusals=sum(not r.answer.answerable for r in answerable),
    )


def percentile(values: Iterable[float], p: float) -> float | None:
    """The ``p``-th percentile (0–100, linear interpolation as numpy does); None for no values."""
    values = list(values)
    return float(np.percentile(values, p)) if values else None


def summarize(rows: Sequence[EvalRow]) -> dict[str, float | int | None]:
    """Aggregate metrics: means over the rows where each metric applies (None where none does)."""
    scores = [r.scores for r in rows]
    summary: dict[str, float | int | None] = {
        "questions": len(rows),
        "answerable": sum(r.question.answerable for r in rows),
    }
    for i, k in enumerate(HIT_KS):
        summary[f"hit@{k}"] = _mean(s.hit_at[i] for s in scores if s.hit_at is not None)
    for i, k in enumerate(HIT_KS):
        summary[f"text_hit@{k}"] = _mean(s.text_hit_at[i] for s in scores if s.text_hit_at is not None)
    summary["mrr"] = _mean(s.reciprocal_rank for s in scores)
    summary[f"evidence_recall@{RECALL_K}"] = _mean(s.evidence_recall for s in scores)
    summary["contains_gold"] = _mean(s.contains_gold for s in scores)
    summary["numeric_match"] = _mean(s.numeric for s in scores)
    summary["figure_questions"] = sum(s.numeric is not None for s in scores)
    summary["f1"] = _mean(s.f1 for s in scores)
    summary["citation_precision"] = _mean(s.citation_precision for s in scores)
    summary["numbers_supported"] = _mean(s.numbers_supported for s in scores)
    refusals = refusal_stats(rows)
    summary["correct_refusals"] = refusals.correct_refusal_rate
    summary["wrong_refusals"] = refusals.wrong_refusal_rate
    latencies = [s.latency_ms for s in scores if s.latency_ms is not None]
    summary["latency_p50_ms"] = percentile(latencies, 50)
    summary["latency_p95_ms"] = percentile(latencies, 95)
    tables = [s for s in scores if s.table is not None]
    summary.update(table_summary([s.table for s in tables if s.table is not None],
                                 [s.latency_ms for s in tables if s.latency_ms is not None]))
    return summary


def _mean(values: Iterable[float | bool | None]) -> float | None:
    present = [float(v) for v in values if v is not None]
    return sum(present) / len(present) if present else None


def _file_name(value: str) -> str:
    return re.split(r"[\\/]", value)[-1].casefold()
