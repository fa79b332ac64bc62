"""The analysts a broker report's first page names, with their SAC practice numbers ("S0600516080001").

Hand-written: how Chinese brokers lay out their analyst block (分析师：name / name（分析师）/ 登记编号 lines under a
name, contacts and research assistants beside them) and how English notes sign (name, role, e-mail, phone) are
house styles that no library reads. A practice number's sixth character tells the registration: 5 is an
analyst (证券投资咨询), 1 a general practitioner (contacts and assistants), who are left out.
"""

from __future__ import annotations

import re

from ingest.brokers import brokers_named

PERSON_EN = r"[A-Z][a-z]+(?:[- ](?!AC\b)[A-Z][a-zA-Z]+){1,2}"
_CERT = r"S\d{13}"
_NAME = r"[\u4e00-\u9fff]{2,4}?(?=[\s（(:：,，]|执业|证书|登记|资格|SAC|姓名|首席|交易|$|[A-Za-z0-9])"
_NOT_NAMES = re.compile(r"^(?:登记|执业|证书|资格|邮箱|电话|联系|研究|首席|分析|证券|互联|姓名|投资|行业|宏观|策略)"
                        r"|评级|报告|公司|市场|部分|信息|编制|披露|声明|团队")
_NOT_PERSON_EN = re.compile(r"\b(?:Research|Analysts?|Associate|Equity|Internet|China|Securities|Global|Markets|"
                            r"Limited|Company|Asia|Pacific|Hong|Kong)\b")
_ROLE_NOT_ANALYST = re.compile(r"联系人|研究助理|助理|associate", re.IGNORECASE)
_BETWEEN = r"(?:\n(?:[:：(（☎*]|电话|邮箱|\+?\d|[\w.-]+\s*@)[^\n]*){0,3}"  # phone and e-mail lines after a name


_PERSON_LABELS = re.compile("|".join((
    rf"(?:证券)?分析(?:师|员)[:：\s]*(?P<a>{_NAME})",  # 分析师：赵宏鹤 / 证券分析师曾朵红
    rf"(?P<b>{_NAME})(?:[（(](?:分析师|分析员)[）)]|[ \t]+分析员)",  # 殷晟路（分析师） / 白洋 分析员
    rf"(?:姓名|研究员)[:：]\s*(?P<c>{_NAME})",  # 姓名：张雪娇
    rf"(?P<d>{_NAME})\s*(?:SAC\s*)?(?:执业证书编号|证书编号|登记编号|资格编号|执业编号|执证编号)",  # 金晗登记编号：
    # a name alone on its line, phone and e-mail lines, then its registration number
    rf"^[ \t]*(?P<e>{_NAME})(?:首席经济学家|首席分析师|姓名)?[ \t]*$"
    rf"(?={_BETWEEN}\n[^\n]{{0,60}}?(?:登记编[码号]|资格编号|执业证书|证书编号|SAC))",
    # a name alone on its line (", PhD, CFA"), then its role (首席策略分析师) or e-mail
    rf"^[ \t]*(?P<h>{_NAME})(?:[,，]\s*(?:PhD|CFA|CPA)\b[^\n]*)?[ \t]*\n(?:[^\n]{{0,8}}分析师[ \t]*$|[\w.-]+\s*@)",
    rf"(?P<f>{_NAME})\s*[（(](?:联系人|研究助理)[）)]|(?:联系人|研究助理)[:：\s]*(?P<g>{_NAME})",  # not analysts
)), re.MULTILINE)


def analysts(first: str) -> str:
    """"Name (S0600516080001); Name (…)": the analysts the first page names, with their SAC practice numbers;
    contacts and research assistants are left out (also by their number: its 6th character is 1, not 5)."""
    people = _chinese_analysts(first) or _english_analysts(first)
    return "; ".join(dict.fromkeys(f"{name} ({cert})" if cert else name for name, cert in people))




def _chinese_analysts(first: str) -> list[tuple[str, str]]:
    found: list[tuple[int, str, bool]] = []  # (position, name, is an analyst)
    for match in _PERSON_LABELS.finditer(first):
        name = next(v for v in match.groupdict().values() if v)
        name = re.sub(r"(?:执业|证券|登记|资格|姓名)$", "", name)
        if len(name) >= 2 and not _NOT_NAMES.search(name):
            found.append((match.start(), name, not (match.group("f") or match.group("g"))))
    found.sort()
    certs = [(m.start(), m.group(0)) for m in re.finditer(_CERT, first)]
    people: list[tuple[str, str]] = []
    for index, (position, name, analyst) in enumerate(found):
        if name in {p for p, _ in people} or not analyst:
            continue
        end = found[index + 1][0] if index + 1 < len(found) else len(first)
        cert = next((c for p, c in certs if position < p < max(end, position + 60)), "")
        if len(found) == len(certs):  # names in a row, numbers in a row: pair them by order
            cert = certs[index][1]
        if not (cert and cert[5] == "1"):
            people.append((name, cert))
    return people


def _english_analysts(first: str) -> list[tuple[str, str]]:
    lines = [line.strip() for line in first.splitlines()]
    people = []
    for index, line in enumerate(lines):
        names = re.findall(rf"({PERSON_EN})(?:,\s*(?:CFA|PhD|CPA|FRM))*(?:\s*(?:AC|>>|-\s*NIHK))?", line)
        rest = re.sub(rf"{PERSON_EN}|,|CFA|PhD|CPA|FRM|\bAC\b|>>|-\s*NIHK|\s", "", line)
        after = "\n".join(lines[index + 1: index + 4])
        if not names or rest or not re.search(r"@|\+852|\(852\)|\bAnalyst\b", after):
            continue
        role = re.match(r"[^\n@+(]*", after)
        if role and _ROLE_NOT_ANALYST.search(role.group(0)) or brokers_named(line):
            continue
        cert = re.search(rf"(?:SAC Registration Number|SAC)[:：]?\s*({_CERT})", after)
        people += [(name, cert.group(1) if cert and len(names) == 1 else "") for name in names
                   if not _NOT_PERSON_EN.search(name)]
    return people


def not_a_person(words: str) -> bool:
    """Whether an English line is a role, desk or place ("Research Analysts", "China Internet"), not a name."""
    return bool(_NOT_PERSON_EN.search(words))
