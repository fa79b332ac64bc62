"""Answers read off one report's card: who wrote it and the rating it gives. A question about one report
(scoped to it: "开源证券那篇《…》是哪位分析师写的？", "Who wrote UBS's note on Tencent?"; or the library's only report:
"What rating does the report give?") is answered with the analysts its card lists, each name cited to the line of
the report's first pages that prints it with the certificate number where the card has one, or with its rating
and the action on it, cited to the line that prints the rating.
"""

from __future__ import annotations

import re

from rag import prompts
from rag.crossquestion import RATING_GROUPS
from rag.crossreport import printed_line, rating_line
from rag.evidence import Evidence, refusal
from rag.lexicon import said_otherwise
from rag.store import Store
from rag.terms import asks_standing_text, is_mostly_cjk, question_focus
from rag.types import Answer, Citation, Document, Hit

__all__ = ["analysts_of", "card_answer"]

# Asking who wrote it, not what its analysts expect ("分析师预计…", "What do the analysts expect…").
_AUTHOR = re.compile(r"(?:哪位|哪些|哪几位|谁).{0,6}(?:分析师|分析员|作者)|(?:分析师|分析员|作者).{0,6}(?:是谁|有谁|有哪些|是哪|姓名|名字)"
                     r"|第一作者|谁写|撰写人|执笔人|\bwho\s+(?:wrote|authored|writes)\b"
                     r"|\bwho\s+(?:is|are)\s+the\s+(?:analysts?|authors?)\b|\bwhich\s+analysts?\b|\bauthors?\s+of\b", re.I)
_RATING = re.compile(r"评级|\brat(?:ing|ed|es)\b|\brecommendation\b", re.I)
_REPORT = re.compile(r"\b(?:this|the)\s+(?:report|note|research)\b|报告|研报|这篇|本文|该文", re.I)
# What a Chinese question says is rated: "给宁德时代的投资评级", "对电子行业给出的评级" (not "给了什么评级").
_RATED = re.compile(r"(?:给予?|对)(?![了出过])\s*(?P<rated>(?:(?!什么|哪|何种|怎样)[^，。？?的]){2,16}?)\s*(?:给出|给予)?的?(?:投资)?评级")
_KIND_WORD = re.compile(r"(?:行业|板块|公司|集团|股份)$")
_POINTING = re.compile(r"(?:该|本|此|这|其|上述|标的)")  # "该公司", "这只股票": the company the report is about
# A Chinese rating as a report prints it beside a stock: the cross-report groups' words, and a sector call's 看好.
_RATING_VALUE = re.compile("|".join([*(w for group in RATING_GROUPS for w in group if is_mostly_cjk(w)), "看好"]))
_PREVIOUS = re.compile(r"上一?次|此前|之前|原来|\bprevious\b|\bprior\b|\bbefore\b", re.I)
_FIRST = re.compile(r"第一作者|第一位|首席|\blead\s+analyst\b|\bfirst\s+author\b", re.I)
_ANALYST_LABEL = re.compile(r"分析师|分析员|研究员|执业|证书|(?i:analyst|SAC|SFC|CE\s+No)")  # a line naming an analyst
_CARD_PAGES = (1, 2)  # analysts are printed on a report's first page, a few reports' second
_ANALYST = re.compile(r"^\s*(?P<name>.+?)\s*(?:\((?P<cert>[^)]*)\))?\s*$")


def analysts_of(value: str) -> list[tuple[str, str]]:
    """``(name, certificate)`` pairs of a card's analysts field ("殷晟路 (S0790522080001); 周航")."""
    pairs = []
    for part in value.split(";"):
        match = _ANALYST.match(part)
        if match and match["name"]:
            pairs.append((match["name"], match["cert"] or ""))
    return pairs


def card_answer(store: Store, evidence: Evidence) -> Answer | None:
    """The analysts of the one report the question is about when it asks who wrote it, or its rating when it
    asks that; ``None`` otherwise, or when no line of the report's first pages prints what the card says."""
    focus = question_focus(evidence.question)
    author = bool(_AUTHOR.search(focus))
    rating = bool(_RATING.search(focus)) and not asks_standing_text(focus)  # not what ratings mean
    if not author and not rating:
        return None
    doc = _the_report(store, evidence, focus)
    if doc is None:
        return None
    pages = store.chunks_on([(doc.doc_id, p) for p in _CARD_PAGES])
    chunks = [c for p in _CARD_PAGES for c in pages[(doc.doc_id, p)]]
    first = bool(_FIRST.search(focus))
    if author:
        people = analysts_of(doc.meta.get("analysts", ""))
        people = people[:1] if first else people
        found = [f for name, _ in people if (f := printed_line(chunks, [_spelled(name)], _ANALYST_LABEL))]
        if not people or len(found) < len(people):
            return None  # a name the report does not print is not stated
        text = _authors(evidence.lang, doc.meta, people, first=first)
    else:
        located = rating_line(chunks, doc.meta.get("rating", ""))
        rated = _other_rated(doc, focus)
        if located is not None and rated:  # the card rates the report's subject, not the company asked about
            return None if _rated_inside(store, doc, rated) else _not_rated(evidence, doc, rated)
        if located is None or (_PREVIOUS.search(focus) and doc.meta.get("rating_action") != "维持"):
            return None  # the previous rating of a changed one is in the text, not on the card
        found = [located]
        text = _rated(evidence.lang, doc.meta, previous=bool(_PREVIOUS.search(focus)))
    cited = list(dict.fromkeys(f.chunk for f in found))
    citations = tuple(Citation(n, f.chunk.chunk_id, f.chunk.doc_id, f.chunk.source, f.chunk.title,
                               f.chunk.page_at(f.start), f.chunk.section, f.quote, f.start, f.end,
                               hit=cited.index(f.chunk) + 1)
                      for n, f in enumerate(found, 1))
    ids = {c.chunk_id for c in cited}
    hits = (*(Hit(c, 1.0, {"card": i}) for i, c in enumerate(cited, 1)),
            *(h for h in evidence.hits if h.chunk.chunk_id not in ids))
    return Answer(evidence.question, text, True, citations, hits, evidence.scope, kind="card")


