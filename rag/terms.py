"""Question analysis, once: language, years, Latin names, key terms, and the finance terms a question asks for.

Ground floor of ``rag``: retrieval, the evidence gate and the answerers read the :class:`Query` built
here instead of re-deriving its pieces. The finance vocabulary is data (``rag/data/finance_terms.toml``):
analyst words and Chinese abbreviations mapped to the line items and headings that print the figure, in
both languages, so "capex" finds "Purchases of property, plant and equipment" and "3M 2018年的营业收入"
finds "Net sales" in an English filing. Hand-written matching: no library knows this domain's phrasing.
"""

from __future__ import annotations

import calendar
import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from rag.text import cjk_ratio, split_sentences, tokenize

__all__ = [
    "BROKER_NICKNAMES", "MONTH_NAME", "QUESTION_WORDS", "STATEMENTS", "STATEMENT_HEADINGS", "YEAR", "FinanceTerm",
    "Query", "analyze", "content_terms", "finance_terms", "framed_terms", "is_mostly_cjk", "key_terms", "language",
    "months", "quarters", "question_focus", "says_year", "statement_headings", "subject", "unnamed_terms", "vocabulary",
]

YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")
_LATIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9.\-&]*")
_ENGLISH_FUNCTION_WORDS = re.compile(r"\b(?:what|which|how|is|are|was|were|the|of|did|does|do)\b", re.I)
_CJK_CHAR = re.compile(r"[\u4e00-\u9fff]")
# Nicknames of firms that publish on Chinese and Hong Kong companies, by the name report cards give them: how
# questions name them ("CICC" for 中金公司, "大摩" for Morgan Stanley).
BROKER_NICKNAMES: dict[str, tuple[str, ...]] = {
    "J.P. Morgan": ("JPMorgan", "JP Morgan", "J.P.Morgan", "JPM", "摩根大通", "小摩"),
    "Morgan Stanley": ("摩根士丹利", "大摩"),
    "BofA Securities": ("BofA", "Bank of America", "Merrill Lynch", "美银", "美国银行"),
    "Citi": ("Citigroup", "Citi Research", "花旗"),
    "Goldman Sachs": ("Goldman", "高盛"), "UBS": ("瑞银",), "Nomura": ("野村",), "Daiwa": ("大和",),
    "Macquarie": ("麦格理",), "CLSA": ("里昂",), "Deutsche Bank": ("德意志银行", "德银"), "HSBC": ("汇丰",),
    "Jefferies": ("杰富瑞",), "中金公司": ("中金", "CICC", "中国国际金融"),
    "招银国际": ("招銀國際", "CMB International", "CMBI"),
    "招商证券国际": ("招商證券國際", "China Merchants Securities", "CMS International"),
    "交银国际": ("交銀國際", "BOCOM International"), "浦银国际": ("浦銀國際", "SPDB International"),
}
# How questions are phrased, not what they ask about: interrogatives, references to the report itself and to
# where in it (文中, 表中: a table's row says neither), colloquial asking (拿到), and English glue words missing
# from the BM25 stopwords. They never need to appear in the answer passage.
# A filing's form written as one word ("this 10K report") names the document, as 报告 does; filings print it
# "10-K", which the tokenizer splits.
QUESTION_WORDS = frozenset(
    "多长 多大 多久 多高 多快 多远 多少钱 哪家 哪位 哪一 哪年 为何 为什么 可以 能够 能否 是不 有没有 怎么样 主要 分别 "
    "这份 该份 本文 文中 文里 表中 表里 报告 研报 提到 提及 指出 认为 表示 介绍 拿到 时候 什么时候 何时 哪天 "
    "according report document mentioned mention say says said state stated whether any has have had "
    "does did able between during under within like using use only if drove fy q1 q2 q3 q4 h1 h2 "
    "10k 10q 8k 20f".split()
)
_FISCAL_YEAR = re.compile(r"(?:fy|cy)((?:19|20)\d{2})")  # FY2022 -> 2022, as filings write the year
_LEAD_IN = re.compile(
    r"^[^?？]*[:：]\s*(?=(?:what|which|how|who|when|where|why|is|are|was|were|did|does|do)\b)", re.I
)


