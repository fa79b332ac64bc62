"""Chinese-aware text primitives shared by ingestion and answering.

Written here because the libraries fall short for this domain: llama-index's sentence splitter cuts
numbers such as ``1505.60`` and its BM25 tokeniser keeps each run of Chinese characters as one token.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_CHAR = re.compile(f"[{CJK}]")
_CLOSERS = "”’\"」』）)】》"

# A sentence ends at 。！？； (any closing quotes/brackets stay with it), or at . ! ? followed by space/end.
# A '.' between digits (1,505.60 / 2024.02.08) is never followed by a space, so it never ends a sentence.
_END = re.compile(f"[。！？；]+[{_CLOSERS}]*|[!?]+[{_CLOSERS}]*(?=\\s|$)|\\.[{_CLOSERS}]*(?=\\s|$)")
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof inc corp co ltd llc plc no nos vs etc e.g i.e u.s u.k fig figs jan feb mar apr jun "
    "jul aug sep sept oct nov dec st approx est dept div vol pp".split()
)
# Dates written "2024. 02. 08" (PDF layout spaces) are not three sentences.
_SPACED_DATE = re.compile(r"\b(?:19|20)\d{2}\.\s?\d{1,2}\.\s?\d{1,2}\b")
_WORD_BEFORE = re.compile(r"([A-Za-z](?:[A-Za-z.]*[A-Za-z])?)\.?$")

_TOKEN = re.compile(
    rf"(?P<word>\d*[a-z][a-z0-9]*(?:[-'’&.][a-z0-9]+)*)|(?P<num>\d+(?:[,，]\d{{3}})*(?:\.\d+)?%?)|(?P<cjk>[{CJK}]+)"
)
NUMBER = re.compile(r"(?<![A-Za-z0-9_.])[-−]?\$?\d+(?:[,，]\d{3})*(?:\.\d+)?%?")

STOPWORDS = frozenset(
    "的 了 是 在 和 与 及 或 等 中 对 将 为 以 由 从 其 之 也 而 被 把 这 那 个 有 吗 呢 吧 啊 么 "
    "什么 多少 哪些 哪个 哪里 如何 怎么 怎样 是否 请问 请 几 谁 什么样 "
    "a an the of in on at to for by with from and or is are was were be been being do does did what which "
    "who whom whose when where why how much many this that these those it its as into than then there "
    "their they we you our your he she his her not no yes can could would should will shall may might "
    "please give provide tell me about".split()
)


def cjk_ratio(text: str) -> float:
    """Share of non-space characters that are CJK ideographs."""
    chars = [c for c in text if not c.isspace()]
    if not chars:
        return 0.0
    return sum(1 for c in chars if _CJK_CHAR.match(c)) / len(chars)


def is_cjk(char: str) -> bool:
    return bool(_CJK_CHAR.match(char))


def split_sentences(text: str) -> list[str]:
    """Split at sentence ends, never inside numbers (1,505.60 / 87% / 2024.02.08) or abbreviations (U.S.).

    The pieces concatenate back to ``text`` exactly, so offsets survive.
    """
    pieces: list[str] = []
    start = 0
    dates = [m.span() for m in _SPACED_DATE.finditer(text)] if "." in text else []
    for match in _END.finditer(text):
        end = match.end()
        if any(a <= match.start() < b for a, b in dates):
            continue
        if match.group().startswith(".") and _is_abbreviation(text[max(start, match.start() - 64) : match.start()]):
            continue
        while end < len(text) and text[end] in " \t\n":
            end += 1
        if text[start:end].strip():
            pieces.append(text[start:end])
            start = end
    if start < len(text):
        if pieces and not text[start:].strip():
            pieces[-1] += text[start:]
        else:
            pieces.append(text[start:])
    return pieces


def _is_abbreviation(before: str) -> bool:
    match = _WORD_BEFORE.search(before)
    if not match:
        # "1." opening a numbered item is not a sentence end.
        return bool(re.fullmatch(r"\s*\d{1,2}", before))
    word = match.group(1).lower()
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())


@lru_cache(maxsize=1)
def _jieba():  # the jieba module, imported once and quietly
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def nouns(text: str) -> frozenset[str]:
    """The words of ``text`` (lower-cased) that jieba's part-of-speech tagger reads as nouns or Latin names:
    "两融市场平均担保比例具体是多少" → 市场, 比例 (担保 and 平均 are a verb and an adjective to it)."""
    _jieba()
    import jieba.posseg

    return frozenset(p.word.lower() for p in jieba.posseg.cut(text) if p.flag.startswith("n") or p.flag in ("vn", "eng"))


def normalize_number(token: str) -> str:
    """``1,505.60`` -> ``1505.60``; ``1,577.0`` and ``1577`` compare equal after :func:`number_key`."""
    return token.replace(",", "").replace("，", "").replace("−", "-").replace("$", "")


def number_key(token: str) -> str:
    """Canonical form for comparing numbers: no separators, no trailing decimal zeros."""
    value = normalize_number(token).rstrip("%")
    if "." in value:
        value = value.rstrip("0").rstrip(".")
    return value


def numbers(text: str) -> list[str]:
    """The numbers written in ``text``, verbatim (with separators, sign and % as written)."""
    return [m.group().lstrip("$") for m in NUMBER.finditer(text)]


def tokenize(text: str, keep_stopwords: bool = False) -> list[str]:
    """BM25 tokens: jieba search-mode words for Chinese, lower-cased words for English, numbers whole."""
    tokens: list[str] = []
    for match in _TOKEN.finditer(text.lower()):
        kind = match.lastgroup
        if kind == "num":
            tokens.append(normalize_number(match.group()).rstrip("%"))
        elif kind == "word":
            tokens.append(match.group().rstrip("."))
        else:
            tokens.extend(t for t in _jieba().cut_for_search(match.group()) if t.strip())
    if keep_stopwords:
        return tokens
    return [t for t in tokens if t not in STOPWORDS]


def squeeze(text: str) -> str:
    """``text`` NFKC-normalised, casefolded and without whitespace: how a heading or a row label is found in a
    question however either is spaced or set ("PB (LF)" in "pb(lf)", full-width letters)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).casefold()
