"""A broker's call on a stock or a sector, as its first page states it: the rating, what became of it (维持 /
首次 / 上调 / 下调) and the target price with its currency and the previous target.

Hand-written: rating words, their labels ("投资评级：买入（维持）", "Reiterate Rating: BUY", "Stock Rating Overweight")
and target-price phrasings ("下调目标价至155.00元人民币（原220.00元）", "TP lowered to HKD700 from HKD766") are
sell-side conventions that no library reads. Only what the page states is returned; nothing is inferred.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

RATINGS_ZH = ("强烈推荐", "谨慎推荐", "审慎增持", "谨慎增持", "跑赢行业", "跑输行业", "跑赢大市", "跑输大市", "强于大市",
              "同步大市", "弱于大市", "优于大市", "领先大市", "落后大市", "买入", "增持", "持有", "中性", "减持", "卖出",
              "推荐", "看好", "标配", "超配", "低配", "回避")
RATINGS_EN = ("High Conviction Outperform", "Outperform", "Underperform", "Overweight", "Underweight",
              "Equal-weight", "Equal Weight", "Market Perform", "Neutral", "Buy", "Hold", "Sell", "Accumulate",
              "Reduce")
_EN_SHORT = {"ow": "Overweight", "uw": "Underweight", "ew": "Equal-weight", "o-pf": "Outperform"}
# What became of the rating, in the library's words.
ACTIONS = {"维持": "维持", "首次": "首次", "首次覆盖": "首次", "上调": "上调", "调高": "上调", "下调": "下调", "调低": "下调",
           "maintain": "维持", "maintained": "维持", "reiterate": "维持", "reiterated": "维持", "reaffirm": "维持",
           "reaffirming": "维持", "unchanged": "维持", "remains": "维持", "initiate": "首次", "initiating": "首次",
           "initiation": "首次", "upgrade": "上调", "upgraded": "上调", "downgrade": "下调", "downgraded": "下调"}
CURRENCIES = {"hk$": "HKD", "hkd": "HKD", "港币": "HKD", "港元": "HKD", "us$": "USD", "usd": "USD", "美元": "USD",
              "rmb": "CNY", "cny": "CNY", "人民币": "CNY", "元": "CNY", "¥": "CNY"}

_ZH = "|".join(RATINGS_ZH)
_EN = "|".join(sorted((*RATINGS_EN, *(w.upper() for w in RATINGS_EN)), key=len, reverse=True))
_ACT_ZH = "维持|首次覆盖|首次|上调|调高|下调|调低"
_ACT_EN = "|".join(w for w in ACTIONS if w.isascii())
# Where a page states the rating, most specific first.
_LABELLED_ZH = re.compile(rf"(?:投资建议|投资评级|行业评级|公司评级|股票评级|个股评级|评级)[:：]?\s*(?:[→\s]*)({_ZH})"
                          rf"(?:\s*[（(/]\s*({_ACT_ZH})|\s*({_ACT_ZH})评级)?")
_STANDALONE_ZH = re.compile(rf"(?m)^\s*(?:({_ACT_ZH}))?\s*({_ZH})\s*(?:[（(/]\s*({_ACT_ZH})[^）)\n]{{0,6}}[）)]?|({_ACT_ZH})评级)?"
                            rf"\s*(?:投资要点|核心观点)?[:：]?\s*$")
_BODY_ZH = re.compile(rf"({_ACT_ZH})[^。\n，,]{{0,8}}?[“\"]?({_ZH})[”\"]?(?:\s*评级|[。：:；;]|$)", re.MULTILINE)
_LABELLED_EN = re.compile(rf"(?i:(reiterate|stock|12-month|investment)\s+)?\b(?i:rating)(?:\s*[:：])?\s*(?:(?i:(remains))\s+)?"
                          rf"({_EN})\b(?:\s*\((?i:({_ACT_EN}))\))?")
_STANDALONE_EN = re.compile(rf"(?m)^\s*({_EN})(?:\s*\(\d\))?\s*(?:\((?i:({_ACT_EN}))\))?\s*$"
                            rf"(?:\n\s*\((?i:({_ACT_EN}))\))?")
_AFTER_TICKER_EN = re.compile(rf"(?m)(?:\d{{3,5}}(?:\.HK|\s+HK)\)?|\(\d{{4,6}}\)|HK\$[\d.,]+\s+-)\s+({_EN})\s*$")
_BODY_EN = re.compile(rf"\b(?i:(maintain|reiterate|reaffirm|reaffirming|upgrade|downgrade|initiate)(?:s|d)?)\s+"
                      rf"(?i:(?:our|the|a|to)\s+)?({_EN}|OW|UW|EW|O-PF)\b")

_LABEL = re.compile(r"(?i:target\s+price|price\s+target|price\s+objective|12-month\s+target|\bPO\b|\bTP\b|\bPT\b)"
                    r"|目标价格?")
_CUR = r"HK\$|US\$|HKD|USD|RMB|CNY|Rmb|港币|港元|人民币|美元|¥"
_AMOUNT = re.compile(rf"(?P<pre>{_CUR})?[ \t]*(?P<num>\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)?)(?![\d.,]*\s*(?:bn|mn|m\b|亿|万|%|x\b|倍|pp|\.HK))"
                     rf"[ \t]*(?P<post>元人民币|{_CUR}|元)?")
_PREVIOUS = re.compile(r"(?i:from|prior|previous|prev\.?|原|前值)(?:\s*\([^)]{0,12}\))?[^\d]{0,12}$")


@dataclass(frozen=True)
class Target:
    """A target price as the page prints it: the number ("155.00"), ISO currency, the previous number."""

    price: str = ""
    currency: str = ""
    previous: str = ""


def rating(page: str) -> tuple[str, str]:
    """(rating, action) of the report's call as ``page`` (its first page) states it; "" for what it does not."""
    for pattern, rate, acts in ((_LABELLED_ZH, 1, (2, 3)), (_STANDALONE_ZH, 2, (1, 3, 4)),
                                (_LABELLED_EN, 3, (1, 2, 4)), (_STANDALONE_EN, 1, (2, 3)),
                                (_AFTER_TICKER_EN, 1, ())):
        found = pattern.search(page)
        if found:
            stated = [found.group(i) for i in acts if found.group(i)]
            label_action = [a for a in stated if a.lower() not in ("stock", "12-month", "investment")]
            action = _action(label_action[0]) if label_action else ""
            return _rating_word(found.group(rate)), action or _body_action(page, found.group(rate))
    body = _BODY_ZH.search(page)
    if body:
        return body.group(2), _action(body.group(1))
    body = _BODY_EN.search(page)
    if body:
        return _rating_word(body.group(2)), _action(body.group(1))
    return "", ""


