"""Follow-up questions without an LLM: elliptical questions keep the previous scope and key terms.

"那 Gemini 呢？", "and in 2022?" or "它的上下文窗口多大？" carry too few words to retrieve on; the
conversation adds the previous question's key terms (retrieval's ``extra_terms``) and keeps its scope.
A follow-up naming a new entity (Gemini) or a new number (2022) replaces the previous one's.
Hand-written: the cues are Chinese/English function words that no library lists for this purpose.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from rag.terms import MONTH_NAME, content_terms
from rag.text import tokenize
from rag.types import Answer

# Words that point back at the previous question's subject.
_PRONOUNS_ZH = frozenset(
    "它 它们 其 该 此 这 那 这个 那个 这家 那家 该公司 它的 他们 她们 这些 那些 同期 同样 分别".split()
)
_OPENERS = re.compile(
    r"^\s*(那么?|那末|还有|另外|此外|以及|和|与|并且|而"
    r"|and\b|what about\b|how about\b|what of\b|same\b|also\b)",
    re.I,
)
_PRONOUNS_EN = re.compile(r"\b(it|its|they|them|their|that|this|those|these|same|the company)\b", re.I)
_WORD = r"(?:[A-Z][A-Za-z0-9]*(?:[-.][A-Za-z0-9]+)*|\d+[A-Za-z]+[A-Za-z0-9]*)"
_PERIOD = rf"(?:(?:FY|CY|Q[1-4]|H[12])\d*\b|{MONTH_NAME}(?:\s+\d{{1,2}}(?:st|nd|rd|th)?\b,?)?(?:\s+(?:19|20)\d{{2}}\b)?)"
_PERIODS = re.compile(rf"(?<![A-Za-z0-9]){_PERIOD}")
# A name with its version and model words: "Gemini 1.5 Pro", "Claude 3", "GPT-4"; not a year or a period.
_LATIN_NAME = re.compile(
    rf"(?<![A-Za-z0-9])({_WORD}(?:\s(?!{_PERIOD})(?:{_WORD}|\d{{1,3}}(?:\.\d+)*[A-Za-z]*)(?![\d.]))*)"
)
_NUMBER_TOKEN = re.compile(r"^\d")
MAX_SHORT_TERMS = 2  # a question with this few content words is elliptical
MAX_TURNS = 20


@dataclass(frozen=True)
class Turn:
    """What a follow-up may inherit from one question: key terms, names and the scope applied."""

    question: str
    terms: tuple[str, ...]
    entities: tuple[str, ...]
    scope: dict[str, Any]


@dataclass(frozen=True)
class FollowUp:
    """How to retrieve a question in context: extra BM25 terms and the documents to stay within.

    ``subject`` holds the names a follow-up puts in place of the previous ones ("Sora" in "那 Sora 呢？"):
    the answer must be about them. ``previous`` is the question it follows.
    """

    is_follow_up: bool
    extra_terms: tuple[str, ...] = ()
    doc_ids: tuple[str, ...] = ()
    scope: dict[str, Any] | None = None
    subject: tuple[str, ...] = ()
    previous: str = ""


class Conversation:
    """The turns of one chat: :meth:`follow_up` reads them, :meth:`update` adds one (answer() calls both)."""

    def __init__(self) -> None:
        self.turns: list[Turn] = []

    def follow_up(self, question: str) -> FollowUp:
        """The context ``question`` needs, or ``FollowUp(False)`` when it stands on its own."""
        if not self.turns or not is_elliptical(question):
            return FollowUp(False)
        previous = self.turns[-1]
        inherited = _inherited_terms(question, previous)
        subject = tuple(n for n in entities(question) if n not in previous.entities)
        scope = None if subject or not previous.scope else previous.scope
        doc_ids = tuple(scope.get("doc_ids", ())) if scope else ()
        return FollowUp(True, inherited, doc_ids, scope, subject, previous.question)

    def update(self, question: str, answer: Answer) -> None:
        """Record a question and its answer; an answer without scope keeps an inherited one."""
        context = self.follow_up(question)
        own = content_terms(question)
        terms = tuple(dict.fromkeys(own + context.extra_terms))
        names = entities(question) or (self.turns[-1].entities if context.is_follow_up else ())
        scope = dict(answer.scope) or dict(context.scope or {})
        self.turns.append(Turn(question, terms, names, scope))
        del self.turns[:-MAX_TURNS]

    def clear(self) -> None:
        """Forget all turns (a new chat)."""
        self.turns.clear()


def is_elliptical(question: str) -> bool:
    """Short, or opening with "and/what about/那", or pointing back with a pronoun (它/其/该, it/its)."""
    if _OPENERS.match(question) or _PRONOUNS_EN.search(question):
        return True
    if any(token in _PRONOUNS_ZH for token in tokenize(question, keep_stopwords=True)):
        return True
    return len(content_terms(question)) <= MAX_SHORT_TERMS


def entities(question: str) -> tuple[str, ...]:
    """Names in Latin letters (Gemini, 3M, GPT-4); in English, a capitalised first word is not one."""
    found: list[str] = []
    english = not re.search(r"[\u4e00-\u9fff]", question)
    # periods (FY2022, Q3, August 2025) are when, not who: "and in Q3?" keeps the subject
    blanked = _PERIODS.sub(lambda m: " " * len(m.group()), question)
    for match in _LATIN_NAME.finditer(blanked):
        name = match.group(1)
        if english and match.start() == len(question) - len(question.lstrip()) and not _is_acronym(name):
            continue
        if name.lower() in {"what", "and", "how", "the", "which", "who", "when", "where", "why", "is", "are"}:
            continue
        found.append(name)
    return tuple(dict.fromkeys(found))


def _is_acronym(name: str) -> bool:
    return any(c.isdigit() for c in name) or (len(name) > 1 and name.isupper())


def _inherited_terms(question: str, previous: Turn) -> tuple[str, ...]:
    """Previous key terms, minus those replaced by a new name or number in ``question``, minus repeats."""
    own = set(content_terms(question))
    dropped: set[str] = set()
    if entities(question):
        dropped |= {t for name in previous.entities for t in content_terms(name)}
    if any(_NUMBER_TOKEN.match(t) for t in own):
        dropped |= {t for t in previous.terms if _NUMBER_TOKEN.match(t)}
    return tuple(t for t in previous.terms if t not in dropped and t not in own)
