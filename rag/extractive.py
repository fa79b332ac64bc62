"""The extractive answer: 1-3 sentences quoted verbatim from the top passages, each followed by its ``[n]``.

Sentences are chosen by term overlap (jieba/English content words, IDF-weighted), the numbers the question
asks for, the passage's section and rank, and dense similarity where the embedding model can read the
text; they are composed in reading order and verified. Needs no LLM. Hand-written: no library picks
answer sentences from Chinese report passages with exact spans.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, replace
from difflib import SequenceMatcher
from functools import cache, partial

import numpy as np

from rag import prompts
from rag.conversation import entities
from rag.embeddings import Embedder
from rag.evidence import (
    EXTRACT_CHUNKS,
    MIN_SIMILARITY,
    READABLE,
    Evidence,
    credited,
    field_labels,
    gate,
    named_rows_of,
    question_focus,
    refusal,
    usable,
)
from rag.lexicon import rendered_in, said_otherwise
from rag.tables import NamedRow
from rag.terms import YEAR, content_terms, key_terms, language, months
from rag.text import NUMBER, nouns, number_key, numbers
from rag.types import Answer, Kind
from rag.verify import coverage, missing_terms, units, verify

__all__ = ["asks_quantity", "best_similarity", "extractive"]

MAX_SENTENCES = 3
NAMED_CELL = 1.0  # a table row the question names under a column it names states the cell asked: quoted first
MIN_SENTENCE = 0.3  # a sentence must itself contain this share of the question's words to be quoted
KEEP_RATIO = 0.75  # further sentences must score this fraction of the best one
LEXICAL_SLACK = 0.25  # ... and contain nearly as much of the question as the best one
# Sentences embedded per question, the most lexical first, each by its first DENSE_CHARS characters in
# batches of DENSE_BATCH: embedding is most of an English answer's time (~0.25 ms per token on 2 cores).
# On the FinanceBench dev questions 8 × 240 chose the same sentences as 12 whole ones in under half the time;
# 8 × 200 gives every answer of FinanceBench dev and dev2, the reference and broker sets and the off-topic
# set as 8 × 240 did, while 8 × 170, 6 × 200 and 6 × 160 each lost an answer (docs/benchmarks.md).
DENSE_MAX, DENSE_CHARS, DENSE_BATCH = 8, 200, 4
_QUANTITY = re.compile(
    r"多少|多大|多长|多久|多高|几[个年月天次家倍]|比例|增速|增长率|占比|规模|"
    r"how (?:much|many|long|large|big)|what (?:percentage|share|amount|portion)|"
    r"\bratio\b|\bmargin\b|\brate\b",
    re.I,
)
# "How many / how much" asks for a number: sentences that state none do not answer it ("公司在日本有多少名员工？"
# answered with a sentence about a Japanese partner). Narrower than _QUANTITY: "what drove the margin" may be
# answered in words.
_COUNT = re.compile(r"多少|(?<!哪)几[个名家位次项倍年月天]|how (?:much|many)\b", re.I)  # 哪几个 asks which ones
_STATES_NUMBER = re.compile(
    r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozen|hundred|thousand|million|billion)"
    r"\b|[零一二两三四五六七八九十百千万亿]+[个名家位次项倍年月天人元股台件款种条只]", re.I)
# A date answers "when", not "how many": "2026年一季报预计披露家数" states no count of 家.
_DATE = re.compile(r"(?<!\d)(?:(?:19|20)\d{2}\s*(?:年|[-/.]\d{1,2}(?:[-/.]\d{1,2})?(?!\d))(?:\s*\d{1,2}\s*月(?:\s*\d{1,2}\s*[日号])?)?"
                   r"|\d{1,2}\s*月(?:\s*\d{1,2}\s*[日号])?)")
# So does a year after a word for when: "during the course of 2026 and 2027", "by 2030" (not "has 2000 soldiers").
_WHEN_YEAR = re.compile(r"\b((?:in|during|by|since|until|through|from|to|and|of|for|between|before|after|end)\s+)"
                        r"(?:19|20)\d{2}\b(?![-.,]?\d)", re.I)
# The clauses of a Chinese sentence: what its commas, semicolons and stops separate ("30,000" is one number).
_CLAUSE = re.compile(r"[，；;。？?！!]|,(?!\d)")
_PERIOD_TERM = re.compile(r"[\d.]+[年月日号%]?|\d[qh]\d{2}|fy\d{2,4}|\d{2,4}[ea]", re.I)  # 2025年, 4q25, fy27, 26e
# "第一大客户", "最大的供应商": the first of a kind; "前五名客户", "前十大股东": a top-N group of it.
_FIRST_OF = re.compile(r"(?:第一大|最大的?)(?P<noun>[\u4e00-\u9fff]{2,3}?)(?=的|是|为|有|[，。？?]|$)")
_TOP_N = re.compile(r"前\s*[二三四五六七八九十两\d]+\s*[名大位家]")
_FIRST = re.compile(r"第一大|第一名|最大|首位|榜首|居首")
_WITHHELD = re.compile(r"未披露|未公布|未公开|未透露|不予披露")  # a report saying it does not have the figure
_ASKS_DATE = re.compile(r"几月|哪[一个]?月|几[日号]|哪[一]?天|什么时候|\bwhen\b|\bwhat (?:date|month|day)\b", re.I)
# "1、", "(2)", "3." opening a line, and "1) …; 2) …", "：（1）…" numbering items inside one
_LIST_MARKER = re.compile(r"^\s*(?:[(（]?\d{1,2}[)）、]|\d{1,2}\.(?!\d))|(?:(?<=[：:；;，,。])|(?<=[：:；;，,。]\s))[(（]?\d{1,2}[)）]"
                          r"(?=\s*[^\W\d])", re.M)
_SENTENCE_END = re.compile(r"[。！？.!?；;]\W*$")
_FIGURE_LABEL = re.compile(r"(?:图表|图|表|附图|Figure|Fig\.|Table|Exhibit|Chart)\s*\d+(?:[.-]\d+)*", re.I)
_NAME_NUMBER = re.compile(r"\b[A-Z][A-Za-z\-]*\s?\d+(?:\.\d+)*\b|\b\d+(?:\.\d+)*\s?[A-Z][A-Za-z]*\b")
_PUNCT_SPACE = re.compile(r"[\W_]+")
# A sentence that opens so elaborates the one before it: the example, the consequence or the list that the
# question asks for ("例如, 一个人咬一口饼干…" after "Sora 可能无法理解…因果关系。"). It shares few of the
# question's words, so it is quoted after the sentence it continues rather than chosen by itself.
_ELABORATION = re.compile(
    r"(?:例如|比如|譬如|诸如|这意味着|这表明|也就是说|换言之|也即|即[，,：:]|具体(?:来说|而言|地说)|"
    r"for (?:example|instance)\b|e\.g\.|such as\b|this means\b|that is,|specifically\b|in particular\b)",
    re.I,
)
# A chart's axis in the text layer: AXIS_TICKS or more numbers in a row, evenly spaced ("0 1000 2000 3000 4000",
# "106% 107% 108% 109% 110%", "2023-01 2023-05 2023-09 …"). Ticks are no text: a sentence is cut where they stand,
# so the words around a chart ("…本次版号数量为133个。") are quoted without them, and the chart's legend alone.
_TICK = re.compile(r"(?<![\w.])(?:(?P<year>(?:19|20)\d{2})-(?P<month>\d{2})|-?\d+(?:,\d{3})*(?:\.\d+)?%?)(?![\w.])")
AXIS_TICKS = 5
MONTHS_STATED = 3  # "2025年12月-2026年2月上海二手住宅成交均价…" states months; twenty in a row are an axis
# A page's machine-readable stamp ("rQrOsNtRpOmPtQoOrNqPoQ9PbP7NpNn…", a watermark in the text layer) is no sentence.
_SCRAMBLED = re.compile(r"\b(?=\w*[a-z])(?=\w*[A-Z])[A-Za-z0-9]{30,}\b")


def asks_quantity(evidence: Evidence) -> bool:
    """Whether the question (or, for a follow-up like "那 Sora 呢？", the one it continues) asks how much."""
    return _asks(evidence, _QUANTITY)


def _asks(evidence: Evidence, pattern: re.Pattern[str]) -> bool:
    """Whether the question, or for a follow-up the one it continues, says ``pattern``."""
    return any(pattern.search(q) for q in (evidence.question, evidence.previous) if q)


@dataclass(frozen=True)
class _Sentence:
    n: int  # passage number (rank in the hits)
    start: int
    end: int
    text: str
    labels: str = ""  # metadata field words the sentence states a value of (评级 for 强于大市)
    cell: NamedRow | None = None  # the table row the question names under a column it names, if it is one
    renderable: tuple[str, ...] = ()  # question words its passage says in the other language (rag.lexicon)
    lexical: float = 0.0  # weighted share of the question's key terms it contains
    dense: float | None = None  # cosine with the question; None where not embedded (unreadable text)
    score: float = 0.0

    @property
    def matched(self) -> str:
        """What the sentence offers to term matching: its words and the fields it states."""
        return f"{self.text} {self.labels}" if self.labels else self.text

    @property
    def quotable(self) -> bool:
        """Holds enough of the question's words, or (where the model reads it) is close in meaning, or is the
        table row the question names under a column it names."""
        return self.lexical >= MIN_SENTENCE or (self.dense or 0.0) >= MIN_SIMILARITY or self.cell is not None


def extractive(evidence: Evidence, embedder: Embedder | None = None) -> Answer:
    """1-3 sentences quoted verbatim from the top passages, in reading order, each followed by its [n]."""
    start = time.perf_counter()
    candidates = _candidates(evidence)
    # embedded at most once, and only when the gate or the scoring needs it (embedding is the slow part)
    similar = cache(partial(_with_dense, evidence, candidates, embedder))
    refused = gate(evidence, "extractive", lambda: _best_dense(similar()))
    if refused is not None:
        return replace(refused, timings_ms={"compose": _ms(time.perf_counter() - start)})
    scored = _score(evidence, similar())
    asked = {number_key(x) for x in numbers(evidence.question)}
    quantity = asks_quantity(evidence)
    chosen = _headed(_choose(scored, quantity, asked), candidates)
    if not quantity:  # a figure is answered by the sentence stating it; a list, an example, a reason may follow it
        chosen = _elaborated(chosen, candidates, evidence)
    elif not any(_states_number(s.text, asked, dates=_asks(evidence, _ASKS_DATE)) for s in chosen):
        chosen = _detailed(chosen, candidates, evidence, asked)
    if not chosen:
        covered = max((c.lexical for c in scored), default=0.0)
        refused = refusal(evidence, "too_weak", "extractive", covered=f"{covered:.0%}", missing="-")
        return replace(refused, timings_ms={"compose": _ms(time.perf_counter() - start)})
    refused = _unanswered(evidence, chosen, asked)
    if refused is not None:
        return replace(refused, timings_ms={"compose": _ms(time.perf_counter() - start)})
    join = prompts.SENTENCE_JOIN[evidence.lang]
    text = join.join(f"{s.text}[{s.n}]" for s in chosen)
    composed = time.perf_counter()
    checked = verify(text, evidence.hits[:EXTRACT_CHUNKS])
    timings = {"compose": _ms(composed - start), "verify": _ms(time.perf_counter() - composed)}
    return Answer(evidence.question, checked.text, True, checked.citations, evidence.hits, evidence.scope,
                  checked.flags, _topic_note(evidence, chosen), "extractive", timings)


def _unanswered(evidence: Evidence, chosen: list[_Sentence], asked: set[str]) -> Answer | None:
    """The refusal when the chosen sentences match the question without answering it: they speak of a top-N group
    where it asks for the first; or, asked how much, they state no number, none for the measure asked, or say
    that it is not disclosed. None when they answer."""
    first, group = _group_only(chosen, evidence.question)
    if group:
        return refusal(evidence, "group_only", "extractive", asked=first, said=group)
    if not _asks(evidence, _COUNT):
        return None
    dates, (measure, phrase) = _asks(evidence, _ASKS_DATE), _measure(evidence.question)
    if not any(_states_number(s.text, asked, dates=dates) for s in chosen):
        return refusal(evidence, "no_number", "extractive")
    if measure and not any(_states_measure(s, measure, asked, dates) for s in chosen):
        return refusal(evidence, "no_figure_of", "extractive", measure=phrase)
    if measure and (withheld := _withheld(chosen, measure, evidence.question)):
        return refusal(evidence, "withheld", "extractive", said=withheld)
    return None


def _group_only(chosen: list[_Sentence], question: str) -> tuple[str, str]:
    """The first the question asks for ("第一大客户") and the top-N group the chosen sentences speak of instead
    ("前五名客户": an annual report's concentration disclosure), when no clause that names the noun says which is
    first; ("", "") otherwise."""
    match = _FIRST_OF.search(question)
    if match is None:
        return "", ""
    noun = match["noun"]
    clauses = [c for s in chosen for c in _CLAUSE.split(s.text) if noun in c]
    groups = [g.group() + noun * c[g.end():].lstrip().startswith(noun) for c in clauses
              if (g := _TOP_N.search(c)) and noun in c[g.start():]]
    if not groups or any(_FIRST.search(c) for c in clauses):
        return "", ""
    return match.group(), groups[0]


def best_similarity(evidence: Evidence, embedder: Embedder | None) -> float | None:
    """The gate's similarity: the best cosine of the question with a candidate sentence (None: unreadable)."""
    return _best_dense(_with_dense(evidence, _candidates(evidence), embedder))


def _best_dense(candidates: list[_Sentence]) -> float | None:
    return max((c.dense for c in candidates if c.dense is not None), default=None)


def _candidates(evidence: Evidence) -> list[_Sentence]:
    """Quotable sentences of the top passages (without headings and fragments), with their term overlap."""
    found: list[_Sentence] = []
    scoring = _scoring_terms(evidence)[0]
    for n in usable(evidence):
        hit = evidence.hits[n - 1]
        text = hit.chunk.text
        heading = hit.chunk.section.rsplit(">", 1)[-1].strip()
        # the words a sentence may say in the other language: those its passage renders (checked once)
        renderable = rendered_in(scoring, f"{text}\n{field_labels(hit.chunk, text, evidence.question)}",
                                 evidence.lang)
        cells = {row.line: row for row in named_rows_of(hit.chunk, evidence.question)}
        for start, end in [*(piece for unit in units(text, hit.chunk.kind) for piece in _around_axes(text, *unit)),
                           *_row_spans(text, cells)]:
            sentence = text[start:end]
            line_start = text.rfind("\n", 0, start) + 1
            if text[line_start:start].lstrip().startswith("#") or sentence == heading:
                continue
            if len(content_terms(sentence)) < 2 and not numbers(sentence) or _SCRAMBLED.search(sentence):
                continue
            found.append(_Sentence(n, start, end, sentence, field_labels(hit.chunk, sentence, evidence.question),
                                   renderable=renderable, cell=cells.get(sentence)))
    return [replace(c, lexical=credited(evidence.terms, c.matched, evidence.lang, evidence.weights, c.renderable))
            for c in found]


def _row_spans(text: str, cells: dict[str, NamedRow]) -> list[tuple[int, int]]:
    """The spans of the named rows that a passage's sentences run together with their neighbours (a table
    set in a passage of prose: its units are not its lines)."""
    return [(at, at + len(line)) for line in cells if (at := text.find(line)) >= 0]


def _around_axes(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The spans of ``text[start:end]`` left when its chart axes (:data:`_TICK` runs) are cut out, trimmed."""
    ticks = list(_TICK.finditer(text, start, end))
    values = [_tick(t) for t in ticks]
    # joined[i]: only blanks between tick i - 1 and tick i
    joined = [i > 0 and not text[ticks[i - 1].end():ticks[i].start()].strip() for i in range(len(ticks))]
    cuts: list[tuple[int, int]] = []
    first = 0
    for i in range(1, len(ticks) + 1):
        if i < len(ticks) and joined[i] and (
                i - first < 2 or values[i] - values[i - 1] == values[i - 1] - values[i - 2] != 0):
            continue  # the run goes on at the same step
        if i - first >= AXIS_TICKS:
            cuts.append((ticks[first].start(), ticks[i - 1].end()))
            first = i
        else:  # the step changed: a new run may start at the tick before
            first = i - 1 if i < len(ticks) and joined[i] else i
    pieces, at = [], start
    for a, b in [*cuts, (end, end)]:
        piece = text[at:a]
        lead = len(piece) - len(piece.lstrip())
        if piece.strip():
            pieces.append((at + lead, at + len(piece.rstrip())))
        at = b
    return pieces


def _tick(match: re.Match[str]) -> float:
    """An axis label's value: a number, or a month as months since year 0 ("2023-05")."""
    if match["year"]:
        return int(match["year"]) * 12 + int(match["month"])
    return round(float(match.group().replace(",", "").rstrip("%")), 6)


def _with_dense(evidence: Evidence, candidates: list[_Sentence], embedder: Embedder | None
                ) -> list[_Sentence]:
    """The candidates with their cosine to the question: the :data:`DENSE_MAX` most lexical sentences of
    passages the model can read (:data:`~rag.evidence.READABLE`), the others left at None."""
    focus = question_focus(evidence.question)
    if embedder is None or not candidates or embedder.readable_share(focus) < READABLE:
        return candidates
    readable = {n for n in {c.n for c in candidates}
                if embedder.readable_share(evidence.hits[n - 1].chunk.text) >= READABLE}
    in_readable = [i for i, c in enumerate(candidates) if c.n in readable]
    order = sorted(in_readable, key=lambda i: -candidates[i].lexical)
    order = order[:DENSE_MAX]
    if not order:
        return candidates
    vectors = embedder.encode([candidates[i].text[:DENSE_CHARS] for i in order], DENSE_BATCH)
    out = list(candidates)
    for i, similarity in zip(order, np.asarray(vectors @ embedder.encode_one(focus))):
        out[i] = replace(out[i], dense=max(0.0, float(similarity)))
    return out


def _score(evidence: Evidence, candidates: list[_Sentence]) -> list[_Sentence]:
    """Term overlap + section match + numbers asked for + the month asked for, however printed + passage rank +
    dense similarity (where readable) + the metadata field asked for (a sentence stating the report's rating
    answers "评级").

    A follow-up's inherited terms count at half weight beside its own ("and in 2017?" + tax rate).
    """
    quantity = asks_quantity(evidence)
    asked = {number_key(x) for x in numbers(evidence.question)}
    asked_months = months(evidence.question)  # "August 2025" is printed 08/14/2025 in a target history
    terms, weights = _scoring_terms(evidence)
    scored = []
    for c in candidates:
        hit = evidence.hits[c.n - 1]
        keys = _answer_numbers(c.text)
        score = (
            credited(terms, c.matched, evidence.lang, weights, c.renderable)
            + 0.15 * coverage(evidence.terms, hit.chunk.section, evidence.weights)
            + (0.2 * len(asked & keys) / len(asked) if asked else 0.0)
            + (0.2 if quantity and keys - asked else 0.0)
            + (0.2 if asked_months and _states_month(c.text, asked_months) else 0.0)
            + 0.1 * (1 - (c.n - 1) / EXTRACT_CHUNKS)
            + 0.3 * (c.dense or 0.0)
            + (0.3 if set(c.labels.split()) & set(evidence.terms) else 0.0)  # states the field asked for
            + (NAMED_CELL if c.cell is not None else 0.0)
            - (0.15 if hit.chunk.kind == Kind.BODY and not _SENTENCE_END.search(c.text) else 0.0)
        )
        scored.append(replace(c, score=score))
    return scored


def _states_month(text: str, asked: set[tuple[int, int]]) -> bool:
    """Whether ``text`` states an asked month, among at most MONTHS_STATED: a run of months is a chart's axis."""
    said = months(text)
    return bool(said & asked) and len(said) <= MONTHS_STATED


def _scoring_terms(evidence: Evidence) -> tuple[tuple[str, ...], dict[str, float]]:
    """The key terms and the framing words (a sentence saying 最高 answers "最高能到多少" best), then the inherited."""
    own = evidence.terms + evidence.framing
    inherited = tuple(t for t in evidence.extra_terms if t not in own)
    weights = {t: evidence.weights.get(t, 1.0) for t in own}
    weights.update({t: 0.5 * evidence.weights.get(t, 1.0) for t in inherited})
    return own + inherited, weights


def _states_number(text: str, asked: set[str] | None = None, *, dates: bool = True) -> bool:
    """Whether a sentence states a quantity: not a list marker ("1、冷冻设备行业") nor a figure's label
    ("图2：市场对美伊停火时间的预期"), which number a list or a chart and state none, nor a number the question
    says itself (``asked``, :func:`rag.text.number_key`), nor a date unless ``dates`` (the question asks when)."""
    bare = _FIGURE_LABEL.sub(" ", _LIST_MARKER.sub("", text))
    if not dates:
        bare = _WHEN_YEAR.sub(r"\1 ", _DATE.sub(" ", bare))
    if asked:
        bare = NUMBER.sub(lambda m: " " if number_key(m.group().lstrip("$")) in asked else m.group(), bare)
    return _STATES_NUMBER.search(bare) is not None


def _measure(question: str) -> tuple[tuple[str, ...], str]:
    """What a Chinese question asks the number of: the key terms (no periods) of its clause that asks how much,
    or of the nearest clause before it that names something (a noun: "…哪一项能力，提升了多少？" asks the rise of
    the 能力); and the words of the clause they span. "…那截至4月3日两融市场平均担保比例具体是多少？" → (两融, 市场,
    平均, 担保, 比例), "两融市场平均担保比例". Nothing for an English question (its clauses are not marked so) or
    one that asks no amount."""
    if language(question) != "zh":
        return (), ""
    clauses = _CLAUSE.split(question)
    keys = [t for t in key_terms(question) if not _PERIOD_TERM.fullmatch(t)]
    asking = next((i for i, clause in enumerate(clauses) if _COUNT.search(clause)), None)
    if asking is None:
        return (), ""
    for clause in reversed(clauses[: asking + 1]):
        lowered = clause.casefold()
        said = tuple(t for t in keys if t in lowered)
        named = nouns(clause) if said else frozenset()
        if any(t in w or w in t for t in said for w in named):
            first = min(lowered.find(t) for t in said)
            last = max(lowered.find(t) + len(t) for t in said)
            return said, clause[first:last].strip()
    return (), ""


def _states_measure(sentence: _Sentence, measure: tuple[str, ...], asked: set[str], dates: bool) -> bool:
    """Whether a clause of ``sentence`` names the measure and states a number: "融资担保比例仍明显高于2025年上半年
    水平" names 担保比例 and states none, "融资余额为2.58万亿" states one of another measure. A table row is one
    clause, its column headers naming what its numbers are; a measure said in English names it too."""
    rendered = tuple(t for t in measure if t in sentence.renderable)  # "Speech recognition" names 语音识别

    def names(text: str) -> bool:
        return any(t in text.casefold() for t in measure) or bool(rendered and said_otherwise(rendered, text, "zh"))

    if sentence.cell is not None or sentence.labels:
        return names(sentence.matched) and _states_number(sentence.text, asked, dates=dates)
    return any(names(clause) and _states_number(clause, asked, dates=dates) for clause in _CLAUSE.split(sentence.text))


def _withheld(chosen: list[_Sentence], measure: tuple[str, ...], question: str) -> str:
    """The clause (or a line of it) of a chosen sentence that says the measure is not disclosed for the question's
    years ("2024年新签11台套（金额未披露）" for the 2024 amount; not for 2023's), else ""."""
    years = set(YEAR.findall(question))
    for sentence in chosen:
        for clause in (line for part in _CLAUSE.split(sentence.text) for line in part.splitlines()):
            said = set(YEAR.findall(clause))
            if (_WITHHELD.search(clause) and any(t in clause.casefold() for t in measure)
                    and (not said or years <= said)):
                return clause.strip()
    return ""


def _answer_numbers(text: str) -> set[str]:
    """Number keys that can answer "how much": not figure labels (图表25) or model names (Gemini 1.5 Pro)."""
    return {number_key(x) for x in numbers(_NAME_NUMBER.sub(" ", _FIGURE_LABEL.sub(" ", text)))}


def _choose(scored: list[_Sentence], quantity: bool, asked: set[str]) -> list[_Sentence]:
    """Up to three distinct sentences near the best one, then in reading order (passage, offset).

    A "how much" question is answered by sentences that state a number, when one matches as well.
    """
    eligible = sorted((s for s in scored if s.quotable), key=lambda s: -s.score)
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


def _headed(chosen: list[_Sentence], candidates: list[_Sentence]) -> list[_Sentence]:
    """The chosen sentences, each table row the question names preceded by its table's header line, when that is
    quotable text of its passage and not quoted already: "计算机 75.75 … 3.99 …" reads as an answer under
    "行业名称 PE(TTM)(倍) … PB(LF)(倍) …"."""
    out: list[_Sentence] = []
    for sentence in chosen:
        if sentence.cell is not None:
            header = next((c for c in candidates if c.n == sentence.n and c.start < sentence.start
                           and c.text.strip() == sentence.cell.header), None)
            if header is not None and header not in chosen and header not in out:
                out.append(header)
        out.append(sentence)
    return out


def _detailed(chosen: list[_Sentence], candidates: list[_Sentence], evidence: Evidence, asked: set[str]
              ) -> list[_Sentence]:
    """The chosen sentences, each followed by the first later sentence of its passage, within its list item, that
    says a key word of the question the chosen one lacks and states a number: an item's heading names the subject,
    its details the figures ("1.南通四方罐式储运设备制造有限公司 公司全资子公司。" then "…营业收入：人民币789,365,006.01元…")."""
    dates = _asks(evidence, _ASKS_DATE)
    out = list(chosen)
    for sentence in chosen:
        lacking = [t for t in evidence.terms if t not in sentence.text.casefold() and not _PERIOD_TERM.fullmatch(t)]
        later = sorted((c for c in candidates if c.n == sentence.n and c.start >= sentence.end), key=lambda c: c.start)
        for candidate in later:
            if _LIST_MARKER.match(candidate.text):
                break  # the next item of the list
            if any(t in candidate.text.casefold() for t in lacking) and _states_number(candidate.text, asked, dates=dates):
                if not any((o.n, o.start) == (candidate.n, candidate.start) for o in out):  # quoted once
                    out.insert(out.index(sentence) + 1, candidate)
                break
    return out


def _elaborated(chosen: list[_Sentence], candidates: list[_Sentence], evidence: Evidence) -> list[_Sentence]:
    """The chosen sentences, each followed by the sentence that elaborates it (:data:`_ELABORATION`) in the
    same paragraph of its passage, when not quoted already."""
    out: list[_Sentence] = []
    for sentence in chosen:
        out.append(sentence)
        text = evidence.hits[sentence.n - 1].chunk.text
        following = min((c for c in candidates if c.n == sentence.n and c.start >= sentence.end),
                        key=lambda c: c.start, default=None)
        if (following is not None and "\n\n" not in text[sentence.end:following.start]
                and _ELABORATION.match(following.text.lstrip(" *#-•")) and following not in chosen
                and not any(_same(following, o) for o in out)):
            out.append(following)
    return out


def _topic_note(evidence: Evidence, chosen: list[_Sentence]) -> str:
    """For a follow-up that changed the subject: say so when the quoted passages miss the inherited topic.

    "那 Sora 呢？" after a question on Gemini's context window is answered with what the report says about
    Sora; when none of it mentions 上下文窗口, the answer says that the topic was not found for Sora.
    """
    topic = tuple(t for t in evidence.extra_terms if t not in evidence.terms)
    if not evidence.previous or not topic:
        return ""
    quoted = "\n".join(f"{evidence.hits[s.n - 1].chunk.section}\n{s.text}" for s in chosen)
    if coverage(topic, quoted) > 0:
        return ""
    subject = "、".join(entities(evidence.question) or evidence.terms) or "-"
    missing = ", ".join(missing_terms(topic, quoted))
    return prompts.REASONS["topic_missing"][evidence.lang].format(subject=subject, missing=missing)


def _same(a: _Sentence, b: _Sentence) -> bool:
    """Near-duplicates: reports repeat their summary in the body, with other punctuation and spacing."""
    x, y = _PUNCT_SPACE.sub("", a.text), _PUNCT_SPACE.sub("", b.text)
    return x in y or y in x or SequenceMatcher(None, x, y, autojunk=False).ratio() >= 0.8


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)
