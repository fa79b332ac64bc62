"""The evidence a question was retrieved with, and the gate that refuses to answer from weak evidence.

A question is refused when nothing matched, when the scope filtered everything out, when the top
passages never mention a year or name the question requires, or when the best passage covers too little
of the question's IDF-weighted key terms (see :func:`gate`). Hand-written: the rule and its thresholds
are calibrated on our own question sets, which no library knows.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from rag import prompts
from rag.conversation import entities
from rag.lexicon import said_otherwise
from rag.library import Library
from rag.tables import NamedRow, named_rows
from rag.terms import (
    YEAR,
    Place,
    content_terms,
    finance_terms,
    framed_terms,
    key_terms,
    language,
    places,
    quarters,
    question_focus,
    says_quarter,
    says_year,
    subject,
    unnamed_terms,
)
from rag.types import Answer, Chunk, Hit, Kind
from rag.verify import coverage, missing_terms

__all__ = ["EXTRACT_CHUNKS", "Evidence", "credited", "Strength", "Thresholds", "field_labels", "gate", "key_terms",
           "language", "make_evidence", "mentions", "named_rows_of", "passage_text", "passes", "question_focus",
           "refusal", "strength", "term_stats", "unknown_subject", "usable"]

EXTRACT_CHUNKS = 5  # passages the extractive answer reads (and may cite)
# Evidence gate, fitted by ``python -m eval.fit_gate`` (docs/results.md, "Fitting the gate") on the
# calibration half of eight question sets and the off-topic set asked of four libraries: the best top
# passage must hold MIN_EVIDENCE of the question's IDF-weighted key terms, or MIN_DENSE_COVERAGE where the
# model reads question and passage (READABLE share of their tokens known to it: ~1.0 for English under
# all-MiniLM-L6-v2, 0.2-0.7 for Chinese) and a sentence of the top passages reaches MIN_SIMILARITY cosine.
MIN_EVIDENCE = 0.55
MIN_DENSE_COVERAGE = 0.2
MIN_SIMILARITY = 0.4
READABLE = 0.9
# The share of a key word's weight that a passage earns by saying it in the other language only (a
# dictionary sense is weaker evidence than the word itself). Fitted with the gate (eval.fit_gate).
RENDERED = 1.0
# Report metadata that ingestion found, and the words a question uses for it: a passage quoting the value
# ("投资建议：强于大市（维持）") answers "评级" although the report labels the value otherwise.
FIELD_WORDS = {"rating": ("评级", "投资评级", "rating")}
_LATIN_NAME = re.compile(r"[A-Za-z][A-Za-z0-9.\-]*")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Evidence:
    """A question with the passages retrieved for it, and what the answer needs to know about both.

    ``previous`` is the question a follow-up continues ("那 Sora 呢？" asks it again about Sora).
    """

    question: str
    hits: tuple[Hit, ...]
    lang: str
    terms: tuple[str, ...]
    extra_terms: tuple[str, ...] = ()
    scope: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    empty_reason: str = ""  # Retrieval.reason when there are no hits
    weights: dict[str, float] = field(default_factory=dict, compare=False, hash=False)  # term -> IDF
    previous: str = ""
    unseen: tuple[str, ...] = ()  # terms no chunk of the library contains
    framing: tuple[str, ...] = ()  # words that frame the question (最长, 截至): evidence where a passage says them


def make_evidence(question: str, hits: tuple[Hit, ...] | list[Hit], *, extra_terms: tuple[str, ...] = (),
                  scope: dict[str, Any] | None = None, empty_reason: str = "",
                  weights: dict[str, float] | None = None, previous: str = "") -> Evidence:
    """Evidence from a question and hits in fused order (used by :func:`answer_stream` and by tests)."""
    terms, framing = framed_terms(question_focus(question))
    terms = unnamed_terms(terms, (scope or {}).get("matched", ""))  # the scope already satisfies its name
    return Evidence(question, tuple(hits), language(question), terms, tuple(extra_terms), dict(scope or {}),
                    empty_reason, dict(weights or {}), previous, framing=framing)


def term_stats(library: Library, terms: tuple[str, ...]) -> tuple[dict[str, float], tuple[str, ...]]:
    """IDF of each term over the library's chunks, and the terms no chunk has
    (:meth:`rag.index.SearchIndex.term_weights`)."""
    from rag.index import open_index

    return open_index(library.store, library.settings.library).term_weights(terms)


def refusal(evidence: Evidence, key: str, mode: str, **fill: Any) -> Answer:
    """The fixed refusal string of the question's language, followed by the reason ``key``."""
    reason = prompts.REASONS[key][evidence.lang].format(**fill)
    text = prompts.REFUSAL[evidence.lang] + prompts.SENTENCE_JOIN[evidence.lang] + reason
    return Answer(evidence.question, text, False, hits=evidence.hits, scope=evidence.scope, reason=reason,
                  mode=mode)


