"""Who published a broker report: the firm's name under one spelling, whichever way the report writes it.

A table of the research houses that publish on Chinese and Hong Kong listed companies (no library lists them):
the name the library shows first, then the other ways reports write it ("中国银河证券" and "CGS" are 银河证券,
"Citigroup" is Citi). A firm missing from the table is still found by the masthead and copyright patterns of
:func:`publisher`, under the name it prints.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath

from ingest.dates import file_date

BROKERS: tuple[tuple[str, ...], ...] = (
    # mainland brokers: the short name is in the legal name, so one spelling finds both
    *((name,) for name in (
        "中信证券 中信建投 国泰海通 国泰君安 海通证券 华泰证券 广发证券 招商证券 申万宏源 国信证券 东方证券 光大证券 "
        "兴业证券 长江证券 国投证券 安信证券 国金证券 东吴证券 天风证券 方正证券 开源证券 西南证券 华西证券 德邦证券 "
        "华金证券 太平洋证券 粤开证券 华源证券 华福证券 爱建证券 浙商证券 民生证券 财通证券 国联民生 国联证券 东北证券 "
        "中泰证券 信达证券 东兴证券 国元证券 华安证券 山西证券 首创证券 国海证券 华创证券 中原证券 东莞证券 万联证券 "
        "平安证券 国盛证券 华鑫证券 甬兴证券 东海证券 湘财证券 财信证券 五矿证券 诚通证券 川财证券 中航证券 江海证券 "
        "渤海证券 金元证券 华宝证券 华龙证券 红塔证券 北京证券 中邮证券 中银证券 世纪证券 大同证券 第一创业 长城证券 "
        "南京证券 西部证券 国都证券 上海证券 财达证券 华林证券 中山证券 东亚前海 申港证券 银河证券").split()),
    ("中金公司", "中国国际金融", "CICC"),
    ("中银国际", "BOCI"),
    ("交银国际", "交銀國際", "BOCOM International"),
    ("浦银国际", "浦銀國際", "SPDB International"),
    ("招银国际", "招銀國際", "CMB International", "CMBI"),
    ("招商证券国际", "招商證券國際", "China Merchants Securities (HK)", "CMS (HK)"),
    ("建银国际", "CCB International"), ("农银国际", "ABCI"), ("工银国际", "ICBC International"),
    ("海通国际", "Haitong International"), ("国泰君安国际", "Guotai Junan International"),
    ("第一上海", "First Shanghai"), ("东亚期货", "East Asia Futures"),
    ("BofA Securities", "BofA Global Research", "Bank of America", "Merrill Lynch"),
    ("Citi", "Citi Research", "Citigroup"),
    ("J.P. Morgan", "JPMorgan", "J.P.Morgan", "JP Morgan"),
    ("Morgan Stanley",), ("Goldman Sachs",), ("UBS",), ("Nomura",), ("Daiwa", "Daiwa Capital Markets"),
    ("Macquarie",), ("CLSA",), ("Deutsche Bank",), ("HSBC", "HSBC Global Research"), ("Jefferies",),
    ("Barclays",), ("Bernstein",), ("Mizuho",), ("BNP Paribas",), ("Credit Suisse",), ("Citic Securities",),
)
_CANONICAL = {alias.casefold(): names[0] for names in BROKERS for alias in names}
_CANONICAL["中国银河证券"] = "银河证券"
_ALIASES = re.compile("|".join(  # longest first: 招商证券国际 before 招商证券
    rf"(?<![A-Za-z]){re.escape(alias)}(?![A-Za-z])" if alias.isascii() else re.escape(alias)
    for alias in sorted(_CANONICAL, key=len, reverse=True)), re.IGNORECASE)
_FIRM = r"[\u4e00-\u9fff]{2,6}?(?:证券|期货|国际)"


@dataclass(frozen=True)
class NamedFile:
    """What a library's file name says under the "YYYYMMDD-券商-标题.pdf" convention ("" where it does not)."""

    date: str = ""
    broker: str = ""
    title: str = ""  # the title part without the broker's name or the "公司（代码）：" in front
    company: str = ""
    code: str = ""  # as written: "300274.SZ", "603501"


def canonical(name: str) -> str:
    """The library's spelling of a firm's name ("中国银河证券" -> "银河证券"); unknown names unchanged."""
    return _CANONICAL.get(name.strip().casefold(), name.strip())


def brokers_named(text: str) -> Counter[str]:
    """How often each known firm is named in ``text``, under its canonical name."""
    return Counter(canonical(m.group(0)) for m in _ALIASES.finditer(text))


def publisher(pages: Sequence[str]) -> str:
    """The firm that published the report: the known firm named most (the first page counts three times, as
    the masthead, source lines and disclaimers name the publisher), else a firm on a source or copyright line."""
    counts = brokers_named("\n".join(pages))
    for name, count in brokers_named(pages[0] if pages else "").items():
        counts[name] += 2 * count
    if counts:
        return counts.most_common(1)[0][0]
    text = "\n".join(pages)
    names: Counter[str] = Counter()
    patterns = (  # source lines, the copyright notice, a line naming the firm alone
        rf"(?:资料来源|数据来源|来源)[:：][^\n]*?[,，、\s]({_FIRM})(?:研究所|研究院|研究部)",
        rf"版权(?:均)?(?:归|属|仅为)(?:于)?\s*({_FIRM})",
        rf"(?m)^\s*({_FIRM})(?:股份有限公司|有限责任公司|有限公司|研究所)?\s*$",
    )
    for pattern in patterns:
        names.update(canonical(match.group(1)) for match in re.finditer(pattern, text))
    if names:
        return names.most_common(1)[0][0]
    notice = r"(?:©|Copyright)\s*(?:©\s*)?(?:\d{4}\s+)?([A-Z][A-Za-z&.' -]{2,40}?)(?=[,.]|\s+All\b)"
    english = re.search(notice, text)
    return canonical(english.group(1)) if english else ""


def named_file(source: str) -> NamedFile:
    """Read a file name written as "20260401-东吴证券-阳光电源（300274.SZ）：2025年报点评….pdf"."""
    stem = PurePath(source).stem
    match = re.fullmatch(r"(\d{8})-([^-]{2,16}?)-(.+)", stem)
    if not match or not file_date(match.group(1)):
        return NamedFile()
    broker, title = canonical(match.group(2)), match.group(3)
    title = title.removeprefix(match.group(2)).removeprefix(broker).strip(" -_")
    company = code = ""
    covered = re.match(r"([^（(：:]{2,12})[（(]\s*([0-9A-Za-z.]{4,10})\s*[)）]\s*[:：]?\s*", title)
    if covered:
        company, code, title = covered.group(1), covered.group(2), title[covered.end():]
    return NamedFile(file_date(match.group(1)), broker, title, company, code)
