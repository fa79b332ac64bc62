"""Whether a question asks across the reports on one company, and what it asks: the question model of
:mod:`rag.crossreport`.

A cross-report question names a company the library covers, a field (rating, target price, a forecast metric
of the finance vocabulary with its year, or everything: "latest view", "who covers") and no single broker.
Filters narrow the rows: a rating ("买入评级", "rated Buy"), a bound on the target ("above HK$700",
"目标价高于150元"), a revision ("cut their targets", "上调"). Hand-written: the cue words are the way analysts
phrase these questions in Chinese and English, which no library lists.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rag.companies import Company, find_company
from rag.terms import BROKER_NICKNAMES, FinanceTerm, analyze

__all__ = ["RATING_GROUPS", "CrossQuestion", "broker_named", "broker_names", "cross_question",
           "rating_matches"]

# Ratings that say the same in the two languages; a question's rating word finds each of its group's words.
RATING_GROUPS: tuple[tuple[str, ...], ...] = (
    ("买入", "buy", "strong buy"),
    ("增持", "overweight", "accumulate", "add"),
    ("持有", "hold"),
    ("中性", "neutral", "equal-weight", "equal weight", "market perform", "同步大市"),
    ("减持", "underweight", "reduce"),
    ("卖出", "sell"),
    ("跑赢行业", "跑赢大市", "优于大市", "强于大市", "领先大市", "outperform", "high conviction outperform"),
    ("跑输行业", "跑输大市", "弱于大市", "落后大市", "underperform"),
    ("推荐",), ("强烈推荐",), ("谨慎推荐",),
)
_FIRM_SUFFIX = re.compile(r"(?:证券|国际|公司|集团|securities|research|capital markets)$", re.I)
# "rate" as the verb ("rate Tencent", "rate it"), not the noun ("What discount rate does…", "the tax rate in 2025")
_RATING_FIELD = re.compile(r"\b(?:rat(?:es|ed|ing|ings)|recommendations?|calls?)\b|\brate\s+(?:it|them|(?-i:[A-Z]))"
                           r"|评级|推荐", re.I)
# A capitalised word inside the sentence before "Call" makes it a title ("UBS's Key Call note"), not a call on the stock
_TITLED = re.compile(r"\w\W+[A-Z][a-z]+\s+Calls?$")
_TARGET_FIELD = re.compile(r"\b(?:target(?:\s+price)?s?|price\s+targets?|TPs?|PTs?|POs?|price\s+objectives?)\b"
                           r"|目标价", re.I)
# What a target price rests on ("what multiple is the price target based on", "目标价对应多少倍PE") is a passage
# of the report's valuation, not the target itself
_BASIS = re.compile(r"\b(?:based\s+on|basis|multiples?|correspond(?:s|ing)?\s+to|impl(?:y|ies|ied)|derived?"
                    r"|methodolog(?:y|ies)|method)\b|基于|依据|对应|隐含|估值方法|倍数", re.I)
_EVERYTHING = re.compile(r"\b(?:view|views|take|stance|cover(?:s|ed|age)?|say|said|think)\b"
                         r"|观点|看法|怎么看|覆盖|研报|报告", re.I)
_FORECAST_CUE = re.compile(r"\b(?:forecasts?|estimates?|projections?|expect(?:s|ed|ations?)?|consensus)\b"
                           r"|预测|预期|预计|估计|(?:19|20)\d\d\s*[EF]\b", re.I)
# "which" asks across reports when it asks which firms ("Which brokers…", "which houses"), not "Which titles drove…"
_ACROSS = re.compile(r"\bwhich\s+(?:\w+\s+)?(?:brokers?|houses?|firms?|banks?|analysts?|institutions?)\b"
                     r"|\b(?:who|each|every|all|brokers?|houses|analysts|compare|comparison|range|latest)\b"
                     r"|哪家|哪几家|哪些(?:券商|机构|公司)|各家|各券商|分别|所有|几家|多少家|券商|机构|对比|比较|一致|分歧|区间|最新",
                     re.I)
_PREVIOUS = re.compile(r"上一?次|此前|之前|原来|原先|\b(?:previous|prior|before|old)\b", re.I)
_LATEST = re.compile(r"\blatest\b|\bmost\s+recent\b|\bnewest\b|最新|最近", re.I)
_REVISION = re.compile(r"\b(?:changes?|changed|revis\w*|upgrad\w*|downgrad\w*|rais\w*|cut|cuts|lower\w*|"
                       r"increas\w*|reduc\w*)\b|(?<!经)调整|变化|变动|上调|下调|调高|调低|提高|降低", re.I)
_UP = re.compile(r"\b(?:upgrad\w*|rais\w*|increas\w*|lift\w*)\b|上调|调高|提高", re.I)
_DOWN = re.compile(r"\b(?:downgrad\w*|cut|cuts|lower\w*|reduc\w*)\b|下调|调低|降低", re.I)
# English rating words that are also verbs, and the words around them that make them a rating
_VERB_RATINGS = frozenset({"buy", "add", "hold", "sell", "reduce", "accumulate"})
_RATING_BEFORE = re.compile(r"\b(?:an?|rated?|rating\s+of|(?:up|down)grade[sd]?\s+(?:\w+\s+)?to|cut\s+to)\s+$", re.I)
_RATING_AFTER = re.compile(r"[\s-]*(?:ratings?|rated|calls?|recommendations?)\b", re.I)
_QUANTITY = re.compile(r"多少|几[个家项年倍]|\bhow\s+(?:much|many)\b|\bwhat\s+(?:share|percentage|portion)\b", re.I)
_CARD_TERMS = frozenset({"rating", "target_price", "forecast", "yoy_growth"})
_NUMBER = r"(\d+(?:,\d{3})*(?:\.\d+)?)"
_CURRENCY = r"(?:HK\$|US\$|\$|HKD|USD|RMB|CNY|¥|港元|港币|美元|人民币|元)?"
_BOUND_BEFORE = re.compile(
    rf"(?i:(above|over|higher\s+than|more\s+than|greater\s+than|exceeding|at\s+least|below|under|lower\s+than|"
    rf"less\s+than|at\s+most)|(高于|超过|大于|不低于|至少|低于|小于|不高于|不超过)|(>=|<=|>|<))\s*{_CURRENCY}\s*{_NUMBER}")
_BOUND_AFTER = re.compile(rf"{_NUMBER}\s*{_CURRENCY}\s*(以上|以下|or\s+more|or\s+above|or\s+less|or\s+below)", re.I)
_ABOVE = frozenset("above over higher than more than greater than exceeding 高于 超过 大于 > 以上".split())
_AT_LEAST = frozenset(("at least", "不低于", "至少", ">=", "or more", "or above"))
_AT_MOST = frozenset(("at most", "不高于", "不超过", "<=", "or less", "or below", "以下"))


@dataclass(frozen=True)
class CrossQuestion:
    """What a cross-report question asks: the company, the fields, the metric and year, and the filters.

    ``fields`` holds "rating", "target_price" and/or "forecast"; ``ratings`` the rating groups asked for
    (:data:`RATING_GROUPS` first words); ``bound`` an operator and a target price; ``revision`` "any", "up"
    or "down" for questions about changes; ``across`` whether the question says it asks across reports.
    """

    text: str
    lang: str
    company: Company
    fields: tuple[str, ...]
    metric: str = ""  # a finance vocabulary term name ("net_income")
    metric_label: str = ""  # the metric as the question says it ("归母净利润", "net profit")
    year: str = ""
    ratings: tuple[str, ...] = ()
    bound: tuple[str, float] | None = None
    revision: str = ""
    latest: bool = False
    across: bool = False
    brokers: tuple[str, ...] = ()  # the brokers the question names: their reports' row only
    previous: bool = False  # asks the target price before the current one ("Nomura's previous target")


def cross_question(question: str, found: Sequence[Company], publishers: Iterable[str] = ()) -> CrossQuestion | None:
    """The :class:`CrossQuestion` of ``question`` about one of the companies ``found``; ``None`` when it
    names none of them, asks no field, asks one broker's forecast, or names a broker (``publishers`` and
    their nicknames) with no report on the company. A question naming brokers that cover the company ("交银
    国际给阳光电源的目标价", "J.P. Morgan's rating on Tencent") keeps their reports' rows only."""
    text = unicodedata.normalize("NFKC", question)
    company = find_company(text, found)
    if company is None:
        return None
    brokers = tuple(b for b in company.brokers if any(_mentions(text, n) for n in broker_names(b)))
    if not brokers and broker_named(text, [*publishers, *company.brokers]):
        return None  # a broker that has no report on the company: the usual answer says what the library holds
    query = analyze(question)
    names = {t.name for t in query.finance}
    ratings = _ratings_asked(text)
    bound = _bound(text)
    rest = _BOUND_AFTER.sub(" ", _BOUND_BEFORE.sub(" ", text))  # "lower than HK$700" is a bound, not a cut
    revision = ("down" if _DOWN.search(rest) else "up" if _UP.search(rest) else "any") \
        if _REVISION.search(rest) else ""
    metric = _metric(query.finance)
    fields = []
    if ratings or "rating" in names or any(not _TITLED.search(text[:m.end()]) for m in _RATING_FIELD.finditer(text)):
        fields.append("rating")
    if bound or "target_price" in names or _TARGET_FIELD.search(text):
        fields.append("target_price")
    across = bool(_ACROSS.search(text))
    if metric and ("forecast" in names or _FORECAST_CUE.search(text) or across):
        fields.append("forecast")
    # "员工总数 in 东吴's report", "报告提到的份额是多少" ask for a fact of a report, not the brokers' views
    other = [n for n in names if n not in _CARD_TERMS] or (_QUANTITY.search(text) and not _ACROSS.search(text))
    if not fields and not other and (revision or _LATEST.search(text) or _EVERYTHING.search(text)):
        fields = ["rating", "target_price"]
    if not fields or (brokers and "forecast" in fields):
        return None  # one broker's forecast is a figure answer citing its cell
    if "forecast" not in fields and _BASIS.search(text):
        return None  # what the target rests on: the report's valuation passage
    newest = _default_year("", company)  # the newest report's year
    if "forecast" not in fields and query.years and newest and int(max(query.years)) > int(newest) + 1:
        return None  # "2030 price target": reports state a 12-month target, no year's
    year = query.years[-1] if query.years else _default_year(text, company)
    label = _label(metric, question, query.lang) if metric else ""
    return CrossQuestion(question, query.lang, company, tuple(fields), metric.name if metric else "", label, year,
                         ratings, bound, revision, bool(_LATEST.search(text)), across, brokers,
                         fields == ["target_price"] and bool(_PREVIOUS.search(rest)))


def broker_named(text: str, publishers: Iterable[str]) -> bool:
    """Whether ``text`` names one of the ``publishers`` (or its short form: 国金 for 国金证券) or a firm of
    :data:`BROKER_NICKNAMES` by one of its names."""
    firms = {p.strip() for p in publishers if p and p.strip()} | set(BROKER_NICKNAMES)
    return any(_mentions(text, name) for firm in firms for name in broker_names(firm))


def broker_names(firm: str) -> tuple[str, ...]:
    """The ways reports and questions write ``firm``: its name, its short form (2+ characters) and nicknames."""
    short = _FIRM_SUFFIX.sub("", firm).strip()
    return tuple(dict.fromkeys((firm, *([short] if len(short) >= 2 else []), *BROKER_NICKNAMES.get(firm, ()))))


def rating_matches(rating: str, asked: Sequence[str]) -> bool:
    """Whether a report's ``rating`` is one of the ``asked`` rating groups ("Buy" is 买入)."""
    word = rating.casefold().strip()
    if not word:
        return False
    for group in RATING_GROUPS:
        if group[0] in asked and (word in group or any(w.isascii() and _mentions(word, w) for w in group)):
            return True
    return False


def _ratings_asked(text: str) -> tuple[str, ...]:
    """The rating groups a question names: "买入评级", "rated Buy", "Overweight" (the longest word wins)."""
    asked: list[str] = []
    spans: list[tuple[int, int]] = []
    words = sorted(((w, g[0]) for g in RATING_GROUPS for w in g), key=lambda x: len(x[0]), reverse=True)
    for word, group in words:
        for match in _find(text, word):
            if not any(s <= match[0] < e for s, e in spans):
                spans.append(match)
                asked.append(group)
    return tuple(dict.fromkeys(asked))


def _find(text: str, word: str) -> list[tuple[int, int]]:
    if word.isascii():
        pattern = rf"(?<![A-Za-z]){re.escape(word)}(?![A-Za-z])"
        return [m.span() for m in re.finditer(pattern, text, re.I)
                if word not in _VERB_RATINGS or _as_rating(text, *m.span())]
    return [m.span() for m in re.finditer(re.escape(word), text)]


def _as_rating(text: str, start: int, end: int) -> bool:
    """Whether a rating word that is also a verb ("add", "buy", "hold") is said as a rating: capitalised ("Add"),
    or after "a", "rated", "upgraded to", or before "rating" ("a buy", "rated hold", "buy ratings"); "plan to
    add GPUs" and "buy back shares" ask no rating."""
    return (text[start].isupper() or bool(_RATING_BEFORE.search(text[:start]))
            or bool(_RATING_AFTER.match(text[end:])))


def _mentions(text: str, name: str) -> bool:
    return bool(_find(text, name))


def _bound(text: str) -> tuple[str, float] | None:
    """A bound on the target price: ("> ", 700.0) for "above HK$700", (">=", 150.0) for "150元以上"."""
    match = _BOUND_BEFORE.search(text)
    if match:
        word = " ".join((match.group(1) or match.group(2) or match.group(3)).lower().split())
        value = float(match.group(4).replace(",", ""))
    else:
        match = _BOUND_AFTER.search(text)
        if not match:
            return None
        word = " ".join(match.group(2).lower().split())
        value = float(match.group(1).replace(",", ""))
    if word in _AT_LEAST or word == "以上":
        return ">=", value
    if word in _AT_MOST:
        return "<=", value
    return (">", value) if word in _ABOVE else ("<", value)


def _metric(terms: Sequence[FinanceTerm]) -> FinanceTerm | None:
    """The forecast metric asked: the first vocabulary term that names a figure (not a topic)."""
    return next((t for t in terms if t.kind in ("figure", "ratio") and t.name not in ("target_price",)), None)


def _label(term: FinanceTerm, question: str, lang: str) -> str:
    said = question.casefold()
    asked = [p for p in (*term.asked, *term.printed) if p.casefold() in said]
    if asked:
        return max(asked, key=len)
    pool = [p for p in term.asked if (lang == "zh") == bool(re.search("[\u4e00-\u9fff]", p))]
    return (pool or list(term.asked))[0]


def _default_year(text: str, company: Company) -> str:
    """The year a question without one means: next year for 明年/next year, else the newest report's year."""
    latest = max((r.date for r in company.reports if r.date), default="")
    year = int(latest[:4]) if latest[:4].isdigit() else 0
    if not year:
        return ""
    if re.search(r"明年|next\s+year", text, re.I):
        return str(year + 1)
    return str(year)
