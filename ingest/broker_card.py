"""The card of a broker report: who published it when, its title and kind, the analysts, the company and ticker
it covers, and the call (:mod:`ingest.broker_call`). Absent facts stay absent.

Read from the first page as cleaned for ingestion, then from the file name where the library follows the
"YYYYMMDD-券商-标题.pdf" convention (:func:`ingest.brokers.named_file`): some first pages print their masthead
as pictures or in fonts without a text mapping, and then the file name is the only witness. Hand-written for the
domain: SAC practice numbers, A-share and Hong Kong ticker forms and report-kind mastheads follow conventions
that no general library reads.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ingest.analysts import PERSON_EN, analysts, not_a_person
from ingest.broker_call import Target, rating, target_price
from ingest.brokers import NamedFile, brokers_named, named_file, publisher
from ingest.dates import CN_DATE, date_in, file_date, standalone_dates
from ingest.kinds import MARKERS, is_caption, is_numeric_row, weight

# Report kinds, in the library's words, and the masthead words that name them (first found wins).
KIND_CUES: tuple[tuple[str, str], ...] = (
    ("金融工程", r"金融工程|金工|量化"),
    ("固收", r"固定收益|固收|债市|利率债|信用债|fixed income"),
    ("宏观", r"宏观|经济数据|产业经济|economics"),
    ("策略", r"策略|大类资产|资产配置|strategy"),
    ("公司深度", r"公司深度|首次覆盖|深度研究|initiation|initiating coverage|in-depth"),
    ("公司点评", r"公司点评|公司更新|公司信息更新|业绩点评|年报点评|季报点评|公司研究|company update|company report|"
             r"change in earnings"),
    ("行业深度", r"行业深度|行业专题|深度报告"),
    ("行业周报", r"周报|周跟踪|月报|行业展望|weekly"),
    ("行业点评", r"行业点评|行业简评"),
)
_KINDS = tuple((kind, re.compile(cue, re.IGNORECASE)) for kind, cue in KIND_CUES)
_A_SHARE = {"60": "SH", "68": "SH", "90": "SH", "00": "SZ", "30": "SZ", "20": "SZ", "43": "BJ", "83": "BJ",
            "87": "BJ", "92": "BJ"}
_CODE = r"\d{6}(?:\.(?:SH|SZ|SS|BJ)|\s+C[H12])?|\d{4,5}(?:\.HK|\s+HK)?|\d{1,3}\s+HK"
_COMPANY = r"[\u4e00-\u9fff]{2,8}|[A-Z][A-Za-z&.'-]*(?:[ \t]+[A-Z][A-Za-z&.'-]*){0,3}"
_MASTHEAD = re.compile(rf"^[ \t]*(?:Key Call:[ \t]*)?({_COMPANY})(?:[ \t]*[（(][ \t]*({_CODE})[ \t]*(?:,[^)）\n]*)?[)）]"
                       rf"|[ \t]+(\d{{4,5}}\.HK|\d{{6}}\.(?:SH|SZ|BJ))\b)", re.MULTILINE)
_LISTING_LABEL = re.compile(r"股票代码|证券代码|代码|Reuters|Bloomberg|RIC|Ticker|Exchange", re.IGNORECASE)
_LISTED = re.compile(r"(?:股票代码|RIC|Reuters|Bloomberg)[^\n]{0,24}?(?<![\d.])(\d{4,6}\.(?:HK|SH|SZ|BJ))\b"
                     r"|^[ \t]*(\d{4,5}\.HK|\d{1,5}[ \t]+HK)\b", re.MULTILINE)


def broker_card(pages: Sequence[str], source: str, info: dict[str, str]) -> dict[str, str]:
    """The card of a broker report under :data:`rag.types.META_KEYS` names ("" for what is not stated)."""
    first = pages[0] if pages else ""
    named = named_file(source)
    company, ticker = covered(first, named)
    said, action = rating(first)
    target = target_price(first) if ticker else Target()  # a target price is a company's
    title = report_title(first, named, info, company)
    house = publisher(pages) or named.broker
    return {
        "title": title,
        "publisher": house,
        "date": issue_date(pages, named, source),
        "report_kind": report_kind(first, title, named, house, bool(ticker), len(pages), said),
        "analysts": analysts(first),
        "company": company,
        "ticker": ticker,
        "rating": said,
        "rating_action": action if said else "",
        "target_price": target.price,
        "target_currency": target.currency,
        "previous_target": target.previous,
    }


# --- When ----------------------------------------------------------------------------------------------------


def issue_date(pages: Sequence[str], named: NamedFile, source: str) -> str:
    """The date the first page prints as its own line (the latest, as older ones are related reports or data
    dates); the file name's date where the page names it too or prints none; then any on the cover pages."""
    first = pages[0] if pages else ""
    printed = standalone_dates(first) + _edge_dates(first)
    said = named.date or file_date(source)
    if said and (said in printed or said == date_in(first)):
        return said
    if printed:
        return max(printed)
    later = standalone_dates("\n".join(pages[1:3]))
    return said or (later[0] if later else "")


