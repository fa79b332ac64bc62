"""Report metadata, best effort and never invented: what the cover pages, the PDF info and the file name say.

Hand-written for the domain: broker names, 执业证书编号, A-share ratings and SEC cover pages follow conventions
that no general metadata library reads. Absent facts stay absent.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from pathlib import PurePath

from ingest.kinds import MARKERS, is_caption, weight
from rag.types import META_KEYS

_COVER_PAGES = 3
_MONTHS = {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4}
_MONTH_DAY_YEAR = (r"\b(Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
                   r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
                   r"\.?\s+(\d{1,2}),?\s+(\d{4})")

# Shenwan level-1 industries (2021) and common older names: a short cover line naming one is the sector.
SECTORS = frozenset(
    "农林牧渔 基础化工 化工 钢铁 有色金属 电子 汽车 家用电器 家电 食品饮料 纺织服饰 纺织服装 轻工制造 医药生物 医药 "
    "公用事业 交通运输 房地产 商贸零售 社会服务 银行 非银金融 非银行金融 综合 建筑材料 建筑装饰 电力设备 电力设备新能源 "
    "机械设备 机械 国防军工 计算机 传媒 传媒互联网 通信 煤炭 石油石化 环保 美容护理".split()
)
RATINGS = ("强于大市", "同步大市", "弱于大市", "优于大市", "跑赢行业", "跑赢大市", "同步行业", "跑输行业", "看好",
           "买入", "增持", "持有", "中性", "减持", "卖出", "推荐", "谨慎推荐", "审慎增持", "标配", "超配", "低配")
BROKER_REPORT_TYPES = ("行业周报", "行业月报", "行业点评", "行业深度", "行业专题", "公司点评", "公司深度", "公司研究",
                       "首次覆盖", "晨会纪要", "策略周报", "策略报告", "宏观点评", "宏观周报", "年度策略", "中期策略")
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
        found = _broker(pages, cover, source, info)
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
    year_end = re.search(r"fiscal year ended\s+" + _MONTH_DAY_YEAR, flat, re.IGNORECASE)
    if year_end:
        return f"FY{year_end.group(3)}"
    quarter_end = re.search(r"quarter(?:ly period)? ended\s+" + _MONTH_DAY_YEAR, flat, re.IGNORECASE)
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
    return f"quarter ended {_iso(quarter_end.group(3), _month(month), day)}"


def _release_period(flat: str) -> str:
    quarter = r"\b(first|second|third|fourth) quarter (?:of )?(fiscal (?:year )?)?(\d{4})"
    found = re.search(quarter, flat[:600], re.IGNORECASE)
    if not found:
        return ""
    return f"{'FY' if found.group(2) else ''}{found.group(3)}Q{_ORDINALS[found.group(1).lower()]}"


def _filing_date(info: dict[str, str]) -> str:
    for key in ("subject", "title"):
        text = info.get(key, "")
        iso = re.search(r"\bfiled (?:on )?(\d{4})-(\d{2})-(\d{2})", text)
        if iso:
            return _iso(*iso.groups())
        us = re.search(r"(?:filed|10-[KQ]\s*-)\s*(\d{2})/(\d{2})/(\d{4})", text)
        if us:
            return _iso(us.group(3), int(us.group(1)), us.group(2))
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


def _broker(pages: Sequence[str], cover: str, source: str, info: dict[str, str]) -> dict[str, str]:
    text = "\n".join(pages)
    first = pages[0] if pages else ""
    title = _headline(first) or (info["title"] if _meaningful(info.get("title", "")) else "")
    kinds = [k for k in BROKER_REPORT_TYPES if k in first]
    return {
        "title": title,
        "publisher": _publisher(text),
        "date": _standalone_date(cover) or _file_date(source),
        "analysts": _analysts(cover),
        "rating": _rating(cover),
        "sector": _sector(first),
        "company": _listed_company(title + "\n" + "\n".join(first.splitlines()[:5])),
        "form_type": kinds[0] if kinds else "",
    }


def _headline(first: str) -> str:
    skip = re.compile(r"^(证券研究报告|研究报告|行业研究|公司研究|分析师|执业|邮箱|联系人|投资建议|投资评级|评级|上次|"
                      r"资料来源|请务必|本报告|Source|Analyst|.*(?:Research|研究所|研究院)$)", re.IGNORECASE)  # mastheads
    for line in [line for line in first.splitlines() if line.strip()][:25]:
        text = without_rules(re.sub(r"^\s*#{1,6}\s*", "", line).replace("**", "").strip().lstrip(MARKERS + " "))
        if 16 <= weight(text) <= 120 and not re.search(r"[。！？；.!?]$", text) and not skip.match(text) \
                and not is_caption(text) and not _date_in(text) and "|" not in text:
            return text
    return ""


def _publisher(text: str) -> str:
    names: Counter[str] = Counter()
    patterns = (  # source lines, the copyright notice, a line naming the firm alone
        r"(?:资料来源|数据来源|来源)[:：][^\n]*?[,，、\s]([\u4e00-\u9fff]{2,6}?)证券(?:研究所|研究院|研究部)",
        r"版权(?:均)?(?:归|属)(?:于)?\s*([\u4e00-\u9fff]{2,6}?)证券",
        r"(?m)^\s*([\u4e00-\u9fff]{2,6})证券(?:股份有限公司|有限责任公司|研究所)?\s*$",
    )
    for pattern in patterns:
        names.update(match.group(1) + "证券" for match in re.finditer(pattern, text))
    if names:
        return names.most_common(1)[0][0]
    notice = r"(?:©|Copyright)\s*(?:©\s*)?(?:\d{4}\s+)?([A-Z][A-Za-z&.' -]{2,40}?)(?=[,.]|\s+All\b)"
    english = re.search(notice, text)
    return english.group(1).strip() if english else ""


def _analysts(cover: str) -> str:
    found: list[str] = []
    pattern = re.compile(r"(?:分析师|研究员)[:：]\s*([\u4e00-\u9fff·]{2,5})(?P<tail>[\s\S]{0,80}?)"
                         r"(?=(?:分析师|研究员|联系人)[:：]|$)")
    for match in pattern.finditer(cover):
        number = re.search(r"(?:执业证书编号|证书编号|执业编号|SAC\s*编号)[:：]?\s*(S\d{13})", match.group("tail"))
        found.append(f"{match.group(1)} ({number.group(1)})" if number else match.group(1))
    if not found:
        inline = re.finditer(r"([\u4e00-\u9fff]{2,4})\s*(?:SAC)?\s*(?:执业证书编号|证书编号)[:：]?\s*(S\d{13})", cover)
        found = [f"{m.group(1)} ({m.group(2)})" for m in inline]
    return "; ".join(dict.fromkeys(found))


def _rating(cover: str) -> str:
    words = "|".join(sorted(RATINGS, key=len, reverse=True))
    match = re.search(rf"(?:投资建议|投资评级|行业评级|公司评级|评级)[:：]\s*((?:{words})(?:[（(][^）)\n]{{1,6}}[）)])?)", cover)
    return match.group(1) if match else ""


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


def _listed_company(text: str) -> str:
    found = re.search(r"([\u4e00-\u9fff]{2,8})\s*[（(]\s*(\d{6}(?:\.S[HZ])?|\d{4,5}\.HK)\s*[)）]", text)
    return f"{found.group(1)} ({found.group(2)})" if found else ""


# --- Dates and small helpers --------------------------------------------------------------------------------

_CN_DATE = r"(20\d{2}|19\d{2})\s*[年.\-/]\s*(\d{1,2})\s*[月.\-/]\s*(\d{1,2})\s*日?"


def _date_in(text: str) -> str:
    cn = re.search(_CN_DATE, text)
    if cn:
        return _iso(*cn.groups())
    en = re.search(_MONTH_DAY_YEAR, text, re.IGNORECASE)
    if en:
        return _iso(en.group(3), _month(en.group(1)), en.group(2))
    return ""


def _standalone_date(text: str) -> str:
    """A date that is a line of its own or labelled as the report's date (dates in sentences are events)."""
    for line in text.splitlines():
        line = line.strip()
        labelled = re.match(r"(?:报告日期|发布日期|发布时间|日期|Date)[:：]\s*(.+)$", line, re.IGNORECASE)
        candidate = labelled.group(1) if labelled else line
        date = _date_in(candidate)
        rest = re.sub(_CN_DATE + "|" + _MONTH_DAY_YEAR, "", candidate, flags=re.IGNORECASE)
        if date and len(re.sub(r"[\s|/·:：-]", "", rest)) <= 8 and "《" not in line:
            return date
    return ""


def _file_date(source: str) -> str:
    stem = PurePath(source).stem
    match = re.search(r"(?<!\d)(20\d{2})[-_.]?(0[1-9]|1[0-2])(?:[-_.]?(0[1-9]|[12]\d|3[01]))?(?![\dA-Za-z])",
                      stem)
    if not match:
        return ""
    year, month, day = match.groups()
    return f"{year}-{month}-{day}" if day else f"{year}-{month}"


def _iso(year: str | int, month: str | int, day: str | int) -> str:
    y, m, d = int(year), int(month), int(day)
    return f"{y:04d}-{m:02d}-{d:02d}" if 1 <= m <= 12 and 1 <= d <= 31 else ""


def _month(name: str) -> int:
    return _MONTHS.get(name[:3].lower(), 0)


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _meaningful(title: str) -> bool:
    """A PDF /Title worth showing: words, not an accession number or a word-processor file name."""
    return bool(re.search(r"[A-Za-z\u4e00-\u9fff]{3}", title)) and not re.search(
        r"microsoft word|\.docx?\b|\.pdf\b|^\s*[\d-]+\s*$|untitled", title, re.IGNORECASE)
