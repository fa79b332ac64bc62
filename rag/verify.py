"""Citation and number verification, and quote finding, for extractive and generated answers.

Hand-written because no library checks ``[n]`` claims against Chinese and English passages: claims are
split with our number-safe sentence splitter and compared on jieba/English content words.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from rag.terms import content_terms
from rag.text import number_key, numbers, split_sentences
from rag.types import Citation, Flag, Hit, Kind

# [1] / [1][2] / [1, 2] / [1，2、3] / [1-3]
MARKER = re.compile(r"\[(\d+(?:\s*(?:[,，、]|[-–])\s*\d+)*)\]")
_MARKER_RUN = re.compile(r"(?:\s*\[\d+(?:\s*(?:[,，、]|[-–])\s*\d+)*\])+")
_EDGE = " \t\r\n\u3000*#>•·►➤▶■●◆-|"
# A line opening with a heading mark or a bullet starts a unit of its own: the marks reports print (◼ ⚫ ➢ ▪ ◦ ·),
# Wingdings bullets as the text layer spells them ("u ", "n ", "q " before the item), and a broker template's
# field tag ("[Table_Summary]") that opens its summary block.
_HEADING_LINE = re.compile(r"^\s*(#|[►➤▶■●◆•◼⚫➢▪◦·✓❖◇]|[unqlØü] (?=\S)|\[Table_\w+\])", re.M)
_PARAGRAPH = re.compile(r"\n\s*\n")
_SPACE_BEFORE_PUNCT = re.compile(r"[ \t]+([.,;:!?。，；：！？])")
SUPPORT_THRESHOLD = 0.5  # share of a claim's content words that its cited passages must contain
_MAX_UNIT = 400  # characters a merged list sentence may grow to


@dataclass(frozen=True)
class Claim:
    """One sentence of an answer: its text without markers and the passage numbers it cites."""

    text: str
    markers: tuple[int, ...]


@dataclass(frozen=True)
class Verification:
    """An answer text after checking: unknown markers removed, citations with quotes, and findings."""

    text: str
    citations: tuple[Citation, ...]
    flags: tuple[Flag, ...]


def parse_markers(body: str) -> tuple[int, ...]:
    """All passage numbers of the ``[n]`` markers in ``body``, in order, ranges expanded."""
    found: list[int] = []
    for match in MARKER.finditer(body):
        for part in re.split(r"\s*[,，、]\s*", match.group(1)):
            bounds = [int(x) for x in re.split(r"\s*[-–]\s*", part)]
            first, last = bounds[0], bounds[-1]
            found.extend(range(first, last + 1) if first <= last <= first + 20 else (first, last))
    return tuple(dict.fromkeys(found))


def parse_claims(text: str) -> list[Claim]:
    """Sentences of ``text`` with the markers that follow them.

    A run of markers ends a claim wherever it stands ("…增长。[1]", "…grew 5% [1].", "…grew.[1] Next"):
    the markers belong to the last sentence before them; other sentences carry none.
    """
    claims: list[Claim] = []
    position = 0
    for run in _MARKER_RUN.finditer(text):
        claims += _claims_of(text[position : run.start()], parse_markers(run.group()))
        position = run.end()
    claims += _claims_of(text[position:], ())
    return claims


def _claims_of(segment: str, markers: tuple[int, ...]) -> list[Claim]:
    sentences = [_SPACE_BEFORE_PUNCT.sub(r"\1", s).strip() for s in _whole_sentences(segment)]
    sentences = [s for s in sentences if re.search(r"\w", s)]  # "." left over after "…5% [1]."
    if not sentences:
        return [Claim("", markers)] if markers else []
    last = Claim(sentences[-1], markers)
    return [Claim(s, ()) for s in sentences[:-1]] + [last]


@lru_cache(maxsize=1)
def _stemmer():  # nltk's PorterStemmer, imported on first English word (nltk loads slowly)
    from nltk.stem.porter import PorterStemmer

    return PorterStemmer()


@lru_cache(maxsize=4096)
def _stem(word: str) -> str:
    return _stemmer().stem(word)


def _word_groups(terms: Sequence[str]) -> list[tuple[str, list[str]]]:
    """jieba search mode yields 上下/下文/上下文: group sub-words under the longest word containing them."""
    longest = [t for t in terms if not any(t != u and t in u for u in terms)]
    return [(word, [t for t in terms if t in word]) for word in longest]


def _present(term: str, lowered: str) -> bool:
    if term.isascii() and term[:1].isalpha():
        if re.search(r"(?<![a-z0-9])" + re.escape(term), lowered):
            return True  # found as written: no need to load the stemmer
        return re.search(r"(?<![a-z0-9])" + re.escape(_stem(term)), lowered) is not None
    if term[:1].isdigit():
        keys = {number_key(n) for n in numbers(lowered)}
        return number_key(term) in keys or term in lowered
    return term in lowered


def coverage(terms: Sequence[str], text: str, weights: Mapping[str, float] | None = None) -> float:
    """Weighted share of the content words found in ``text``; a missing word earns the share of its
    longest sub-word that is present (上下文 for 上下文窗口). ``weights`` (e.g. IDF) default to 1."""
    groups = _word_groups(terms)
    if not groups:
        return 0.0
    lowered = text.lower()
    total = found_weight = 0.0
    for word, parts in groups:
        weight = term_weight(word, parts, weights)
        total += weight
        if _present(word, lowered):
            found_weight += weight
        else:
            found = [len(p) for p in parts if p != word and _present(p, lowered)]
            found_weight += weight * max(found, default=0) / len(word)
    return found_weight / total


def term_weight(word: str, parts: Sequence[str], weights: Mapping[str, float] | None) -> float:
    """A word's weight: its own, else the largest of its sub-words', else 1."""
    if not weights:
        return 1.0
    if word in weights:
        return weights[word]
    return max((weights[p] for p in parts if p in weights), default=1.0)


def missing_terms(terms: Sequence[str], text: str) -> list[str]:
    """The content words of ``terms`` (longest forms) that do not occur in ``text``."""
    lowered = text.lower()
    return [word for word, _ in _word_groups(terms) if not _present(word, lowered)]


def units(chunk_text: str, kind: Kind = Kind.BODY) -> list[tuple[int, int]]:
    """Quotable spans of a chunk: sentences (lines for tables/figures), trimmed, as exact offsets."""
    blocks = _line_spans(chunk_text) if kind in (Kind.TABLE, Kind.FIGURE) else _block_spans(chunk_text)
    spans: list[tuple[int, int]] = []
    for start, end in blocks:
        offset = start
        for sentence in _whole_sentences(chunk_text[start:end]):
            spans.append(_trim(chunk_text, offset, offset + len(sentence)))
            offset += len(sentence)
    return [(s, e) for s, e in spans if e > s]


def _whole_sentences(text: str) -> list[str]:
    """Sentences, with ；-separated list items kept together (a Chinese list is one sentence)."""
    merged: list[str] = []
    for piece in split_sentences(text):
        if merged and merged[-1].rstrip().endswith(("；", ";")) and len(merged[-1]) + len(piece) <= _MAX_UNIT:
            merged[-1] += piece
        else:
            merged.append(piece)
    return merged


def _line_spans(text: str) -> list[tuple[int, int]]:
    spans, offset = [], 0
    for line in text.splitlines(keepends=True):
        spans.append((offset, offset + len(line)))
        offset += len(line)
    return spans


def _block_spans(text: str) -> list[tuple[int, int]]:
    """Paragraphs, with heading/bullet lines on their own (they have no sentence end to split at)."""
    cuts = {0, len(text)}
    cuts.update(m.end() for m in _PARAGRAPH.finditer(text))
    for match in _HEADING_LINE.finditer(text):
        cuts.add(match.start())
        line_end = text.find("\n", match.start())
        cuts.add(len(text) if line_end < 0 else line_end + 1)
    ordered = sorted(cuts)
    return [(a, b) for a, b in zip(ordered, ordered[1:]) if text[a:b].strip()]


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start] in _EDGE:
        start += 1
    while end > start and text[end - 1] in _EDGE:
        end -= 1
    return start, end


def best_span(claim: str, hit: Hit) -> tuple[int, int, float]:
    """The span of the chunk that best supports ``claim``: the claim verbatim, else the best unit."""
    text = hit.chunk.text
    exact = text.find(claim.strip())
    if claim.strip() and exact >= 0:
        return exact, exact + len(claim.strip()), 1.0
    terms = content_terms(claim)
    best = (0, 0, 0.0)
    for start, end in units(text, hit.chunk.kind):
        score = coverage(terms, text[start:end])
        if score > best[2]:
            best = (start, end, score)
    return best


def make_citation(n: int, hit: Hit, start: int, end: int) -> Citation:
    """A citation of passage ``n`` quoting ``hit.chunk.text[start:end]``."""
    chunk = hit.chunk
    return Citation(
        n=n, chunk_id=chunk.chunk_id, doc_id=chunk.doc_id, source=chunk.source, title=chunk.title,
        page=chunk.page_at(start), section=chunk.section, quote=chunk.text[start:end], start=start, end=end,
    )


def verify(text: str, given: Sequence[Hit]) -> Verification:
    """Check every claim of ``text`` against the passages ``given`` (``[n]`` = ``given[n-1]``)."""
    flags: list[Flag] = []
    citations: dict[tuple[int, int, int], Citation] = {}
    claims = parse_claims(text)
    cited_all = {n for c in claims for n in c.markers if 1 <= n <= len(given)}
    for claim in claims:
        valid = [n for n in dict.fromkeys(claim.markers) if 1 <= n <= len(given)]
        for n in dict.fromkeys(claim.markers):
            if n not in valid:
                flags.append(Flag("unknown_citation", f"[{n}] is not one of the {len(given)} passages given"))
        if not claim.text:
            continue
        if not valid:
            flags.append(Flag("no_citation", claim.text))
        for n in valid:
            start, end, _ = best_span(claim.text, given[n - 1])
            if end > start:
                citations.setdefault((n, start, end), make_citation(n, given[n - 1], start, end))
        evidence = "\n".join(given[n - 1].chunk.text for n in (valid or sorted(cited_all)))
        flags.extend(_check_claim(claim.text, evidence, bool(valid)))
    clean = _drop_unknown_markers(text, len(given))
    return Verification(clean, tuple(sorted(citations.values(), key=lambda c: (c.n, c.start))), tuple(flags))


def _check_claim(claim: str, evidence: str, cited: bool) -> list[Flag]:
    found: list[Flag] = []
    terms = content_terms(claim)
    if cited and terms and coverage(terms, evidence) < SUPPORT_THRESHOLD:
        found.append(Flag("unsupported_sentence", claim))
    keys = {number_key(n) for n in numbers(evidence)}
    for number in numbers(claim):
        if number_key(number) not in keys:
            found.append(Flag("number_not_found", f"{number} in: {claim}"))
    return found


def _drop_unknown_markers(text: str, count: int) -> str:
    """Rewrite each marker keeping only the passage numbers that were given."""

    def keep(match: re.Match[str]) -> str:
        valid = [n for n in parse_markers(match.group()) if 1 <= n <= count]
        return "".join(f"[{n}]" for n in dict.fromkeys(valid))

    return MARKER.sub(keep, text)