# The best cosine of the question with a sentence of the top passages, computed only when needed.
Similarity = Callable[[], float | None]


@dataclass(frozen=True)
class Thresholds:
    """When the extractive answer trusts its evidence (fitted: docs/results.md, "Fitting the gate").

    The best top passage must cover ``evidence`` of the question's IDF-weighted key terms, or cover
    ``dense_coverage`` and hold a sentence whose cosine with the question reaches ``similarity`` (where the
    model reads both). The floor keeps a question whose key words are mostly absent refused however
    similar its topic.
    """

    evidence: float = MIN_EVIDENCE
    dense_coverage: float = MIN_DENSE_COVERAGE
    similarity: float = MIN_SIMILARITY


@dataclass(frozen=True)
class Strength:
    """What the gate measured: a hard reason to refuse (``"entity_missing"`` with the missing names), or
    the best passage's weighted coverage and, when asked for, the best sentence similarity."""

    covered: float = 0.0
    missing: str = ""  # names or years the passages lack (hard refusal), "" when none
    best: str = ""  # the best-covering passage's text
    similarity: Similarity | None = None


def strength(evidence: Evidence, similarity: Similarity | None = None) -> Strength:
    """:class:`Strength` of non-empty evidence: missing names/years first, else the best coverage."""
    join = "、" if evidence.lang == "zh" else ", "
    found = usable(evidence)
    unknown = unknown_names(evidence)
    if unknown or not found:
        years, names = required_names(evidence)
        first, asked = passage_text(evidence.hits[0]), quarters(evidence.question)
        meta = evidence.hits[0].chunk.meta
        absent = ([y for y in years if not _says_year(first, y, meta, asked)] + [n for n in names if not mentions(first, n)]
                  + [p.as_named_in(evidence.question) for p in required_places(evidence) if not p.named_in(first)])
        return Strength(missing=join.join(unknown or absent) or "-")
    texts = [passage_text(evidence.hits[n - 1], evidence.question) for n in found]
    covered, best = max(((_coverage(evidence, t), t) for t in texts), key=lambda p: p[0])
    return Strength(covered, "", best, similarity)


def _coverage(evidence: Evidence, text: str) -> float:
    """Weighted coverage of the key terms in ``text`` (:func:`credited`), counting the framing words that
    ``text`` says too ("截至4月3日" for 截至): absent, they cost nothing."""
    return credited(evidence.terms + _framing_said(evidence, text), text, evidence.lang, evidence.weights)


def credited(terms: tuple[str, ...], text: str, lang: str, weights: dict[str, float] | None = None,
             renderable: tuple[str, ...] | None = None) -> float:
    """Weighted coverage of ``terms`` in ``text``, where a word ``text`` says only in the other language
    ("Speech recognition" for 语音识别, :func:`rag.lexicon.said_otherwise`; ``lang`` is the question's)
    earns :data:`RENDERED` of its weight. ``renderable`` narrows the words tried so (a sentence's: those
    its passage says so); None tries them all."""
    plain = coverage(terms, text, weights)
    tried = terms if renderable is None else tuple(t for t in terms if t in renderable)
    rendered = said_otherwise(tried, text, lang) if plain < 1 and tried else ()
    if not rendered:
        return plain
    return plain + RENDERED * (coverage(terms, f"{text}\n{' '.join(rendered)}", weights) - plain)


def _framing_said(evidence: Evidence, text: str) -> tuple[str, ...]:
    """The question's framing words (最高, 截至) that ``text`` says."""
    lowered = text.lower()
    return tuple(f for f in evidence.framing if f in lowered)


def passes(measured: Strength, thresholds: Thresholds) -> bool:
    """Whether measured evidence is strong enough under ``thresholds``."""
    if measured.missing:
        return False
    if measured.covered >= thresholds.evidence:
        return True
    return measured.covered >= thresholds.dense_coverage and _close(measured.similarity, thresholds.similarity)


