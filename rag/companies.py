"""The companies a library of broker reports covers: each company with its tickers and the reports on it.

Built from the report cards (``Document.meta``, see :data:`rag.types.META_KEYS`) alone, so these are pure
functions over documents. Reports are one company when they share a ticker (``0700.HK``, ``00700.HK`` and
``700 HK`` are one code; an A-share code is one with or without its exchange) or a name once the legal
suffixes are dropped ("Tencent Holdings Ltd." is "Tencent", "腾讯控股" is "腾讯"); a report that prints
"Sungrow" and one that prints "阳光电源" are one company through their shared code 300274.SZ.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from rag.types import Document

# Legal and holding-company words that do not tell one company from another (dropped to compare names).
_EN_SUFFIX = re.compile(
    r"(?:[\s,]+(?:holdings?|group|ltd|limited|inc|incorporated|co|company|corp|corporation|plc|sa|ag|nv|"
    r"class [ab]|[ah]-?shares?)\.?)+$", re.IGNORECASE)
_ZH_SUFFIX = re.compile(r"(?:股份有限公司|有限责任公司|有限公司|控股|集团|股份|公司)+$")
_CODE = re.compile(r"(?<![\d.])(\d{1,6})(?:\s*\.?\s*(SH|SZ|SS|BJ|HK)\b)?(?![\d.%])", re.IGNORECASE)
_YEAR_OR_AMOUNT = re.compile(r"\s*(?:年|[AEF]\b|亿|万|元|[%％]|倍|x\b|港元|美元|HK\$|bn|mn)", re.IGNORECASE)


@dataclass(frozen=True)
class Coverage:
    """One report on a company: the call it makes (rating, action, target) and where it is printed.

    ``page`` is the page that prints the card's facts (the first page of a broker report).
    """

    doc_id: str
    source: str
    broker: str
    date: str  # YYYY-MM-DD ("" when the report states none)
    title: str
    company: str  # the name as this report prints it
    ticker: str
    rating: str  # "买入", "Buy" ("" when not stated)
    rating_action: str  # 维持 / 首次 / 上调 / 下调
    target_price: float | None
    target_currency: str
    previous_target: float | None
    page: int = 1

    @property
    def call(self) -> str:
        """The rating with its action, as reports print it: "买入（维持）", "Buy"."""
        return f"{self.rating}（{self.rating_action}）" if self.rating and self.rating_action else self.rating

    @property
    def target(self) -> str:
        """The target price with its currency ("155.00 CNY"), then "(from 220.00)" or "(unchanged)" where the
        report states the previous one."""
        if self.target_price is None:
            return ""
        now = f"{self.target_price:,.2f} {self.target_currency}".strip()
        if self.previous_target is None:
            return now
        return f"{now} (unchanged)" if self.previous_target == self.target_price else \
            f"{now} (from {self.previous_target:,.2f})"


@dataclass(frozen=True)
class Company:
    """A company the library covers: the name most of its reports print, its tickers, and its reports by date
    (oldest first); ``names`` holds every name the reports print."""

    name: str
    tickers: tuple[str, ...]
    reports: tuple[Coverage, ...]
    names: tuple[str, ...] = ()

    @property
    def latest(self) -> Coverage:
        """The newest report."""
        return self.reports[-1]

    @property
    def latest_rating(self) -> Coverage | None:
        """The newest report that states a rating (None when none does)."""
        return next((r for r in reversed(self.reports) if r.rating), None)

    @property
    def latest_target(self) -> Coverage | None:
        """The newest report that states a target price (None when none does)."""
        return next((r for r in reversed(self.reports) if r.target_price is not None), None)

    @property
    def brokers(self) -> tuple[str, ...]:
        """The brokers that cover the company, in order of their first report."""
        return tuple(dict.fromkeys(r.broker for r in self.reports if r.broker))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types: the company, its latest rating and target (with the report stating each), its
        reports."""
        rated, targeted = self.latest_rating, self.latest_target
        return {
            "name": self.name, "tickers": list(self.tickers), "names": list(self.names),
            "brokers": list(self.brokers),
            "latest_rating": {"rating": rated.rating, "rating_action": rated.rating_action,
                              "broker": rated.broker, "date": rated.date, "doc_id": rated.doc_id}
            if rated else None,
            "latest_target": {"target_price": targeted.target_price,
                              "target_currency": targeted.target_currency, "broker": targeted.broker,
                              "date": targeted.date, "doc_id": targeted.doc_id}
            if targeted else None,
            "reports": [asdict(report) for report in self.reports],
        }