@dataclass(frozen=True)
class FinanceTerm:
    """One concept of the vocabulary: how it is asked, how statements print it, where it lives."""

    name: str
    asked: tuple[str, ...]
    printed: tuple[str, ...]
    statement: str
    formula: str = ""
    kind: str = "figure"  # "figure" (a line item), "ratio" (has a formula) or "topic" (names no single figure)
    display: str = ""  # how a ratio is shown: "percent" | "times"
    judged_by: tuple[str, ...] = ()  # a topic's ratios that a judgement on it turns on ("capital-intensive")

    @property
    def phrases(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.asked, *self.printed)))


@dataclass(frozen=True)
class Query:
    """What a question asks, as every stage of answering reads it.

    ``finance`` are the vocabulary terms it names (longest phrases first, no phrase counted inside a longer
    one: "gross margin" is not also "margin"); ``expansion`` their phrases the question does not already say.
    """

    text: str
    focus: str  # the interrogative sentence(s) without instructions around them (:func:`question_focus`)
    lang: str  # "zh" | "en"
    years: tuple[str, ...]
    quarters: tuple[tuple[str, int], ...]  # (year, quarter) of each quarter named: "Q2 of FY2024" -> ("2024", 2)
    names: tuple[str, ...]  # Latin-script names inside a Chinese question (3M, Sora, PP&E) as written
    finance: tuple[FinanceTerm, ...]

    @property
    def expansion(self) -> tuple[str, ...]:
        said = self.text.casefold()
        return tuple(dict.fromkeys(p for t in self.finance for p in t.phrases if p.casefold() not in said))

    @property
    def statements(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t.statement for t in self.finance))


def analyze(question: str) -> Query:
    """The :class:`Query` of ``question``."""
    lang = language(question)
    names = [n.rstrip(".-") for n in _LATIN_NAME.findall(question)] if lang == "zh" else []
    return Query(
        text=question,
        focus=question_focus(question),
        lang=lang,
        years=tuple(dict.fromkeys(YEAR.findall(question))),
        quarters=quarters(question),
        names=tuple(dict.fromkeys(n for n in names if len(n) > 1 and re.search("[A-Za-z]", n))),
        finance=finance_terms(question),
    )


_Y = f"({YEAR.pattern})"  # a year, as a group
_QUARTER_NUMBERS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "一": 1, "二": 2, "三": 3, "四": 4}
_QUARTERS = (  # (pattern, group of the year, group of the quarter)
    (re.compile(rf"(?<![a-z0-9])q([1-4])[\s,]*(?:of\s+)?(?:the\s+)?(?:fy|fiscal(?:\s+year)?)?\s*'?{_Y}", re.I), 2, 1),
    (re.compile(rf"(?<![a-z0-9])(?:fy\s*)?{_Y}[\s_-]*q([1-4])(?![0-9])", re.I), 1, 2),
    (re.compile(rf"\b(first|second|third|fourth)\s+quarter\s+(?:of\s+)?(?:fiscal\s+(?:year\s+)?)?{_Y}", re.I), 2, 1),
    (re.compile(r"(?<!\d)((?:19|20)\d{2})\s*年\s*第?\s*([一二三四1-4])\s*季度"), 1, 2),
)


def quarters(text: str) -> tuple[tuple[str, int], ...]:
    """The fiscal quarters ``text`` names, as (year, quarter), in order: "Q2 of FY2024", "2021 Q1", "FY2024Q2",
    "second quarter of fiscal 2024", "2020年第一季度" (a question, or a filing's period, title or file name)."""
    found: dict[tuple[str, int], None] = {}
    for pattern, year, quarter in _QUARTERS:
        for match in pattern.finditer(text):
            said = match.group(quarter).casefold()
            found[(match.group(year), _QUARTER_NUMBERS.get(said) or int(said))] = None
    return tuple(found)