def _the_report(store: Store, evidence: Evidence, focus: str) -> Document | None:
    """The report a question is about: the one it is scoped to, else the library's only document when the
    question speaks of a report or of the card's company or sector ("Who wrote Pride and Prejudice?" does not)."""
    doc_ids = list(evidence.scope.get("doc_ids") or ())
    if len(doc_ids) == 1:
        return store.document(doc_ids[0])
    documents = store.documents()
    if doc_ids or len(documents) != 1:
        return None
    doc = documents[0]
    subjects = [doc.meta.get(k, "") for k in ("company", "sector")]
    return doc if _REPORT.search(focus) or any(s and s in focus for s in subjects) else None


def _other_rated(doc: Document, focus: str) -> str:
    """What a Chinese question says is rated when the report rates a sector, not it, else "": "给宁德时代的投资评级"
    of a sector report asks about a company inside it; "对电子行业给出的评级" of a report rating 电子 is its card's. A
    company report's card is taken at its word (its company may be named in the other language: 腾讯, Tencent)."""
    match = _RATED.search(focus)
    if match is None or doc.meta.get("company"):
        return ""
    rated = _KIND_WORD.sub("", re.sub(r"\s+", "", match["rated"]))
    if len(rated) < 2 or _POINTING.match(rated):
        return ""  # "对该行业的评级", "给本行业的评级": the report's own subject
    known = [re.sub(r"\s+", "", doc.meta.get(k) or "") for k in ("sector", "title")]
    if any(rated in k or (len(k) >= 2 and k in rated) for k in known if k) or said_otherwise((rated,), " ".join(known), "zh"):
        return ""
    return rated


def _rated_inside(store: Store, doc: Document, rated: str) -> bool:
    """Whether a line of the report names ``rated`` with a rating (a table of the sector's stocks and their calls)."""
    return any(rated in line and _RATING_VALUE.search(line)
               for chunk in store.iter_chunks({"doc_id": doc.doc_id}) for line in chunk.text.splitlines())


def _not_rated(evidence: Evidence, doc: Document, rated: str) -> Answer:
    """The refusal that says whose rating the report gives, and that it gives none of ``rated``."""
    subject = doc.meta.get("company") or doc.meta.get("sector") or prompts.REPORT_SUBJECT[evidence.lang]
    return refusal(evidence, "rating_of_other", "extractive", rating=doc.meta.get("rating", ""), subject=subject,
                   rated=rated)


def _spelled(name: str) -> re.Pattern[str]:
    """``name`` as a report may print it, its characters spaced apart or not ("殷 晟 路")."""
    return re.compile(r"\s*".join(re.escape(ch) for ch in name.replace(" ", "")))


def _authors(lang: str, meta: dict[str, str], people: list[tuple[str, str]], first: bool) -> str:
    title, house, date = meta.get("title", ""), meta.get("publisher", ""), meta.get("date", "")
    if lang == "zh":
        who = "、".join(f"{name}（执业证书编号 {cert}）[{n}]" if cert else f"{name}[{n}]"
                       for n, (name, cert) in enumerate(people, 1))
        report = f"{house}《{title}》" + (f"（{date}）" if date else "")
        return f"{report}的{'第一作者' if first else '分析师'}：{who}。"
    who = ", ".join(f"{name} (certificate {cert}) [{n}]" if cert else f"{name} [{n}]"
                    for n, (name, cert) in enumerate(people, 1))
    report = f"{house}'s \"{title}\"" + (f" ({date})" if date else "")
    return f"{report} was written by {who}." if not first else f"The first author of {report} is {who}."


def _rated(lang: str, meta: dict[str, str], previous: bool) -> str:
    """The rating sentence; asked for the previous rating of a maintained one, it says the two are the same."""
    title, house, date = meta.get("title", ""), meta.get("publisher", ""), meta.get("date", "")
    rating, action = meta.get("rating", ""), meta.get("rating_action", "")
    subject = meta.get("company") or meta.get("sector") or ""
    if lang == "zh":
        shown = f"{rating}（{action}）" if action else rating
        said = f"{house}《{title}》" + (f"（{date}）" if date else "") + f"给予{subject}“{shown}”评级[1]。"
        return said + (f"评级为维持，上次评级同为{rating}。" if previous else "")
    actions = {"维持": "maintained", "首次": "initiated", "上调": "upgraded", "下调": "downgraded"}
    shown = f"{rating} ({actions.get(action, action)})" if action else rating
    report = f"{house}'s \"{title}\"" + (f" ({date})" if date else "")
    said = f"{report} rates {subject or 'its subject'} {shown} [1]."
    return said + (f" The rating is maintained: the previous one was {rating} too." if previous else "")