def companies(docs: Sequence[Document]) -> list[Company]:
    """The companies that ``docs`` cover (reports whose card names a ticker or a company), most covered
    first; reports on no single company (industry, strategy, macro) are left out."""
    reports = [coverage(doc) for doc in docs if doc.meta.get("ticker") or doc.meta.get("company")]
    groups = _connected([_keys(r) for r in reports])
    found = [_company([reports[i] for i in group]) for group in groups]
    return sorted(found, key=lambda c: (-len(c.reports), c.name))


def coverage(doc: Document) -> Coverage:
    """The card of one report as a :class:`Coverage` (prices parsed; what the card lacks stays empty)."""
    meta = doc.meta
    return Coverage(
        doc_id=doc.doc_id, source=doc.source, broker=meta.get("publisher", ""), date=meta.get("date", ""),
        title=doc.title, company=meta.get("company", "").strip(), ticker=meta.get("ticker", "").strip(),
        rating=meta.get("rating", ""), rating_action=meta.get("rating_action", ""),
        target_price=price(meta.get("target_price", "")), target_currency=meta.get("target_currency", ""),
        previous_target=price(meta.get("previous_target", "")),
    )


def find_company(question: str, found: Sequence[Company]) -> Company | None:
    """The company ``question`` names: by a name its reports print or that name without its legal suffix
    ("腾讯", "Tencent"), else by a ticker code ("300274", "0700.HK", "700"); the longest name wins."""
    text = unicodedata.normalize("NFKC", question)
    best: tuple[int, Company] | None = None
    for company in found:
        for alias in aliases(company):
            if (best is None or len(alias) > best[0]) and _mentions(text, alias):
                best = (len(alias), company)
    if best is not None:
        return best[1]
    codes = set(_question_codes(text))
    return next((c for c in found if codes & {code_key(t) for t in c.tickers}), None)


def aliases(company: Company) -> list[str]:
    """The names a question may use for ``company``: each printed name and its short form (2+ characters)."""
    names = {unicodedata.normalize("NFKC", n).strip() for n in (company.name, *company.names)}
    names |= {short_name(n) for n in names}
    return sorted((n for n in names if len(n) >= 2 and not n.isdigit()), key=len, reverse=True)


def short_name(name: str) -> str:
    """``name`` without the words every listed company may carry: "Tencent Holdings Ltd." -> "Tencent",
    "腾讯控股" -> "腾讯", "豪威集团" -> "豪威" (a name that would be left with under two characters stays)."""
    name = unicodedata.normalize("NFKC", name).strip()
    short = _ZH_SUFFIX.sub("", _EN_SUFFIX.sub("", name)).strip(" ,.")
    return short if len(short) >= 2 else name


def code_key(ticker: str) -> str:
    """One key per listing, whatever the form: "0700.HK" / "00700.HK" / "700 HK" -> "700.HK"; an A-share's
    six digits with or without the exchange -> "300274"; other codes upper-cased."""
    code = unicodedata.normalize("NFKC", ticker).strip().upper()
    hong_kong = re.fullmatch(r"(\d{1,5})\s*\.?\s*HK", code)
    if hong_kong:
        return f"{int(hong_kong.group(1))}.HK"
    a_share = re.fullmatch(r"(\d{6})(?:\s*\.?\s*(?:SH|SZ|SS|BJ|C[H12]))?", code)
    return a_share.group(1) if a_share else code