def target_price(page: str) -> Target:
    """The target price ``page`` states after a label (目标价, target price, PO, TP, PT), with the previous
    target where it is named ("from HK$783.00", "（原220.00元）", "Prior (Dec-26): HK$750.00")."""
    current: tuple[str, str] | None = None
    previous = ""
    for label in _LABEL.finditer(page):
        window = page[label.end(): label.end() + 60]
        labelled = re.match(rf"[^\n]{{0,12}}?\((?P<cur>{_CUR})\)", window)  # "Price target - 12mth (HKD) 800.00"
        for amount in _AMOUNT.finditer(window, labelled.end() if labelled else 0):
            currency = amount.group("pre") or amount.group("post") or (labelled.group("cur") if labelled else "")
            if not currency or not float(amount.group("num").replace(",", "")):
                continue
            found = (amount.group("num").replace(",", ""), _currency(currency))
            if _PREVIOUS.search(window[: amount.start()][-24:]):
                previous = previous or found[0]
            elif current is None:
                current = found
        if current and previous:
            break
    if current is None:
        return Target()
    return Target(current[0], current[1], previous)


def _currency(said: str) -> str:
    return CURRENCIES[said.lower().removeprefix("元").removesuffix("人民币") or "元"]


def _rating_word(word: str) -> str:
    if re.fullmatch(_ZH, word):
        return word
    lowered = word.lower()
    return _EN_SHORT.get(lowered) or next(w for w in RATINGS_EN if w.lower() == lowered)


def _action(word: str) -> str:
    return ACTIONS.get(word.lower(), "")


def _body_action(page: str, said: str) -> str:
    """The action a sentence states for the rating ``said`` ("维持“买入”评级", "Maintain BUY", "(unchanged)")."""
    body = _BODY_ZH.search(page)
    if body and body.group(2) == said:
        return _action(body.group(1))
    body = _BODY_EN.search(page)
    if body and _rating_word(body.group(2)).lower() in _rating_word(said).lower():
        return _action(body.group(1))
    if re.search(rf"(?i:previous)\s+{re.escape(said)}\b", page):  # "Previous BUY" beside "BUY"
        return "维持"
    return ""