def gate(evidence: Evidence, mode: str, similarity: Similarity | None = None,
         thresholds: Thresholds | None = None) -> Answer | None:
    """A refusal when nothing was retrieved, or (extractive) when the evidence is too weak; else None.

    Too weak: an English question names something the library never mentions (Tesla); the top passages
    miss a year or a Latin name the question requires; or the best passage fails :class:`Thresholds`.
    ``similarity()`` is the best cosine of the question with a sentence of the top passages (None where
    the model cannot read them), computed only when the coverage alone does not decide.
    """
    if not evidence.hits:
        if evidence.empty_reason.startswith("filtered out"):
            return refusal(evidence, "filtered_out", mode, scope=evidence.scope.get("label") or "filters")
        return refusal(evidence, "nothing_matched", mode)
    absent = unknown_subject(evidence)
    if absent:  # asked about a company the library has nothing on, in either mode
        return refusal(evidence, "not_in_library", mode, missing=absent)
    if mode == "llm":
        return None  # the model reads paraphrases and other languages; it refuses by itself
    measured = strength(evidence, similarity)
    if measured.missing:
        return refusal(evidence, "entity_missing", mode, missing=measured.missing)
    if passes(measured, thresholds or Thresholds()):
        return None
    missing = ", ".join(missing_terms(evidence.terms, measured.best)) or "-"
    return refusal(evidence, "too_weak", mode, covered=f"{measured.covered:.0%}", missing=missing)


def _close(similarity: Similarity | None, floor: float) -> bool:
    value = similarity() if similarity else None
    return value is not None and value >= floor


def unknown_subject(evidence: Evidence) -> str:
    """The company the question is about (:func:`rag.terms.subject`) when the library cannot know it: no
    document is scoped to it and one of its words occurs in no chunk ("Home Depot's", "海螺水泥2018年")."""
    name = subject(evidence.question)
    if not name or evidence.scope.get("doc_ids"):
        return ""
    words = [w for w in content_terms(name) if w in evidence.terms]
    return name if any(w in evidence.unseen for w in words) else ""


def unknown_names(evidence: Evidence) -> list[str]:
    """Names in an English question (Tesla, GPT-5, Pop Mart) that no chunk of the library contains, scope
    aside: no chunk holds a name one of whose words it never holds ("Mart" alone occurs, "Pop" nowhere). A
    capitalised finance phrase ("Adjusted EBIT") is no name: a filing may print the figure in other words.
    Nor is one that a top passage writes in Chinese (Apollo 11 as 阿波罗11号: :func:`rag.lexicon.said_otherwise`)."""
    if evidence.lang != "en":
        return []
    scoped = evidence.scope.get("matched", "").lower()
    unknown = []
    top = ""  # the top passages' text, joined only for a name with a word no chunk holds
    for name in entities(question_focus(evidence.question)):
        words = content_terms(name)
        unseen = tuple(w for w in words if w in evidence.unseen)
        if not (words and unseen and name.lower() not in scoped and not finance_terms(name)):
            continue
        top = top or "\n".join(hit.chunk.text for hit in evidence.hits[:EXTRACT_CHUNKS])
        if len(said_otherwise(unseen, top, "en")) < len(unseen):
            unknown.append(name)
    return unknown


_ANNUAL_PERIOD = re.compile(r"(?:FY)?((?:19|20)\d{2})")  # a full year: "2019", "FY2022" (not "2019H1")
_PRIOR_YEAR = re.compile(r"上期|上年|去年|上一年度?|\b(?:prior|previous|last)[- ]year\b", re.I)


def usable(evidence: Evidence) -> list[int]:
    """Numbers of the top passages that mention the question's years, (one of) its Latin-script names and
    each place it restricts to.

    One name suffices: a passage often says "1.5 Pro" under a heading that says "Gemini".
    """
    years, names = required_names(evidence)
    where = required_places(evidence)
    if not (years or names or where):
        return list(range(1, len(evidence.hits[:EXTRACT_CHUNKS]) + 1))
    hits = evidence.hits[:EXTRACT_CHUNKS]
    texts = [passage_text(hit) for hit in hits]  # each passage's once
    asked = quarters(evidence.question)
    return [
        n for n, (hit, text) in enumerate(zip(hits, texts, strict=True), start=1)
        if all(_says_year(text, y, hit.chunk.meta, asked) for y in years)
        and (not names or any(mentions(text, name) for name in names))
        and all(place.named_in(text) for place in where)
    ]