def price(text: str) -> float | None:
    """A printed price as a number ("1,234.50" -> 1234.5); None for an empty or unreadable one."""
    try:
        return float(text.replace(",", "").strip()) if text.strip() else None
    except ValueError:
        return None


def tickers_of(text: str) -> list[str]:
    """The tickers a card's ``ticker`` field lists ("0700.HK", or several separated by commas or slashes)."""
    return [t.strip() for t in re.split(r"[,，、;；/|]", text) if t.strip()]


# --- Grouping ---------------------------------------------------------------------------------------------


def _keys(report: Coverage) -> set[str]:
    """What ties a report to others of the same company: its codes and its name without legal suffixes."""
    keys = {"code:" + code_key(t) for t in tickers_of(report.ticker)}
    if report.company:
        keys.add("name:" + short_name(report.company).casefold())
    return keys


def _connected(keys: Sequence[set[str]]) -> list[list[int]]:
    """Indexes of ``keys`` grouped so that items sharing any key (directly or through others) are together."""
    parent = list(range(len(keys)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[str, int] = {}
    for i, item in enumerate(keys):
        for key in item:
            if key in owner:
                parent[root(i)] = root(owner[key])
            else:
                owner[key] = i
    groups: dict[int, list[int]] = {}
    for i in range(len(keys)):
        groups.setdefault(root(i), []).append(i)
    return list(groups.values())


def _company(reports: Iterable[Coverage]) -> Company:
    """One company from its reports: sorted by date (then broker and file), named as most of them print it."""
    ordered = tuple(sorted(reports, key=lambda r: (r.date, r.broker, r.source)))
    counts = Counter(r.company for r in ordered if r.company)
    forms = Counter(short_name(r.company).casefold() for r in ordered if r.company)
    # the most printed spelling of the most printed name ("Tencent" over "Tencent Holdings Ltd."), shortest
    names = sorted(counts, key=lambda n: (-forms[short_name(n).casefold()], -counts[n], len(n), n))
    spellings = Counter(t for r in ordered for t in tickers_of(r.ticker))
    printed: dict[str, str] = {}  # per listing: a spelling naming its exchange, the most printed, shortest
    for ticker in sorted(spellings, key=lambda t: ("." not in t, -spellings[t], len(t), t)):
        printed.setdefault(code_key(ticker), ticker)
    tickers = tuple(dict.fromkeys(printed[code_key(t)] for r in ordered for t in tickers_of(r.ticker)))
    name = names[0] if names else (tickers[0] if tickers else "")
    return Company(name=name, tickers=tickers, reports=ordered, names=tuple(names))


# --- Matching ---------------------------------------------------------------------------------------------


def _mentions(text: str, alias: str) -> bool:
    """Whether ``text`` names ``alias``: Chinese anywhere, Latin as whole words and case-insensitively."""
    if not alias.isascii():
        return alias in text
    return re.search(rf"(?<![A-Za-z0-9]){re.escape(alias)}(?![A-Za-z0-9])", text, re.IGNORECASE) is not None


def _question_codes(text: str) -> list[str]:
    """Ticker codes in a question, as :func:`code_key` keys: "300274", "0700.HK", "700 HK", a bare "700";
    years and amounts ("2026", "2026年", "700亿", "15%") are not codes (a Hong Kong code such as 2020 needs its
    "HK")."""
    keys = []
    for found in _CODE.finditer(text):
        digits, exchange = found.group(1), (found.group(2) or "").upper()
        if exchange:
            keys.append(code_key(f"{digits}.{exchange}" if exchange != "HK" else f"{digits} HK"))
        elif not _YEAR_OR_AMOUNT.match(text, found.end()) and not re.fullmatch(r"(?:19|20)\d\d", digits):
            keys.append(digits if len(digits) == 6 else f"{int(digits)}.HK")
    return keys