def _edge_dates(page: str) -> list[str]:
    """Dates written 年月日 at the start or end of a line (a masthead run together with the title)."""
    edge = re.compile(rf"^\s*{CN_DATE}(?=[\u4e00-\u9fff])|(?<=[\u4e00-\u9fff”」)）\s]){CN_DATE}\s*$", re.MULTILINE)
    return [d for m in edge.finditer(page) if "日" in m.group(0) for d in [date_in(m.group(0))] if d]


# --- What ----------------------------------------------------------------------------------------------------


def report_title(first: str, named: NamedFile, info: dict[str, str], company: str) -> str:
    """The title the file name gives under the library's convention (without a series label the page does
    not print with it), else the PDF's own title minus the company, else the first page's headline."""
    if named.title:
        _, _, after = named.title.partition("：")
        printed = headline(first, company)
        if printed and _squash(printed) in (_squash(named.title), _squash(after)):
            return printed  # the page's own spelling of the same title
        page = _squash(first)
        if after and _squash(after) in page and _squash(named.title) not in page:
            return after.strip()
        return named.title.strip()
    declared = _declared_title(info.get("title", ""), company)
    if declared.isascii():  # English PDFs declare their title well; Chinese ones often a template's
        return declared or headline(first, company)
    return headline(first, company) or declared


def headline(first: str, company: str = "") -> str:
    """The first line of the page that reads as a title (after the company's masthead line where there is
    one), with the line it wraps onto."""
    lines = [line.strip() for line in first.splitlines() if line.strip()][:80]
    masthead = [i for i, line in enumerate(lines) if company and line == company] or \
        [i for i, line in enumerate(lines) if company and company in line and weight(line) <= 60]
    start = masthead[0] + 1 if masthead else 0
    if masthead and weight(_squash(lines[masthead[0]].replace(company, ""))) >= 24:
        start -= 1  # "贵州茅台（600519）：业绩稳健增长" is masthead and title at once
    for index in range(start, len(lines)):
        text = _title_text(lines[index])
        if 16 <= weight(text) <= 120 and not _unlike_title(text):
            following = _title_text(lines[index + 1]) if index + 1 < len(lines) else ""
            heading = index + 1 < len(lines) and re.match(rf"[#{MARKERS}]", lines[index + 1])
            if following and not heading and not following.endswith(("：", ":")) and _wraps(text, following):
                text = f"{text} {following}" if text[-1].isascii() and following[0].isascii() else text + following
            return text
    return ""


def report_kind(first: str, title: str, named: NamedFile, house: str, company: bool, pages: int,
                said: str) -> str:
    """The kind of report its masthead names (公司点评, 行业周报, 宏观, …), else its title or file name; a
    company report naming none is a 公司点评, a rated sector report a 行业深度 (long) or 行业点评."""
    if house.endswith("期货"):
        return "期货"
    masthead = [line for line in first.splitlines()[:40] if weight(line.strip()) <= 40 and "《" not in line]
    for text in (*masthead, title, named.title):
        kind = _kind_in(text)
        if kind:
            return kind
    if company:
        return "公司点评"
    if said:
        return "行业深度" if pages >= 15 else "行业点评"
    return ""