# A month's name as reports print it ("August", "Aug.", "Sept"), and a month of a year in any of the ways they
# print one: "August 2025", "14 Aug 2025", "Aug-25", "08/14/2025", "2025-08", "2025年8月".
MONTH_NAME = (r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
              r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\b\.?")
_MONTHS = (
    re.compile(rf"\b(?P<name>{MONTH_NAME})\s*(?:\d{{1,2}}(?:st|nd|rd|th)?,?\s+)?(?P<year>(?:19|20)\d{{2}})\b", re.I),
    re.compile(rf"\b(?P<name>{MONTH_NAME})[-']\s?(?P<yy>\d{{2}})\b", re.I),
    re.compile(r"(?<![\d/])(?P<month>\d{1,2})/\d{1,2}/(?P<year>(?:19|20)\d{2})(?!\d)"),
    re.compile(r"(?<!\d)(?P<year>(?:19|20)\d{2})\s*(?:[-/.]|年)\s*(?P<month>\d{1,2})(?:\s*月|(?![\d.]))"),
)
_MONTH_ABBR = [m.lower() for m in calendar.month_abbr]


def months(text: str) -> set[tuple[int, int]]:
    """The months of a year ``text`` names, as (year, month), in any of the ways reports print them."""
    found = set()
    for pattern in _MONTHS:
        for match in pattern.finditer(text):
            parts = match.groupdict()
            month = _MONTH_ABBR.index(parts["name"][:3].lower()) if parts.get("name") else int(parts["month"])
            year = int(parts["year"]) if parts.get("year") else 2000 + int(parts["yy"])
            if 1 <= month <= 12:
                found.add((year, month))
    return found


# A quarter as a passage names it, with or without its year: "二季度", "第二季度", "Q2", "2Q".
_QUARTER_SAID = {n: re.compile(rf"(?<![\d年])第?{cn}季度|(?<![A-Za-z0-9])(?:Q{n}|{n}Q)(?![A-Za-z0-9])")
                 for cn, n in _QUARTER_NUMBERS.items() if not cn.isascii()}


def says_quarter(text: str, quarter: int) -> bool:
    """Whether ``text`` names fiscal ``quarter`` (1-4) without a year run into it: "预计二季度 GDP…", "Q2", "2Q"
    (not "2026年二季度" or "2Q26", which :func:`says_year` reads)."""
    return _QUARTER_SAID[quarter].search(text) is not None


def says_year(text: str, year: str) -> bool:
    """Whether ``text`` names ``year`` ("2026"), as reports print it: 2026, 2026E, FY2026, or short in a
    broker's note: 26E, 26F, FY26, 26年, either end of a range ("26-27E"), a quarter or half of it (1Q26, 2H26)."""
    if re.search(rf"(?<!\d){year}(?!\d)", text):
        return True
    yy = year[2:]
    return re.search(rf"(?<![\w.]){yy}(?:[EFA]\b|年)|\bFY\s?'?{yy}(?!\d)|(?<![\w.]){yy}[-–/]\d{{2}}[EFA]\b"
                     rf"|(?<![\w.])\d{{2}}[-–/]{yy}[EFA]\b|\b[1-4]Q{yy}[EFA]?\b|\b[12]H{yy}[EFA]?\b", text) is not None


def content_terms(text: str) -> tuple[str, ...]:
    """The words that carry a question's or claim's content (no stopwords, interrogatives, lone CJK chars)."""
    terms: list[str] = []
    for token in tokenize(text):
        token = token.removesuffix("'s").removesuffix("’s")
        token = _FISCAL_YEAR.sub(r"\1", token)
        if token in QUESTION_WORDS or (len(token) == 1 and not token.isascii()):
            continue
        if token not in terms:
            terms.append(token)
    return tuple(terms)


def question_focus(question: str) -> str:
    """The interrogative sentence(s) of a question, without instructions around them.

    "Assume you are an analyst. Answer using the balance sheet: what is the FY2018 net PP&E for 3M?
    Round to two decimals." -> "what is the FY2018 net PP&E for 3M?" (instructions name no evidence).
    """
    asked = [s for s in split_sentences(question) if s.rstrip().endswith(("?", "？"))]
    if not asked:
        return question
    focus = " ".join(s.strip() for s in asked)
    lead_in = _LEAD_IN.search(focus)
    return focus[lead_in.end():] if lead_in else focus


_SUBJECT_EN = re.compile(r"(?<![A-Za-z0-9])((?:[A-Z][A-Za-z0-9&.\-]*\s+){0,3}[A-Z][A-Za-z0-9&.\-]*)['’]s\b")
_SUBJECT_ZH = re.compile(
    r"^\s*(?:请问)?([\u4e00-\u9fff]{2,8}?)(?=(?:19|20)\d{2}\s*年|的|在|近|今年|去年|上半年|全年|公司|集团)")
# What a Chinese question opens with when it names no company: the company itself (公司前五大客户), a
# preposition (为公司年报签字的…), a time (以往的…).
_NO_SUBJECT_ZH = re.compile(r"[为对向据按从与]?(?:本|该|这家)?(?:公司|集团)|以往|过去|此前|目前|当前|现在|今年|去年|未来")


def subject(question: str) -> str:
    """The company a question is about when its phrasing says so: "Home Depot's net earnings",
    "海螺水泥2018年的归母净利润" (a possessive English name; the Chinese name the question opens with)."""
    focus = question_focus(question)
    if language(focus) == "zh":
        match = _SUBJECT_ZH.search(focus)
        return match.group(1) if match and not _NO_SUBJECT_ZH.match(match.group(1)) else ""
    match = _SUBJECT_EN.search(focus)
    return match.group(1).strip() if match else ""


def language(question: str) -> str:
    """``"zh"`` for a question written in Chinese (an English one naming 四方科技 stays English)."""
    cjk = len(_CJK_CHAR.findall(question))
    return "zh" if cjk and len(_ENGLISH_FUNCTION_WORDS.findall(question)) < 2 else "en"


def is_mostly_cjk(text: str) -> bool:
    return cjk_ratio(text) > 0.5


# Headings that open a statement page, by the vocabulary's statement names, matched against a line with its
# spaces removed (PDF text splits words: "Consolidated Balance Shee t"). A page of the key-figures table
# (主要会计数据和财务指标, "Selected financial data", "Financial highlights") counts as income, balance and cash
# flow at once; a broker's forecast table (盈利预测与估值, 主要财务指标) as forecast.
STATEMENT_HEADINGS: dict[str, re.Pattern[str]] = {
    "income": re.compile(
        r"statements?of(?:consolidated)?(?:income|operations|earnings|comprehensiveincome)|incomestatements?"
        r"|利润表|损益表|主要会计数据|selectedfinancialdata|financialhighlights"),
    "balance": re.compile(r"balancesheets?|statements?of(?:consolidated)?financial(?:position|condition)"
                          r"|资产负债表|主要会计数据|selectedfinancialdata"),
    "cash_flow": re.compile(r"statements?of(?:consolidated)?cashflows?|cashflowsstatements?|cashflowstatements?"
                            r"|现金流量表|主要会计数据"),
    "equity": re.compile(r"statements?of(?:changesin)?(?:consolidated)?(?:share|stock)holders['’]?equity"
                         r"|所有者权益变动表|股东权益变动表"),
    "forecast": re.compile(r"盈利预测|财务预测|主要财务指标|估值表|financial(?:forecasts?|summary|projections)"
                           r"|earningsforecasts?|valuation(?:table|summary)"),
    "legal": re.compile(r"legalproceedings|重大诉讼|诉讼事项"),
}
STATEMENTS = tuple(STATEMENT_HEADINGS)


_HEADING_LINE = 90  # characters: a line longer than this is prose that mentions a statement, not its heading
_HEADING_LEAD = 40  # the heading starts within this many characters of its line ("3M Company … Consolidated")


def statement_headings(text: str) -> list[tuple[str, int]]:
    """``(statement, offset)`` of each statement heading in ``text``: a short line that names the statement
    near its start ("Consolidated Statement of Cash Flows", "合并利润表", "盈利预测与估值"); prose that refers
    to a statement ("see the Consolidated Balance Sheet") is no heading."""
    found = []
    start = 0
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if stripped and len(stripped) <= _HEADING_LINE and not stripped.endswith((".", "。", ";", "；")):
            squeezed = "".join(stripped.split()).casefold()
            for name, pattern in STATEMENT_HEADINGS.items():
                match = pattern.search(squeezed)
                if match and match.start() <= _HEADING_LEAD:
                    found.append((name, start))
        start += len(line)
    return found


@lru_cache(maxsize=1)
def vocabulary() -> tuple[FinanceTerm, ...]:
    """The finance vocabulary shipped with the package."""
    raw = tomllib.loads(resources.files("rag").joinpath("data/finance_terms.toml").read_text(encoding="utf-8"))
    return tuple(
        FinanceTerm(t["name"], tuple(t["asked"]), tuple(t.get("printed", ())), t["statement"], t.get("formula", ""),
                    t.get("kind", "ratio" if t.get("formula") else "figure"), t.get("display", ""),
                    tuple(t.get("judged_by", ())))
        for t in raw["term"]
    )


# A question about a report's standing text: what its ratings mean, its disclaimers, its analysts'
# certification. Those pages are boilerplate, which retrieval skips unless a question asks for them.
_RATING_WORD = re.compile(r"评级|强于大市|同步大市|弱于大市|买入|增持|持有|中性|减持|卖出|\brat(?:ing|ed|es)\b|\boutperform|"
                          r"\bunderperform|\boverweight|\bunderweight", re.I)
_DEFINITION = re.compile(r"标准|体系|说明|定义|规则|含义|意思|是指|代表什么|指的是|看的是|基准|多长时间|多久"
                         r"|\bmeans?\b|\bdefin|\bstandards?\b|\bscale\b|\bsystem\b|\bbenchmark|\bhorizon\b", re.I)
_STANDING_TEXT = re.compile(r"免责|(?:分析师|重要|法律|一般|特别)声明|\bdisclaimers?\b|\banalyst certification\b", re.I)
# A broker's earlier targets and ratings: the history its disclosures print ("08/14/2025 Buy, Target Price Change
# HKD 720.00"), asked by a past month or a word for earlier ones.
_TARGET_OR_RATING = re.compile(r"目标价|评级|\btarget\b|\bprice objective\b|\brating\b", re.I)
_HISTORY = re.compile(r"历史|此前|之前|上次|曾经|\bhistory\b|\bprevious\b|\bprior\b|\bearlier\b", re.I)


def asks_standing_text(question: str) -> bool:
    """Whether ``question`` asks about a report's standing text: what a rating means or how ratings are set
    ("“强于大市”是什么含义", "评级看的是多长时间内的表现", "What does Outperform mean?"), its disclaimers, or the
    history of its targets and ratings ("What target did Deutsche Bank set in August 2025?")."""
    focus = question_focus(question)
    return bool((_RATING_WORD.search(focus) and _DEFINITION.search(focus)) or _STANDING_TEXT.search(focus)
                or (_TARGET_OR_RATING.search(focus) and (_HISTORY.search(focus) or months(focus))))


@dataclass(frozen=True)
class Place:
    """A place a question can restrict a figure to, with the forms a passage may name it by. A home market
    (国内, domestic) has ``elsewhere`` words: a passage that says none of them speaks of it too."""

    forms: tuple[str, ...]
    elsewhere: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.forms[0]

    def said_in(self, text: str) -> bool:
        """Whether ``text`` names the place by one of its forms."""
        return any(pattern.search(text) for pattern in _form_patterns(self.forms))

    def named_in(self, text: str) -> bool:
        """Whether a passage ``text`` speaks of the place: it says it, or (a home market) none of its elsewhere words."""
        return self.said_in(text) or bool(self.elsewhere) and not any(
            pattern.search(text) for pattern in _form_patterns(self.elsewhere))

    def as_named_in(self, text: str) -> str:
        """The form ``text`` names the place by (印度 in a Chinese question), else :attr:`name`."""
        return next((f for f, pattern in zip(self.forms, _form_patterns(self.forms), strict=True)
                     if pattern.search(text)), self.name)


@lru_cache(maxsize=1)
def _places() -> tuple[Place, ...]:
    raw = tomllib.loads(resources.files("rag").joinpath("data/places.toml").read_text(encoding="utf-8"))
    return tuple(Place(tuple(p["forms"]), tuple(p.get("elsewhere", ()))) for p in raw["place"])


@lru_cache(maxsize=256)
def _form_patterns(forms: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    """Chinese forms as written; English ones as whole words, any case but for short ones (UK, HK)."""
    return tuple(
        re.compile(re.escape(f)) if is_mostly_cjk(f)
        else re.compile(rf"(?<![A-Za-z0-9]){re.escape(f)}(?![A-Za-z0-9])", 0 if len(f) <= 3 else re.I)
        for f in forms
    )


def places(text: str) -> tuple[Place, ...]:
    """The places of :data:`rag/data/places.toml` that ``text`` names ("stores in Canada", "在印度的收入")."""
    return tuple(p for p in _places() if p.said_in(text))


@lru_cache(maxsize=1)
def _phrase_patterns() -> tuple[tuple[re.Pattern[str], FinanceTerm], ...]:
    """Every asked phrase as a pattern (Latin phrases as whole words), longest first."""
    found = []
    for term in vocabulary():
        for phrase in term.asked:
            body = re.escape(phrase.casefold())
            pattern = body if is_mostly_cjk(phrase) else rf"(?<![a-z0-9]){body}s?(?![a-z0-9])"  # "gross margins"
            found.append((len(phrase), re.compile(pattern), term))
    found.sort(key=lambda item: -item[0])
    return tuple((pattern, term) for _, pattern, term in found)


@lru_cache(maxsize=4096)
def finance_terms(question: str) -> tuple[FinanceTerm, ...]:
    """The vocabulary terms ``question`` asks for; a phrase inside a longer matched one does not count."""
    text = question.casefold()
    found: dict[str, FinanceTerm] = {}
    for pattern, term in _phrase_patterns():
        match = pattern.search(text)
        if match:
            found.setdefault(term.name, term)
            text = text[: match.start()] + " " * (match.end() - match.start()) + text[match.end():]
    return tuple(found.values())


# Words that ask rather than name what is asked about: interrogatives with a measure word (几项, 多长时间),
# "this report" (这篇, 那份), and verbs of asking (列出, 说明, 撰写). Absent from the passages that answer,
# they would weigh as the rarest words of the question. Hand-written: no library lists question phrasing.
_ASKING = re.compile(r"^(?:几.|哪.|多[少长大久高快远].*|[这该本此那][篇份])$")
_ASKING_WORDS = frozenset(
    "列出 列举 举例 例子 说明 含义 意味 具体 大致 体现 包含 涉及 出自 来自 撰写 给出 给予 方面 一下".split()
)
# Words that frame what is asked: a superlative (最长, 最早: the passage states the value, "长达 60s"), a count
# (两位, 一项, 各家), "this time" (这次), the time, comparison or source around a figure (之前, 通常, 大约,
# 相比, 根据, 截至, 眼下), and where the report prints it ("引用IEA数据的表格里": a table row says none of
# that). Evidence where a passage says them ("截至4月3日"), no cost where it does not.
_FRAMING = re.compile(r"^(?:最[长大高低多少早快小强]|[这那该本此][次项位家]|[一两二三四五六七八九十几]+[位项家种]|各[家位项])$")
# Nouns that name the kind of answer asked for, not what it is about: "宽屏视频规格是多少" is answered by
# "宽屏 1920x1080p 视频", "提升幅度" by "+16.9%", "哪些内容" by the list itself. A report states the value
# and rarely the noun, so the noun, rare in reports, would weigh most of all when absent. They frame.
_ANSWER_KIND_WORDS = frozenset(
    "内容 规格 尺寸 大小 幅度 程度 范围 情况 方式 方法 形式 类型 种类 类别 名称 名字 特点 特征 数值 水平".split()
)
_FRAMING_WORDS = frozenset(
    "之前 以前 此前 之后 以后 以往 通常 往往 大约 大概 左右 相比 相对 相较 根据 按照 依据 截至 截止 目前 当前 现在 眼下"
    " 表格 图表 引用".split()
) | _ANSWER_KIND_WORDS


def key_terms(question: str) -> tuple[str, ...]:
    """The question's content words without those that only ask, nor their sub-words (时间 of 多长时间)."""
    return framed_terms(question)[0]


def framed_terms(question: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """:func:`key_terms`, and the words among the rest that frame the question (both none when nothing is left)."""
    terms = content_terms(question)
    framing = tuple(t for t in terms if _FRAMING.match(t) or t in _FRAMING_WORDS)
    asking = [t for t in terms if _ASKING.match(t) or t in _ASKING_WORDS] + list(framing)
    kept = tuple(t for t in terms if not any(t in a for a in asking))
    return (kept, framing) if kept else (terms, ())


def unnamed_terms(terms: tuple[str, ...], name: str) -> tuple[str, ...]:
    """``terms`` without the words of ``name`` (a scoped report's name, which its passages satisfy already);
    all of them when nothing else is left."""
    named = set(content_terms(name))
    return tuple(t for t in terms if t not in named) or terms