def _says_year(text: str, year: str, meta: dict[str, str], asked: tuple[tuple[str, int], ...] = ()) -> bool:
    """Whether a passage (``meta``: its chunk's) speaks of ``year``: it prints it (:func:`rag.terms.says_year`:
    "26E" too); it is of the annual report for the year after and speaks of the prior year (a 2019 report's column
    "上期发生额" holds 2018); or it is of a report dated in that year and names a quarter the question asks of it
    without a year ("预计二季度 GDP 同比增长4.8%" in a report of April 2026, asked about 2026年二季度)."""
    if says_year(text, year):
        return True
    annual = _ANNUAL_PERIOD.fullmatch(meta.get("period") or "")
    if annual and int(annual.group(1)) == int(year) + 1 and _PRIOR_YEAR.search(text):
        return True
    return (meta.get("date") or "")[:4] == year and any(
        y == year and says_quarter(text, q) for y, q in asked)


def required_places(evidence: Evidence) -> list[Place]:
    """Places the question restricts to ("How many stores in Canada"): a passage that names none of a
    place's forms answers for somewhere else (a home market's: one that says abroad or worldwide,
    :meth:`rag.terms.Place.named_in`). A place inside the scoped name (Air Canada) restricts nothing."""
    scoped = evidence.scope.get("matched", "")
    return [p for p in places(question_focus(evidence.question)) if not p.said_in(scoped)]


def required_names(evidence: Evidence) -> tuple[list[str], list[str]]:
    """Years, and Latin-script names inside a Chinese question, that an answering passage must mention."""
    scoped = evidence.scope.get("matched", "").lower()
    years = [y for y in dict.fromkeys(YEAR.findall(evidence.question)) if y not in scoped]
    names = _LATIN_NAME.findall(evidence.question) if evidence.lang == "zh" else []
    return years, [n for n in dict.fromkeys(names) if len(n) > 1 and n.lower() not in scoped]


def mentions(text: str, name: str) -> bool:
    """Whether ``text`` names ``name`` as a whole word (any case): "Sora", not "Soran"."""
    return re.search(r"(?<![A-Za-z0-9])" + re.escape(name) + r"(?![A-Za-z0-9])", text, re.I) is not None


def passage_text(hit: Hit, question: str = "") -> str:
    """What a passage says with its context: title, file name, period, section, text, metadata it states,
    and the question's finance words it says in other words (:func:`field_labels`)."""
    chunk = hit.chunk
    return (f"{chunk.title}\n{chunk.source}\n{chunk.meta.get('period', '')}\n{chunk.section}\n{chunk.text}"
            f"\n{field_labels(chunk, chunk.text, question)}")


def field_labels(chunk: Chunk, text: str, question: str = "") -> str:
    """The :data:`FIELD_WORDS` of the document's metadata values that ``text`` (part of ``chunk``) states, the
    column headers of a table row in it that the question names (:func:`named_rows_of`), and the words
    ``question`` uses for a finance term that ``text`` prints otherwise: "资本开支" for a passage saying
    "Purchases of property, plant and equipment", "revenue" for one saying "营业收入"."""
    squeezed = _SPACE.sub("", text)
    labels = [
        word for name, words in FIELD_WORDS.items()
        if (value := _SPACE.sub("", chunk.meta.get(name, ""))) and value in squeezed
        for word in words
    ]
    labels += [row.columns for row in named_rows_of(chunk, question) if row.line in text]
    if question:
        lowered, asked = text.casefold(), question.casefold()
        for term in finance_terms(question):
            if any(phrase.casefold() in lowered for phrase in term.phrases):
                labels += [phrase for phrase in term.asked if phrase.casefold() in asked
                           and phrase.casefold() not in lowered]
    return " ".join(labels)


def named_rows_of(chunk: Chunk, question: str) -> tuple[NamedRow, ...]:
    """The rows of a chunk that ``question`` names under a column it names (:func:`rag.tables.named_rows`): of a
    table chunk, or of a passage that sets a table amid its prose (a broker's SOTP under its paragraph); none for
    figures and boilerplate."""
    return _named_rows(chunk.text, question) if question and chunk.kind in (Kind.TABLE, Kind.BODY) else ()


@lru_cache(maxsize=64)
def _named_rows(text: str, question: str) -> tuple[NamedRow, ...]:
    return named_rows(text, question, key_terms(question))