# --- Which company -------------------------------------------------------------------------------------------


def covered(first: str, named: NamedFile) -> tuple[str, str]:
    """(company, ticker) of a company report: its masthead "阳光电源（300274）" / "Tencent (700 HK)", a labelled
    listing (股票代码, RIC, Reuters), or the file name; ("", "") for a report on no single company."""
    top = "\n".join(line for line in first.splitlines()[:60] if "《" not in line)
    masthead = _MASTHEAD.search(top)
    if masthead and not brokers_named(masthead.group(1)) and not _LISTING_LABEL.search(masthead.group(1)):
        return masthead.group(1).strip(), ticker_of(masthead.group(2) or masthead.group(3), top)
    if named.code:
        return named.company, ticker_of(named.code, top)
    listed = _LISTED.search(first)
    if listed:
        return _company_line(first), ticker_of(listed.group(1) or listed.group(2), top)
    return "", ""


def ticker_of(code: str, context: str = "") -> str:
    """The ticker in one form: "300274" -> 300274.SZ, "603501 CH" -> 603501.SH, "700 HK" / "00700.HK" -> 0700.HK;
    a bare four-digit code is a Hong Kong one only where ``context`` lists it so."""
    code = re.sub(r"\s+", " ", code.strip().upper())
    a_share = re.fullmatch(r"(\d{6})(?:\.(SH|SZ|SS|BJ)| C[H12])?", code)
    if a_share:
        exchange = {"SS": "SH"}.get(a_share.group(2) or "", a_share.group(2) or _A_SHARE.get(code[:2], ""))
        return f"{a_share.group(1)}.{exchange}" if exchange else a_share.group(1)
    hong_kong = re.fullmatch(r"(\d{1,5})(?:\.HK| HK)", code)
    if hong_kong:
        return f"{int(hong_kong.group(1)):04d}.HK"
    if re.fullmatch(r"\d{4,5}", code) and re.search(rf"\b0*{int(code)}(?:\.HK| HK)\b", context):
        return f"{int(code):04d}.HK"
    return code


# --- Small helpers -------------------------------------------------------------------------------------------


def _company_line(first: str) -> str:
    """A short line naming the company ("腾讯控股", "Tencent Holdings") that the page goes on to mention."""
    lines = [line.strip() for line in first.splitlines()[:60]]
    for index, name in enumerate(lines):
        words = re.fullmatch(r"(?:Key Call:\s*)?([A-Z][A-Za-z&.'-]+(?:\s+[A-Z][A-Za-z&.'-]+){0,2})", name)
        if index < 3 and re.fullmatch(r"[\u4e00-\u9fff]{4,8}", name) and first.count(name[:2]) >= 2 \
                and not rating(name)[0] and not _kind_in(name):
            return name
        if words and len(re.findall(rf"\b{re.escape(words.group(1).split()[0])}\b", first)) >= 5 \
                and not brokers_named(name) and not not_a_person(name):
            return words.group(1)
    return ""


def _declared_title(title: str, company: str) -> str:
    """A PDF /Title that is a report title: "Tencent Holdings - 4Q25 review: …" -> "4Q25 review: …"."""
    if not re.search(r"[A-Za-z\u4e00-\u9fff]{3}", title) or re.search(
            r"microsoft word|\.docx?\b|\.pdf\b|template|幻灯片|powerpoint|演示文稿|模版|untitled", title, re.I):
        return ""
    head = company.split()[0] if company else ""
    if head and title.startswith(head):
        title = re.sub(rf"^{re.escape(head)}[^:：-]*?(?:\s[-–]\s|[:：]\s*)", "", title)
    title = re.sub(r"\.?\s+(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)\s+\w{3}\s+\d{1,2}\s+\d{4}$", "", title)
    return title.strip() if weight(title) >= 16 and title != company and not brokers_named(title) else ""


