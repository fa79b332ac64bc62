"""Report metadata, best effort and never invented: what the cover pages, the PDF info and the file name say.

Hand-written for the domain: broker names, 执业证书编号, A-share ratings and SEC cover pages follow conventions
that no general metadata library reads. Absent facts stay absent.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from ingest.broker_card import broker_card
from ingest.dates import MONTH_DAY_YEAR, iso, month_number, standalone_dates
from ingest.kinds import MARKERS
from rag.types import META_KEYS

_COVER_PAGES = 3
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4}
# Shenwan level-1 industries (2021) and common older names: a short cover line naming one is the sector.
SECTORS = frozenset(
    "农林牧渔 基础化工 化工 钢铁 有色金属 电子 汽车 家用电器 家电 食品饮料 纺织服饰 纺织服装 轻工制造 医药生物 医药 "
    "公用事业 交通运输 房地产 商贸零售 社会服务 银行 非银金融 非银行金融 综合 建筑材料 建筑装饰 电力设备 电力设备新能源 "
    "机械设备 机械 国防军工 计算机 传媒 传媒互联网 通信 煤炭 石油石化 环保 美容护理".split()
)
SEC_FORMS = re.compile(r"\bFORM\s+(10-K|10-Q|8-K|20-F|40-F|6-K|S-1)(/A)?\b", re.IGNORECASE)
CN_PERIODIC = re.compile(r"(\d{4})\s*年\s*(半年度报告|年度报告|第一季度报告|第三季度报告|一季度报告|三季度报告)")
_CN_PERIOD = {"半年度报告": "H1", "第一季度报告": "Q1", "一季度报告": "Q1", "第三季度报告": "Q3", "三季度报告": "Q3",
              "年度报告": ""}  # longest first: "半年度报告" contains "年度报告"
_COMPANY_WORD = re.compile(r"\b(company|inc|corp|corporation|co|ltd|llc|plc|holdings|group|incorporated)\b",
                           re.IGNORECASE)
_NEWSWIRE = re.compile(  # a newswire dateline or an exchange ticker: a press release
    r"\((?:business wire|prnewswire|globe newswire)\)|\((?:nasdaq|nyse)[^:)]*:\s*[a-z.]+\)", re.IGNORECASE)
_RESULTS = re.compile(r"\b(announces|reports)\b.{0,80}\b(quarter|fiscal|results)\b", re.IGNORECASE)


def extract_metadata(pages: Sequence[str], source: str, info: dict[str, str]) -> dict[str, str]:
    """Metadata under :data:`rag.types.META_KEYS` from the cleaned ``pages``, file name and PDF ``info``."""
    cover = "\n".join(pages[:_COVER_PAGES])
    info = {key.lstrip("/").lower(): str(value) for key, value in info.items() if value}
    head = _flat(pages[0] if pages else "")[:600]
    top = cover[:4000]
    sec_cover = SEC_FORMS.search(top) and re.search(r"securities and exchange commission", top, re.IGNORECASE)
    if sec_cover or (_RESULTS.search(head) and _NEWSWIRE.search(head)):  # SEC cover page, press release
        found = _filing(pages, info)
    elif _cn_periodic_form(cover):
        found = _cn_periodic(pages[0], cover)
    else:
        found = _broker(pages, source, info)
    return {key: found[key].strip() for key in META_KEYS if found.get(key, "").strip()}


# --- SEC filings and earnings releases ----------------------------------------------------------------------


def _filing(pages: Sequence[str], info: dict[str, str]) -> dict[str, str]:
    first = pages[0] if pages else ""
    cover = "\n".join(pages[:2])
    form = SEC_FORMS.search(cover)
    meta = {"company": _registrant(cover, info)}
    if form:
        meta["form_type"] = form.group(1).upper() + (form.group(2) or "").upper()
        meta["period"] = _filing_period(cover, pages)
    else:
        meta["form_type"] = "earnings release"
        meta["period"] = _release_period(_flat(first))
    meta["date"] = _filing_date(info) or _standalone_date(first)
    parts = [meta.get("company", ""), meta["form_type"], meta.get("period", "")]
    meta["title"] = " ".join(p for p in parts if p) if meta["company"] else ""
    if not form and _meaningful(info.get("title", "")):
        meta["title"] = info["title"]
    return meta


def _registrant(cover: str, info: dict[str, str]) -> str:
    lines = [line.strip() for line in cover.splitlines() if line.strip()]
    for index, line in enumerate(lines):
        # The name sits on the line before "(Exact name of registrant ...)", or before it on the same line
        # when cleaning joined the two; some covers put it after the commission file number instead.
        exact = re.search(r"\(?exact name of registrant", line, re.IGNORECASE)
        if exact:
            before = _after_file_number(line[: exact.start()])
            for previous in reversed(lines[max(0, index - 3):index]):  # the nearest line that is no rule
                before = before or _after_file_number(previous)
            return before
        filed = re.search(r"commission file n(?:o\.|umber)[:\s]*[\d-]+\s*(.*)$", line, re.IGNORECASE)
        if filed:
            name = filed.group(1) or (lines[index + 1] if index + 1 < len(lines) else "")
            if _COMPANY_WORD.search(name):
                return name.strip()
    listed = re.search(r"([^\n]*?)\s*\((?:NASDAQ|NYSE|Nasdaq|NYSE American)[^:)]*:\s*[A-Z.]+\)", cover)
    if listed:
        return re.split(r"--|—", listed.group(1))[-1].strip(" ,")
    title = info.get("title", "")
    named = re.search(r"\bfor (.+?) filed\b", title) or re.search(r"-\s*\d\d/\d\d/\d{4}\s*-\s*(.+)$", title)
    return named.group(1).strip() if named else ""


def _after_file_number(text: str) -> str:
    return without_rules(re.sub(r"^.*commission file n(?:o\.|umber)[:\s]*[\d-]+\s*", "", text, flags=re.I)).strip(" (")


_RULE = re.compile(r"^[\s_\-—–=*·.~|]+|[\s_\-—–=*·~|]+$")


def without_rules(text: str) -> str:
    """``text`` without the rule lines and page furniture around it ("_____ SQUARE, INC." -> "SQUARE, INC.");
    "" when nothing with two letters is left (a line of underscores is no title)."""
    kept = _RULE.sub("", text)
    return kept if len(re.findall(r"[A-Za-z\u4e00-\u9fff]", kept)) >= 2 else ""


def _filing_period(cover: str, pages: Sequence[str]) -> str:
    flat = _flat(cover)
    year_end = re.search(r"fiscal year ended\s+" + MONTH_DAY_YEAR, flat, re.IGNORECASE)
    if year_end:
        return f"FY{year_end.group(3)}"
    quarter_end = re.search(r"quarter(?:ly period)? ended\s+" + MONTH_DAY_YEAR, flat, re.IGNORECASE)
    if not quarter_end:
        return ""
    month, day = quarter_end.group(1), quarter_end.group(2)
    # The fiscal quarter is named where the text ties it to the period end ("second quarter of fiscal 2024 on
    # July 29"); the cover page gives only the date.
    tied = re.compile(rf"\b(first|second|third|fourth) quarter of fiscal (\d{{4}})\b[^.]{{0,40}}?"
                      rf"\b{month}\.? {day}\b", re.IGNORECASE)
    for page in pages[:40]:
        match = tied.search(_flat(page))
        if match:
            return f"FY{match.group(2)}Q{_ORDINALS[match.group(1).lower()]}"
    return f"quarter ended {iso(quarter_end.group(3), month_number(month), day)}"


def _release_period(flat: str) -> str:
    quarter = r"\b(first|second|third|fourth) quarter (?:of )?(fiscal (?:year )?)?(\d{4})"
    found = re.search(quarter, flat[:600], re.IGNORECASE)
    if not found:
        return ""
    return f"{'FY' if found.group(2) else ''}{found.group(3)}Q{_ORDINALS[found.group(1).lower()]}"


def _filing_date(info: dict[str, str]) -> str:
    for key in ("subject", "title"):
        text = info.get(key, "")
        dashed = re.search(r"\bfiled (?:on )?(\d{4})-(\d{2})-(\d{2})", text)
        if dashed:
            return iso(*dashed.groups())
        us = re.search(r"(?:filed|10-[KQ]\s*-)\s*(\d{2})/(\d{2})/(\d{4})", text)
        if us:
            return iso(us.group(3), int(us.group(1)), us.group(2))
    return ""


# --- Chinese periodic reports (年度报告, 半年度报告, 季度报告) -----------------------------------------------------


def _cn_periodic_form(cover: str) -> tuple[str, str] | None:
    """(year, form) of an A-share periodic report: its cover title, or its code/short-name labels and wording.

    Cleaning may drop the cover title "2019 年年度报告" as a running header, hence the second way.
    """
    titled = CN_PERIODIC.search(cover)
    if titled:
        return titled.group(1), titled.group(2)
    if not (re.search(r"(?:公司|证券|股票)代码[:：]\s*\d{6}", cover) and re.search(r"(?:公司|证券|股票)简称[:：]", cover)):
        return None
    form = next((f for f in _CN_PERIOD if f in cover), None)
    year = re.search(r"(\d{4})\s*年\s*(?:度|半年度|第[一三]季度)", cover)
    return (year.group(1), form) if form and year else None


def _cn_periodic(first: str, cover: str) -> dict[str, str]:
    found = _cn_periodic_form(cover)
    assert found is not None
    year, form = found
    name = re.search(r"(?:公司|证券|股票)简称[:：]\s*([^\s:：]{2,12})", cover)
    code = re.search(r"(?:公司|证券|股票)代码[:：]\s*(\d{6})", cover)
    full = re.search(r"^\s*([\u4e00-\u9fff（）()]{4,40}(?:股份有限公司|有限责任公司|有限公司))\s*$", first, re.MULTILINE)
    company = name.group(1) if name else (full.group(1) if full else "")
    if company and code:
        company = f"{company} ({code.group(1)})"
    title_name = full.group(1) if full else company
    return {
        "company": company,
        "form_type": form,
        "period": year + _CN_PERIOD[form],
        "title": f"{title_name} {year}年{form}" if title_name else "",
    }


# --- Broker research ----------------------------------------------------------------------------------------


def _broker(pages: Sequence[str], source: str, info: dict[str, str]) -> dict[str, str]:
    card = broker_card(pages, source, info)
    card["sector"] = _sector(pages[0] if pages else "")
    return card


def _sector(first: str) -> str:
    for line in [line for line in first.splitlines() if line.strip()][:15]:
        name = re.sub(r"^\s*#{1,6}\s*", "", line).strip().strip(MARKERS + " *").removesuffix("行业")
        if name in SECTORS:
            return name
    labelled = re.search(r"(?:所属行业|行业)[:：]\s*([\u4e00-\u9fff]{2,6})", first)
    if labelled and labelled.group(1).removesuffix("行业") in SECTORS:
        return labelled.group(1).removesuffix("行业")
    titles = re.finditer(r"《([\u4e00-\u9fff]{2,6})[:：]", first)  # related reports: 《计算机：...》
    related = Counter(m.group(1) for m in titles if m.group(1) in SECTORS)
    return related.most_common(1)[0][0] if related else ""


# --- Dates and small helpers --------------------------------------------------------------------------------


def _standalone_date(text: str) -> str:
    """The first date that is a line of its own or labelled as the report's date (dates in sentences are events)."""
    found = standalone_dates(text)
    return found[0] if found else ""


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _meaningful(title: str) -> bool:
    """A PDF /Title worth showing: words, not an accession number or a word-processor file name."""
    return bool(re.search(r"[A-Za-z\u4e00-\u9fff]{3}", title)) and not re.search(
        r"microsoft word|\.docx?\b|\.pdf\b|^\s*[\d-]+\s*$|untitled", title, re.IGNORECASE)
