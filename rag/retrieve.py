"""Hybrid retrieval: dense + lexical (BM25) lists, filtered, scoped, fused by weighted RRF.

Steps: resolve filters to documents → detect the scope the question names → one mask over the search
index's rows → dense list → BM25 list → weighted reciprocal rank fusion → the fused chunks (kept by the
index) → (optional cross-encoder rerank) → hits with per-retriever ranks. Only documents with a record are
visible: chunks of half-written documents never come back.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from rag.index import SearchIndex, open_index, terms
from rag.lexicon import renderings
from rag.library import Library
from rag.tables import named_rows
from rag.terms import (
    BROKER_NICKNAMES,
    QUESTION_WORDS,
    YEAR,
    Query,
    analyze,
    asks_standing_text,
    content_terms,
    is_mostly_cjk,
    key_terms,
    quarters,
    unnamed_terms,
    vocabulary,
)
from rag.text import cjk_ratio, squeeze
from rag.types import Chunk, Document, Hit, Kind
from rag.verify import coverage

RRF_K = 60
RESCORED = 5  # fused chunks re-ordered by their coverage of the question's key terms (Ranking.coverage)
MIN_DENSE_WEIGHT = 0.01
READABLE_QUESTION = 0.9  # share of a question's tokens the model must know for its dense list to count
DEFAULT_KINDS = (Kind.BODY, Kind.FIGURE, Kind.TABLE)
_DATE = re.compile(  # year, then optional month and day behind 1-3 separator characters (年, -, ". ")
    r"((?:19|20)\d{2})(?:\D{1,3}(1[0-2]|0?[1-9])(?!\d)(?:\D{1,3}(3[01]|[12]\d|0?[1-9])(?!\d))?)?"
)
_RERANK_POOL = 30  # fused candidates a cross-encoder re-scores

__all__ = [
    "Filters", "Ranking", "Retrieval", "Scope", "detect_scope", "fuse", "fusion_weights", "query_terms", "retrieve",
]


@dataclass(frozen=True)
class Filters:
    """Restrictions chosen by the user; boilerplate is excluded unless ``kinds`` asks for it."""

    doc_ids: tuple[str, ...] = ()
    publishers: tuple[str, ...] = ()
    date_from: str | None = None  # "YYYY-MM-DD" or "YYYY-MM", compared with document meta "date"
    date_to: str | None = None
    kinds: tuple[Kind, ...] = DEFAULT_KINDS


@dataclass(frozen=True)
class Ranking:
    """How the ranked lists are weighed in fusion (fitted: see docs/results.md, "Fitting the ranking").

    BM25 over chunks weighs 1. ``dense`` multiplies the dense list's readability weight
    (:func:`fusion_weights`); ``page`` weighs the page lists (a chunk ranked by its page's score: the best
    chunk of the page plus ``page_rest`` times the others) against the chunk lists; ``expansion`` weighs
    the finance vocabulary's phrases in the question's language that it did not say against its own words
    (``translation`` those in the other language: a Chinese question about an English filing has no other
    words that can match); a chunk on a page of a statement that prints what the question asks (a capex
    question: the cash flow statement) has its BM25 score raised by the share ``statement``; a figure chunk (a
    chart's caption and source line) has its BM25 score multiplied by ``caption`` unless the question names a
    figure ("图表13", "Exhibit 4"): a caption repeats the words of the passage it illustrates in a few
    characters, so it outranks that passage, yet states no more than its title; a chunk of a report for a
    quarter the question names ("Q2 of FY2024": the 10-Q for it) has its BM25 score raised by the share
    ``period``; ``lexicon`` weighs, for each word of the question's own language, its renderings in the other
    language (:mod:`rag.lexicon`: "generated" → 生成, 视频理解 → "video understanding"), best rendering per word;
    the first :data:`RESCORED` fused chunks are re-ordered by their fused score plus ``coverage`` times their
    weighted coverage of the question's key terms, plus ``heading`` for the chunk that opens a section the
    question names (:func:`opens_named_section`) (:func:`_by_coverage`; the top five stay the top five); with
    ``cell``, a table chunk holding a row the question names under a column it names comes first
    (:func:`_named_cell_first`).
    """

    dense: float = 0.5
    page: float = 0.5
    page_rest: float = 0.0
    expansion: float = 0.3
    statement: float = 0.25
    translation: float = 1.0  # the vocabulary's phrases in the other language (营业收入 ⇄ net sales)
    caption: float = 0.5  # BM25 of a figure's caption, unless the question names a figure
    period: float = 0.5  # BM25 of the reports for a quarter the question names
    lexicon: float = 0.1  # each question word's renderings in the other language (rag.lexicon)
    focus: bool = True  # search with the question's interrogative sentences, not its instructions
    coverage: float = 0.1  # fitted in the eleventh round (docs/results.md, "Fitting the ranking")
    cell: bool = True  # a table chunk with a row the question names under a column it names comes first
    heading: float = 0.1  # fitted in the twelfth round (docs/results.md, "Fitting the ranking")


@dataclass(frozen=True)
class Scope:
    """The documents a question was restricted to, and the name in it that caused that."""

    doc_ids: tuple[str, ...]
    matched: str  # the name found, e.g. "3M" or "四方科技"
    field: str  # where the library knows it from: company / publisher / title / source
    label: str  # the scoped documents' titles, for display
    spans: tuple[str, ...] = ()  # what of the question names them ("银河证券", "大类资产周报"), longest first

    def unnamed(self, question: str) -> str:
        """The question without the words that name the scoped reports: inside them, those discriminate
        nothing, and their cover page says them all."""
        for span in self.spans:
            question = question.replace(span, " ")
        return question


@dataclass(frozen=True)
class Retrieval:
    """Hits in fused order (``Hit.ranks``: 1-based rank in each list that had the chunk), and how they came.

    ``reason`` is "" or why nothing came back: "empty library", "nothing matched",
    "filtered out by scope" or "filtered out by filters".
    """

    hits: tuple[Hit, ...]
    scope: Scope | None
    weights: dict[str, float] = field(compare=False, hash=False)
    reason: str = ""
    timings_ms: dict[str, float] = field(default_factory=dict, compare=False, hash=False)


def retrieve(
    library: Library,
    question: str,
    k: int = 10,
    filters: Filters | None = None,
    auto_scope: bool = True,
    extra_terms: Sequence[str] = (),
    ranking: Ranking | None = None,
) -> Retrieval:
    """The ``k`` best chunks for ``question``; ``extra_terms`` (from a conversation) feed BM25 only.

    One state of the library throughout: its version is read once (:meth:`rag.store.Store.one_version`).
    """
    with library.store.one_version():
        return _retrieve(library, question, k, filters or Filters(), auto_scope, extra_terms, ranking or Ranking())


def _retrieve(library: Library, question: str, k: int, filters: Filters, auto_scope: bool,
              extra_terms: Sequence[str], ranking: Ranking) -> Retrieval:
    clock = _Clock()
    documents = library.store.documents()
    weights = fusion_weights(library, question)
    if not documents:
        return Retrieval((), None, weights, "empty library", clock.done())

    query = analyze(question)
    asked = query.focus if ranking.focus else question
    # the question is embedded meanwhile (skipped when the model cannot read it)
    embedding = library.embedder.encode_one_soon(asked) if weights["dense"] > 0 else None

    # 1. documents the filters allow, narrowed to the scope the question names
    allowed = [d for d in documents if _passes(d, filters)]
    scope = detect_scope(question, allowed) if auto_scope else None
    visible = set(scope.doc_ids) if scope else {d.doc_id for d in allowed}
    restrict = None if len(visible) == len(documents) else visible
    clock.lap("scope")
    if not visible:
        return Retrieval((), scope, weights, "filtered out by filters", clock.done())

    # 2. chunk and page scores over the same rows; the question's finance terms widen the lexical query
    depth = max(50, 3 * k)
    index = open_index(library.store, library.settings.library)
    kinds = filters.kinds
    if kinds == DEFAULT_KINDS and asks_standing_text(question):  # what ratings mean: the rating definitions
        kinds = (*kinds, Kind.BOILERPLATE)
    mask = index.mask(restrict, kinds)
    clock.lap("index")
    searched = asked
    own = query_terms(searched)
    inherited = [t for extra in extra_terms for t in terms(extra)]
    if scope is not None:  # inside the scoped documents their own names discriminate nothing
        named = set(terms(scope.matched))
        searched = scope.unnamed(asked)
        own = [t for t in query_terms(searched) if t not in named] or own
        inherited = [t for t in inherited if t not in named]
    own += [w for w in index.rejoined(searched) if w not in own]  # 时长, which jieba cut in the question only
    tokens = own + inherited
    lexical = _in_period(index, _lexical(index, tokens, query, ranking), query, allowed, ranking.period)
    captioned = _named_figures_first(index, lexical, question, mask)
    figure_named, lexical = captioned is not lexical, captioned
    clock.lap("bm25")
    dense = None
    if embedding is not None:
        vector = embedding.result()
        clock.lap("embed")
        dense = index.dense_scores(vector, mask & index.readable_rows(library.embedder.reads))
    clock.lap("dense")

    # 3. weighted RRF of chunk and page lists, one chunk per page first, optional rerank
    lists = {"bm25": index.best(lexical, depth, mask),
             "page_bm25": index.best(_by_page(index, lexical, ranking.page_rest), depth, mask)}
    if dense is not None:
        lists["dense"] = index.best(dense, depth, mask)
        lists["page_dense"] = index.best(_by_page(index, dense, 0.0), depth, mask)
    fused = fuse({name: [cid for cid, _ in found] for name, found in lists.items()}, {
        "bm25": 1.0, "page_bm25": ranking.page, "dense": weights["dense"] * ranking.dense,
        "page_dense": weights["dense"] * ranking.dense * ranking.page})
    fused = _one_per_page(index, [f for f in fused if f[1] > 0])
    keys = unnamed_terms(key_terms(asked), scope.matched if scope else "")  # its name is satisfied already
    if ranking.coverage and fused and not figure_named:  # a figure named by its label stays first
        fused = _by_coverage(index, fused, asked, keys, ranking.coverage, ranking.heading)
    if ranking.cell and fused and not figure_named:
        fused = _named_cell_first(index, fused, asked, keys)
    clock.lap("fuse")
    reranker = library.settings.reranker
    pool = fused[: max(_RERANK_POOL if reranker else 0, k)]
    chunks = {c.chunk_id: c for c in index.chunks([cid for cid, _, _ in pool])}
    hits = [Hit(chunks[cid], score, ranks) for cid, score, ranks in pool if cid in chunks]
    clock.lap("fetch")
    if reranker and hits:
        from rag.rerank import rerank

        hits = rerank(reranker, question, hits)
        clock.lap("rerank")
    reason = "" if hits else _why_empty(index, tokens, scope)
    weights = {"dense": weights["dense"] * ranking.dense, "bm25": 1.0}
    return Retrieval(tuple(hits[:k]), scope, weights, reason, clock.done())


def _by_coverage(index: SearchIndex, fused: list[tuple[str, float, dict[str, int]]], question: str,
                 keys: tuple[str, ...], weight: float, heading: float = 0.0
                 ) -> list[tuple[str, float, dict[str, int]]]:
    """The first :data:`RESCORED` of ``fused`` in the order of their fused score (as a share of the first's)
    plus ``weight`` times the IDF-weighted share of the question's key terms that their heading and text say
    (``keys``; :func:`rag.verify.coverage`, as the evidence gate reads them), plus ``heading`` where the chunk opens a
    section the question names; each page's first chunk still before any page's second; the rest as they were.

    Reciprocal rank fusion knows ranks only: a chunk first in the dense list and fourth in BM25's outranks
    the one BM25 put first, although only the latter says the question's rarest word ("WACC", 弱点).
    """
    idf = index.term_weights(keys)[0]
    head = fused[:RESCORED]
    chunks = {c.chunk_id: c for c in index.chunks([cid for cid, _, _ in head])}
    texts = {cid: f"{c.section}\n{c.text}" for cid, c in chunks.items()}
    said = squeeze(question)
    named = {cid: heading * opens_named_section(c, said) for cid, c in chunks.items()}
    first = head[0][1]
    order = sorted(head, key=lambda f: -(f[1] / first + weight * coverage(keys, texts.get(f[0], ""), idf)
                                         + named.get(f[0], 0.0)))
    return _one_per_page(index, order) + fused[RESCORED:]


# What opens a heading before its words: markdown marks and bullets, "1.2.3", "二、", "(三)", "第四节"
_HEADING_MARK = re.compile(r"^(?:[\s#>*➤►•·◼⚫■□]+|\d{1,2}(?:\.\d{1,2})*[.、．)）]?|[一二三四五六七八九十]{1,3}[、.．]"
                           r"|[(（][一二三四五六七八九十\d]{1,3}[)）]|第[一二三四五六七八九十百零\d]{1,4}[章节部分篇])+")
HEADING_CHARS = 4  # a shorter heading ("概况", "电网") names no place in a report


def opens_named_section(chunk: Chunk, said: str) -> bool:
    """Whether ``chunk`` opens a section whose heading the question (``said``, :func:`rag.text.squeeze`d) says:
    "Sora 的视频压缩网络是怎么工作的？" and the section "➤ 视频压缩网络". A heading of :data:`HEADING_CHARS`
    characters at least, not part of the report's title (a report's first heading often repeats it); the
    section's later chunks are not its opening."""
    own = squeeze(_HEADING_MARK.sub("", chunk.section.rsplit(">", 1)[-1]))
    if len(own) < HEADING_CHARS or own not in said or own in squeeze(chunk.meta.get("title", "")):
        return False
    return squeeze(_HEADING_MARK.sub("", chunk.text.lstrip()[: len(chunk.section) + 20])).startswith(own)


CELL_POOL = 30  # fused chunks searched for a table row the question names (Ranking.cell)


def _named_cell_first(index: SearchIndex, fused: list[tuple[str, float, dict[str, int]]], question: str,
                      keys: tuple[str, ...]) -> list[tuple[str, float, dict[str, int]]]:
    """``fused`` with the table chunk of its first :data:`CELL_POOL` that holds a row the question names under a
    column it names (:func:`rag.tables.named_rows`: "计算机行业的PB(LF)估值" and the row 计算机 under PB(LF))
    moved first: the cell answers the question, though a long table scores low in BM25. Of several, the one
    whose row label says most of the question ("直接材料、燃料和动力" before "研发费用"), then the best ranked."""
    pool = fused[:CELL_POOL]
    tables = [c for c in index.chunks([cid for cid, _, _ in pool]) if c.kind == Kind.TABLE]
    named = {c.chunk_id: max(len(row.label) for row in rows)
             for c in tables if (rows := named_rows(c.text, question, keys))}
    if not named:
        return fused
    best = max(range(len(pool)), key=lambda i: (named.get(pool[i][0], 0), -i))  # the longest label asked
    return [pool[best], *fused[:best], *fused[best + 1:]]


def query_terms(question: str) -> list[str]:
    """BM25 terms of a question without its phrasing words (可以, 多长, according, report).

    They name no evidence, yet where a report repeats the subject's words in every chunk (Sora, 生成, 视频)
    they are the rarest terms left and decide the ranking ("可以" put five passages without the answer
    ahead of the one saying "长达 60s").
    """
    found = terms(question)
    return [t for t in found if t not in QUESTION_WORDS] or found


def fusion_weights(library: Library, question: str) -> dict[str, float]:
    """Weights of the two lists in reciprocal rank fusion: ``w_bm25 = 1``, ``w_dense = readable_share ** 4``.

    ``readable_share`` (:meth:`Embedder.readable_share`) is 1 - the [UNK] share of the question under the
    embedding model's tokenizer: 1.0 for English, and for any question under a multilingual model such
    as bge-m3, so both lists count fully. all-MiniLM-L6-v2 maps most Chinese characters to [UNK], yet
    the few it knows (的, 年, 生, 成) and Latin names (Sora, Gemini) leave a Chinese question at 0.2-0.6
    although the model understands none of it. The fourth power sends those to ~0-0.1 so BM25 carries
    them: RRF scores are flat (rank 1 and rank 2 differ by 1/60²), so even w=0.3 reorders BM25's top
    ranks. Measured on 21 Chinese questions about the reference report, MRR of the first evidence chunk:
    w=share 0.59, share² 0.65, share⁴ 0.76, BM25 alone 0.80. Since dense search only covers documents
    the model reads (:meth:`SearchIndex.readable_rows`), a question it barely reads (below
    :data:`READABLE_QUESTION`) would hand those documents votes the others cannot get: its dense list is
    skipped (weight 0), as it is below ``MIN_DENSE_WEIGHT``.
    """
    share = library.embedder.readable_share(question)
    dense = round(share ** 4, 4) if share >= READABLE_QUESTION else 0.0
    return {"dense": dense if dense >= MIN_DENSE_WEIGHT else 0.0, "bm25": 1.0}


def fuse(
    lists: Mapping[str, Sequence[str]], weights: Mapping[str, float], k: int = RRF_K
) -> list[tuple[str, float, dict[str, int]]]:
    """Weighted reciprocal rank fusion: ``score(c) = Σ_list w_list / (k + rank_list(c))``, ranks 1-based.

    Returns ``(chunk_id, score, ranks)`` best first; ties go to the better best rank, then the id.
    """
    scores: dict[str, float] = {}
    ranks: dict[str, dict[str, int]] = {}
    for name, ids in lists.items():
        for rank, cid in enumerate(ids, start=1):
            scores[cid] = scores.get(cid, 0.0) + weights.get(name, 0.0) / (k + rank)
            ranks.setdefault(cid, {})[name] = rank
    order = sorted(scores, key=lambda c: (-scores[c], min(ranks[c].values()), c))
    return [(c, scores[c], ranks[c]) for c in order]


# A figure or table named by its label ("图表13", "Figure 3", "Exhibit 5"), up to three digits: a year after
# 表 (利润表2019) names no table, nor does a word ending in one ("profitable 3 years"). "Fig." and "Figure" are
# one word.
_FIGURE_NAME = re.compile(
    r"(图表|附图|附表|图|表|(?<![a-z])(?:figure|fig\.|exhibit|chart|table))\s*(\d{1,3}(?:[.-]\d{1,2})?)(?![\d.])", re.I)
_LABEL_WORDS = {"fig.": r"(?:figure|fig\.)", "figure": r"(?:figure|fig\.)"}


def _lexical(index: SearchIndex, tokens: list[str], query: Query, ranking: Ranking) -> np.ndarray:
    """BM25 of the question's words, plus the vocabulary's phrases (synonyms in the question's language,
    translations in the other) and the dictionary's renderings of its words in the other language, raised on
    the pages of the statements that print what is asked."""
    lexical = index.scores(tokens)
    if not len(lexical):
        return lexical
    if query.expansion:
        own = [p for p in query.expansion if is_mostly_cjk(p) == (query.lang == "zh")]
        other = [p for p in query.expansion if is_mostly_cjk(p) != (query.lang == "zh")]
        for phrases, weight in ((own, ranking.expansion), (other, ranking.translation)):
            if phrases and weight:
                lexical = lexical + weight * _phrase_scores(index, phrases)
    if ranking.lexicon:
        own = [t for t in content_terms(query.focus) if t.isascii() == (query.lang == "en")]
        lexical = lexical + ranking.lexicon * _rendered_scores(index, own)
    if query.statements and ranking.statement:
        lexical = lexical * (1.0 + ranking.statement * index.statement_mask(query.statements))
    if ranking.caption < 1.0 and not _FIGURE_NAME.search(query.text):
        lexical = np.where(index.mask(None, (Kind.FIGURE,)), lexical * ranking.caption, lexical)
    return lexical


def _in_period(index: SearchIndex, lexical: np.ndarray, query: Query, documents: Sequence[Document],
               weight: float) -> np.ndarray:
    """BM25 raised by the share ``weight`` on the reports for a quarter the question names (by their period,
    title or file name): "cash between FY 2023 and Q2 of FY2024" is answered by the 10-Q for Q2 FY2024, whose
    balance sheet also prints the year-end column, not by a 10-K for FY2023 or another company's filing that
    mentions both years. A question without a quarter, or with none the library has a report for, keeps BM25."""
    if not query.quarters or not weight or not len(lexical):
        return lexical
    held = [d.doc_id for d in documents if set(query.quarters) & set(quarters(_period_text(d)))]
    if not held:
        return lexical
    return lexical * (1.0 + weight * index.mask(held, tuple(Kind)))


def _named_figures_first(index: SearchIndex, lexical: np.ndarray, question: str, mask: np.ndarray) -> np.ndarray:
    """BM25 with the chunks captioned by a figure or table the question names ahead of all others, in their
    BM25 order: "图表25 的数据出自哪篇文献" asks about the chunk with the line "图表25：…", which shares only two
    common tokens with the question. A caption is a line that starts with the label; a mention in prose
    ("如图表25所示") is none."""
    names = {(word.casefold(), number) for word, number in _FIGURE_NAME.findall(question)}
    if not names or not len(lexical):
        return lexical
    captioned: list[int] = []
    for word, number in names:
        rows, _ = _holding_all(index, [*terms(number), *([] if word in _LABEL_WORDS else terms(word))])
        rows = rows[mask[rows]]
        label = re.compile(rf"^[\W_]*{_LABEL_WORDS.get(word, re.escape(word))}\s*{re.escape(number)}(?![\d.])",
                           re.I | re.M)
        captioned += [int(r) for r in rows if label.search(index.text(int(r)))]
    if not captioned:
        return lexical
    lifted = lexical.copy()
    lifted[captioned] += float(lexical.max()) + 1.0
    return lifted


def _holding_all(index: SearchIndex, words: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the chunks that hold every one of the distinct ``words`` (BM25 terms), ascending, and the sum
    of the words' scores in each: the rarest word's chunks, narrowed by each other word's postings."""
    postings = sorted((index.postings(w) for w in dict.fromkeys(words)), key=lambda p: len(p[0]))
    if not postings:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    rows, summed = postings[0][0], postings[0][1].astype(np.float32)
    for other_rows, values in postings[1:]:
        if not len(rows) or not len(other_rows):
            return rows[:0], summed[:0]
        at = np.minimum(np.searchsorted(other_rows, rows), len(other_rows) - 1)
        held = other_rows[at] == rows
        rows, summed = rows[held], summed[held] + values[at[held]]
    return rows, summed


def _phrase_scores(index: SearchIndex, phrases: Sequence[str]) -> np.ndarray:
    """Per chunk, the best phrase's mean word BM25 among the phrases whose words it all holds ("purchases of
    property, plant and equipment", 归属于母公司股东的净利润): a phrase's common words alone (公司, net) add
    nothing, and a matched phrase counts like one word of the question."""
    total = np.zeros(len(index), dtype=np.float32)
    _add_best(total, index, phrases)
    return total


def _add_best(total: np.ndarray, index: SearchIndex, phrases: Sequence[str]) -> None:
    """Adds to ``total``, per chunk, the best of ``phrases`` it holds (as :func:`_phrase_scores`); one phrase
    in the library adds its rows as they are."""
    found = [(rows, values) for rows, values in (_phrase_rows(index, p) for p in phrases) if len(rows)]
    if len(found) == 1:
        total[found[0][0]] += found[0][1]
    elif found:
        best = np.zeros(len(index), dtype=np.float32)
        for rows, values in found:
            best[rows] = np.maximum(best[rows], values)
        total += best


def _phrase_rows(index: SearchIndex, phrase: str) -> tuple[np.ndarray, np.ndarray]:
    """The rows of the chunks that hold every word of ``phrase``, and the phrase's mean word BM25 in each."""
    words = _phrase_terms(phrase)
    if not words:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    rows, summed = _holding_all(index, words)
    return rows, summed / len(words)


def _rendered_scores(index: SearchIndex, words: Sequence[str]) -> np.ndarray:
    """Per chunk, the sum over ``words`` of the best score (as :func:`_phrase_scores`) among each word's
    renderings in the other language (:func:`rag.lexicon.renderings`)."""
    total = np.zeros(len(index), dtype=np.float32)
    for word in words:
        _add_best(total, index, renderings(word))
    return total


@lru_cache(maxsize=4096)
def _phrase_terms(phrase: str) -> tuple[str, ...]:
    """A vocabulary phrase's distinct BM25 terms (the phrases are fixed: segmented and stemmed once)."""
    return tuple(dict.fromkeys(terms(phrase)))


@lru_cache(maxsize=1)
def _finance_words() -> frozenset[str]:
    return frozenset(p.casefold() for t in vocabulary() for p in t.asked)


def _by_page(index: SearchIndex, scores: np.ndarray, rest: float) -> np.ndarray:
    """Page scores per chunk, ties inside a page broken by the chunk's own score."""
    if not len(scores):
        return scores
    top = float(scores.max()) or 1.0
    return index.page_scores(scores, rest) + 1e-3 * np.clip(scores, 0, None) / top


def _one_per_page(index: SearchIndex, fused: list[tuple[str, float, dict[str, int]]]
                  ) -> list[tuple[str, float, dict[str, int]]]:
    """The fused list with each page's best chunk first and its other chunks after every first one:
    a hit list spends no two slots on one page while other candidate pages exist."""
    seen: set[int] = set()
    first: list[tuple[str, float, dict[str, int]]] = []
    later: list[tuple[str, float, dict[str, int]]] = []
    for item in fused:
        page = index.page_of(item[0])
        (later if page in seen else first).append(item)
        seen.add(page)
    return first + later


def _why_empty(index: SearchIndex, tokens: list[str], scope: Scope | None) -> str:
    """"filtered out …" when the question matches chunks outside the scope/filters, else "nothing matched"."""
    if index.search(tokens, 1, index.mask(None, tuple(Kind))):
        return "filtered out by scope" if scope is not None else "filtered out by filters"
    return "nothing matched"


def _passes(doc: Document, filters: Filters) -> bool:
    if filters.doc_ids and doc.doc_id not in filters.doc_ids:
        return False
    if filters.publishers:
        publisher = doc.meta.get("publisher", "").casefold()
        wanted = [p.casefold() for p in filters.publishers]
        if not publisher or not any(p in publisher or publisher in p for p in wanted):
            return False
    if filters.date_from or filters.date_to:
        date = iso_date(doc.meta.get("date", ""))
        if not date:
            return False  # undated documents cannot be shown to fall in a range
        if filters.date_from and date[: len(iso_date(filters.date_from))] < iso_date(filters.date_from):
            return False
        if filters.date_to and date[: len(iso_date(filters.date_to))] > iso_date(filters.date_to):
            return False
    return True


def iso_date(text: str) -> str:
    """``2024年2月8日``, ``2024.02.08`` -> ``2024-02-08``; ``2024-02`` stays; "" when no date."""
    match = _DATE.search(text or "")
    if not match:
        return ""
    return "-".join(p.zfill(2) if i else p for i, p in enumerate(match.groups()) if p)


class _Clock:
    """Milliseconds per labelled step, plus the total."""

    def __init__(self) -> None:
        self.start = self.last = time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round((now - self.last) * 1000, 2)
        self.last = now

    def done(self) -> dict[str, float]:
        return {**self.laps, "total": round((time.perf_counter() - self.start) * 1000, 2)}


# scope: the documents a question names ---------------------------------------------------------
# Words that name a kind of filing, not an issuer: a file called annual_report_2019 names nobody.
_GENERIC = frozenset(
    "annual report reports quarterly interim earnings results form filing filings 10k 10q 8k 20f "
    "proxy statement presentation transcript press release q1 q2 q3 q4 fy h1 h2 the of and".split()
)
_LEGAL_EN = frozenset(
    "inc incorporated corp corporation company co com plc ltd limited llc lp holdings group sa ag nv".split()
)
_FIRM_EN = frozenset("securities research international global markets capital equity".split())  # a broker's trade
_LEGAL_ZH = ("股份有限公司", "有限责任公司", "有限公司", "集团", "控股", "股份")
_LEGAL_NAME_ZH = re.compile(r"[\u4e00-\u9fff]{2,20}?(?:股份有限公司|有限责任公司|有限公司)")
_WORD = re.compile(r"[a-z0-9]+")
_NAMES: dict[tuple[str, str], list[_Name]] = {}  # (doc_id, ingested_at) -> the document's names
_NAMES_KEPT = 100_000
_RUN = 12  # the most question words a name can span
_CAPITALS = re.compile(r"(?<![A-Za-z0-9])[A-Z]{3,5}(?![A-Za-z0-9])")
_NOT_ISSUERS = frozenset("usd rmb hkd eur gaap ceo cfo ipo esg sec etf ttm ytd yoy qoq llm api".split())
_FILE_PARTS = re.compile(r"[-_：:\s]+")  # a file name's parts: date, publisher, series, title
_BRACKETED = re.compile(r"（[^）]*）|\([^)]*\)|《|》")
_MIN_SERIES = 4  # "策略周报"; shorter parts (点评) name no report
_QUOTED = re.compile(r"《([^》]+)》|（([^）]+)）|\(([^)]+)\)|“([^”]+)”")  # 《…》, （…）, “…”
_MIN_ZH_PREFIX = 4  # "贵州茅台" for 贵州茅台酒股份有限公司; shorter prefixes (四方) collide with ordinary words


def detect_scope(question: str, documents: Sequence[Document]) -> Scope | None:
    """The documents whose company, publisher, title or file name the question mentions (None if none).

    Latin names match whole words, case-insensitively and ignoring spacing ("3M" not in "13M";
    "Best Buy" = BESTBUY); Chinese names match as substrings, also by their short form without the
    legal suffix (四方科技 for 四方科技集团股份有限公司). When the question also names a year that some
    of the matched documents cover (period, date or file name), those documents are preferred.
    """
    found: dict[str, tuple[str, str]] = {}  # doc_id -> (name, field) of its longest matching name
    matched_by: dict[str, set[str]] = {}  # doc_id -> every field a name of it was matched by
    spoken: dict[str, set[str]] = {}  # doc_id -> the Chinese names of it the question says, as said
    runs = _word_runs(question)
    # a part of a title in brackets or quotes names the report too: "东吴证券策略周评《外部扰动下》"
    quoted = [q for m in _QUOTED.finditer(question) if len(q := m.group(m.lastindex or 0)) >= _MIN_SERIES
              and is_mostly_cjk(q)]
    for doc in documents:
        said = [(n.said, n.field) for n in _names(doc) if (n.key in question if n.cjk else n.key in runs)]
        parts = [(part, "title") for part in quoted if part in doc.title or part in doc.source]
        for name, where in said + parts:
            matched_by.setdefault(doc.doc_id, set()).add(where)
            if len(name) > len(found.get(doc.doc_id, ("", ""))[0]):
                found[doc.doc_id] = (name, where)
            if is_mostly_cjk(name):
                spoken.setdefault(doc.doc_id, set()).add(name)
    if not found:  # short forms in capitals: "MGM" for MGM Resorts, "JPM" for JPMorgan, "AMEX" for American Express
        for short in _short_forms(question):
            for doc in documents:
                named = next((n for n in _names(doc) if not n.cjk and n.field in ("company", "source")
                              and _abbreviates(short, n)), None)
                if named is not None:
                    found.setdefault(doc.doc_id, (short.upper(), named.field))
    if not found:
        return None
    chosen = [d for d in documents if d.doc_id in found]
    # a report whose card gives the company's ticker but not its name is on the company its peers name
    tickers = {d.meta.get("ticker") for d in chosen if "company" in matched_by.get(d.doc_id, ())} - {None, ""}
    for doc in chosen:
        if doc.meta.get("ticker") in tickers:
            matched_by.setdefault(doc.doc_id, set()).add("company")
    # "J.P. Morgan's target on Tencent": the broker's reports on the company, not every report on it;
    # "开源证券那篇《四季度业绩承压…》": that broker's report of that title
    for pair in (("publisher", "company"), ("publisher", "title")):
        paired = [d for d in chosen if set(pair) <= matched_by.get(d.doc_id, set())]
        if paired:
            # a report matched by its ticker says the company's name as its peers do
            peers = {f: next((n for d in chosen if (n := _said(d, f, question, runs))), "") for f in pair}
            found = {d.doc_id: (", ".join(n for f in pair if (n := _said(d, f, question, runs) or peers[f])),
                                ", ".join(pair)) for d in paired}
            chosen = paired
            break
    years = set(YEAR.findall(question))
    in_period = [d for d in chosen if years & _doc_years(d)]
    chosen = in_period or chosen
    names = list(dict.fromkeys(found[d.doc_id][0] for d in chosen))
    fields = list(dict.fromkeys(found[d.doc_id][1] for d in chosen))
    titles = [d.title for d in chosen]
    label = "; ".join(titles[:3]) + (f" (+{len(titles) - 3} more)" if len(titles) > 3 else "")
    spans = set().union(*(spoken.get(d.doc_id, ()) for d in chosen))
    return Scope(tuple(d.doc_id for d in chosen), ", ".join(names), ", ".join(fields), label,
                 tuple(sorted(spans, key=lambda span: (-len(span), span))))


def _said(doc: Document, field: str, question: str, runs: set[str]) -> str:
    """The name of ``doc``'s ``field`` the question says (the longest one)."""
    said = [n.said for n in _names(doc) if n.field == field and (n.key in question if n.cjk else n.key in runs)]
    return max(said, key=len, default="")


@dataclass(frozen=True)
class _Name:
    """One way a question can name a document: ``key`` found in the question (Chinese: as a substring;
    Latin: as a run of consecutive words written together) means it says ``said``."""

    said: str
    field: str
    cjk: bool
    key: str


def _names(doc: Document) -> list[_Name]:
    """The names of ``doc`` ready for matching, worked out once per document (questions ask many)."""
    cache_key = (doc.doc_id, doc.ingested_at)
    names = _NAMES.get(cache_key)
    if names is None:
        if len(_NAMES) >= _NAMES_KEPT:
            _NAMES.clear()
        names = _NAMES[cache_key] = [m for name, where in _names_of(doc) for m in _matchers(name, where)]
    return names


def _matchers(name: str, where: str) -> list[_Name]:
    if not is_mostly_cjk(name):
        return [_Name(name, where, False, "".join(_WORD.findall(name.lower())))]
    found = [_Name(name, where, True, name)]
    # a legal name is also known by its first four characters (贵州茅台 for 贵州茅台酒股份有限公司)
    prefix = name[:_MIN_ZH_PREFIX]
    if _LEGAL_NAME_ZH.fullmatch(name) and cjk_ratio(prefix) == 1.0:
        found.append(_Name(prefix, where, True, prefix))
    return found


def _short_forms(question: str) -> list[str]:
    """Words written in capitals (3-5 letters) that are no finance term (EPS, ROE, USD are not issuers)."""
    words = [w.lower() for w in _CAPITALS.findall(question)]
    return [w for w in dict.fromkeys(words) if w not in _finance_words() and w not in _NOT_ISSUERS]


def _abbreviates(short: str, name: _Name) -> bool:
    """Whether ``short`` begins the name ("jpm": JPMorgan Chase) or is made of the beginnings of its words in
    order, the first word's included ("amex": American Express)."""
    if name.key.startswith(short) and len(name.key) > len(short):
        return True
    words = _WORD.findall(name.said.lower())

    def made_of(rest: str, i: int) -> bool:
        if not rest:
            return True
        if i >= len(words):
            return False
        return any(rest.startswith(words[i][:n]) and made_of(rest[n:], i + 1)
                   for n in range(min(len(words[i]), len(rest)), 0, -1))

    return len(words) > 1 and made_of(short, 0)


def _word_runs(question: str) -> set[str]:
    """Runs of consecutive lower-cased Latin words of the question written together ("best buy" ->
    "bestbuy"), so that "Best Buy", "BestBuy" and "3M's" find BESTBUY and 3M but "13M" finds no 3M."""
    words = _WORD.findall(question.lower())
    return {"".join(words[i:j]) for i in range(len(words)) for j in range(i + 1, min(i + _RUN, len(words)) + 1)}


def _names_of(doc: Document) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for where in ("company", "publisher"):
        value = doc.meta.get(where, "").strip()
        pairs += [(v, where) for v in _variants(value)]
    publisher = doc.meta.get("publisher", "").strip()
    pairs += [(n, "publisher") for n in BROKER_NICKNAMES.get(publisher, ())]  # "CICC" is 中金公司
    firm = publisher.split()
    while len(firm) > 1 and firm[-1].lower() in _FIRM_EN:  # "BofA Securities" is also "BofA"
        firm.pop()
        pairs.append((" ".join(firm), "publisher"))
    title = doc.meta.get("title", "")
    pairs.append((title.strip(), "title"))
    pairs += [(v, "title") for m in _LEGAL_NAME_ZH.findall(title) for v in _variants(m)]
    stem = re.sub(r"\.[A-Za-z0-9]{1,5}$", "", doc.source)
    pairs += [(v, "source") for m in _LEGAL_NAME_ZH.findall(stem) for v in _variants(m)]
    pairs += [(n, "title") for n in _series_names(stem, doc.meta.get("publisher", ""), doc.meta.get("company", ""))]
    parts = YEAR.split(stem, maxsplit=1)  # "3M_2018_10K" -> "3M_"; a stem without a year is no issuer name
    if len(parts) == 2:
        pairs.append((re.sub(r"[_\-.\s]+", " ", parts[0]).strip(), "source"))
    return [(n, w) for n, w in pairs if _specific(n)]


def _series_names(stem: str, publisher: str, company: str) -> list[str]:
    """The Chinese names a file name gives its report besides the title: "20260405-银河证券-银河证券大类资产
    周报：能源冲击仅是开端" is also 大类资产周报 (the publisher and any bracketed issue number left out)."""
    names = []
    for part in _FILE_PARTS.split(stem):
        part = _BRACKETED.sub("", part).strip(" #＃")
        if publisher:
            part = part.removeprefix(publisher).strip()
        if len(part) >= _MIN_SERIES and is_mostly_cjk(part) and part not in (publisher, company):
            names.append(part)
    return names


def _variants(name: str) -> list[str]:
    """A name and its short forms without legal suffixes (PepsiCo, Inc. -> PepsiCo; 四方科技集团股份有限公司 -> 四方科技)."""
    out = [name] if name else []
    short = name
    while True:
        stripped = short
        for suffix in _LEGAL_ZH:
            stripped = stripped.removesuffix(suffix)
        words = re.split(r"[\s,.]+", stripped.strip(" ,."))
        while len(words) > 1 and words[-1].lower() in _LEGAL_EN:
            words.pop()
        stripped = " ".join(words)
        if stripped == short:
            break
        short = stripped
        out.append(short)
    return out


def _specific(name: str) -> bool:
    """A usable name: two or more characters and not only generic filing words."""
    if len(name) < 2:
        return False
    if is_mostly_cjk(name):
        return True
    words = _WORD.findall(name.lower())
    return bool(words) and not all(w in _GENERIC for w in words)


def _doc_years(doc: Document) -> set[str]:
    return set(YEAR.findall(" ".join([doc.meta.get("period", ""), doc.meta.get("date", ""), doc.source])))


def _period_text(doc: Document) -> str:
    """Where a report says which period it covers: its period, title and file name ("FY2024Q2", "Q4 2022 ER",
    "JPMORGAN_2021Q1_10Q.pdf")."""
    return " ".join([doc.meta.get("period", ""), doc.meta.get("title", ""), doc.source])