def _title_text(line: str) -> str:
    text = re.sub(r"\[Table_\w+\]|^\s*#{1,6}\s*", "", line).replace("**", "").strip().lstrip(MARKERS + " ")
    text = re.sub(rf"^{CN_DATE}(?=[\u4e00-\u9fff])|(?<=[\u4e00-\u9fff”」)）])\s*{CN_DATE}$", "", text.strip())
    return re.sub(r"^[_\-—–=*·.~|]+|[_\-—–=*·~|▼▲↑↓\s]+$", "", text).strip()


def _unlike_title(text: str) -> bool:
    skip = re.compile(r"^(证券研究报告|研究报告|行业研究|公司研究|(?:证券)?分析师|执业|邮箱|联系人|投资建议|投资评级|评级|上次|"
                      r"资料来源|数据来源|请务必|本报告|Source|Analyst|.*(?:Research|研究所|研究院)$)", re.IGNORECASE)
    disclaimer = re.compile(r"disclosure|certification|appendix|please read|refer to|employed by|investors should|"
                            r"does and seeks|to access|www\.|https?:|@|免责|声明|阅读|证号|编号|\bpage \d", re.IGNORECASE)
    letters = re.sub(r"[^A-Za-z]", "", text)
    return bool(skip.match(text) or disclaimer.search(text) or re.search(r"[。！；.!]$", text)
                or is_caption(text) or is_numeric_row(text) or date_in(text)
                or re.search(r"[|《》]|HK\$|\(%\)|\(\d{3,5}(?:\.HK| HK)?\)|\b\d{1,5}(?:\.HK| HK)\b", text)
                or (text.isascii() and len(letters) >= 4 and letters.isupper()) or re.match(r"[a-z]", text)
                or (text.isascii() and len(re.findall(r"\d", text)) > len(text) * 0.2) or re.search(r"\d$", text)
                or re.search(r"\b(?=\w*\d)(?=\w*[a-z])(?=\w*[A-Z])\w{8,}\b", text)  # 7T2se3r0Ot6kwoPa
                or _is_kind_label(text)
                or not re.match(r"[\w“\"'【(（#]", text)
                or (text.isascii() and re.search(r"[\d.,]+(?:%|x|m|bn|mn)?$", text))
                or (text.isascii() and (len(text.split()) < 3 or re.fullmatch(rf"{PERSON_EN}(?:,\s*CFA)?", text))))


def _wraps(text: str, following: str) -> bool:
    """Whether a title line goes on onto ``following``: a lower-case word, or a short piece of a CJK line."""
    if re.match(r"[a-z]", following) and text[-1].isalpha() and len(following.split()) <= 8:
        return True
    if (re.match(r"[，、]", following) or text.endswith(("，", "、"))) and weight(following) <= 60:
        return not _unlike_title(following) or following[0] in "，、"  # a line cut at a comma
    return (weight(text) >= 26 and weight(following) <= weight(text) and not _unlike_title(following)
            and not re.match(r"^(?:——|--|[-—])", following) and bool(re.search(r"[\u4e00-\u9fff“]", following[:2]))
            and not _kind_in(following) and weight(following) >= 4 and not re.fullmatch(r"[\u4e00-\u9fff]{2,4}", following))


def _is_kind_label(text: str) -> bool:
    """A masthead line naming the report's kind rather than its subject ("电力设备行业跟踪周报", "Company Update")."""
    if not _kind_in(text):
        return False
    rest = re.sub("|".join(cue for _, cue in KIND_CUES), "", text, flags=re.IGNORECASE)
    return weight(rest) <= 8 or (weight(text) <= 24 and bool(re.search(r"(?:报|报告|评|研究|专题|跟踪|深度)$", text)))


def _kind_in(text: str) -> str:
    found = [(cue.search(text), kind) for kind, cue in _KINDS]
    hits = [(m.start(), kind) for m, kind in found if m]
    return min(hits)[1] if hits else ""


def _squash(text: str) -> str:
    return re.sub(r"[\s\W_]+", "", text)
