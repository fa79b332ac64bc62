"""Companies of a broker library: grouping report cards by ticker and name, finding the company a question
names, and `reportqa companies` on a small real library ingested from generated PDFs."""

from __future__ import annotations

import pytest

from rag.companies import Company, code_key, companies, coverage, find_company, price, short_name
from rag.types import Document


def _doc(doc_id: str, **meta: str) -> Document:
    return Document(doc_id, f"{doc_id}.pdf", f"/r/{doc_id}.pdf", 4, 10, "2026-04-08T00:00:00", "pdf", meta=meta)


CARDS = [
    _doc("gj", publisher="国金证券", date="2026-03-31", title="年底业绩波动不改长期趋势", company="阳光电源",
         ticker="300274.SZ", rating="买入", rating_action="维持"),
    _doc("citi", publisher="Citi", date="2026-04-02", title="Sungrow: storage leads", company="Sungrow",
         ticker="300274", rating="Buy", rating_action="维持", target_price="155.00", target_currency="CNY",
         previous_target="220.00"),
    _doc("ms", publisher="Morgan Stanley", date="2026-04-07", title="Tencent: AI capex", company="Tencent Holdings Ltd.",
         ticker="0700.HK", rating="Overweight", target_price="650.00", target_currency="HKD"),
    _doc("cicc", publisher="中金公司", date="2026-03-19", title="腾讯控股：业绩符合预期", company="腾讯控股",
         ticker="00700.HK", rating="跑赢行业", rating_action="维持", target_price="666.00", target_currency="HKD"),
    _doc("jpm", publisher="J.P. Morgan", date="2026-03-20", title="Tencent", company="Tencent", ticker="",
         rating="Neutral", rating_action="下调"),
    _doc("hw", publisher="中信证券", date="2026-04-01", title="豪威集团：汽车 CIS 放量", company="豪威集团",
         ticker="603501.SH", rating="买入", rating_action="维持", target_price="115.00", target_currency="CNY"),
    _doc("macro", publisher="国金证券", date="2026-03-31", title="中东战争：十字路口的特朗普", report_kind="宏观"),
    _doc("sector", publisher="国信证券", date="2026-04-02", title="电新周报", rating="增持", rating_action="维持"),
]


@pytest.fixture(scope="module")
def found() -> list[Company]:
    return companies(CARDS)


def test_reports_are_grouped_by_ticker_and_name_and_sorted_by_date(found):
    by_name = {c.name: c for c in found}
    assert sorted(by_name) == ["Tencent", "豪威集团", "阳光电源"]  # macro and sector pieces cover no company
    tencent = by_name["Tencent"]
    assert [r.doc_id for r in tencent.reports] == ["cicc", "jpm", "ms"]  # the name-only report joins by name
    assert tencent.tickers == ("0700.HK",)  # 00700.HK is the same listing; the common spelling with exchange
    assert set(tencent.names) == {"Tencent", "腾讯控股", "Tencent Holdings Ltd."}
    sungrow = by_name["阳光电源"]  # one report each: the shorter name
    assert [r.doc_id for r in sungrow.reports] == ["gj", "citi"]  # 300274 and 300274.SZ: one listing
    assert sungrow.tickers == ("300274.SZ",) and set(sungrow.names) == {"阳光电源", "Sungrow"}
    assert [c.name for c in found] == ["Tencent", "阳光电源", "豪威集团"]  # most covered first


def test_latest_report_rating_and_target_come_from_the_newest_report_stating_them(found):
    tencent = next(c for c in found if c.name == "Tencent")
    assert tencent.latest.doc_id == "ms" and tencent.latest_rating.rating == "Overweight"
    assert tencent.latest_target.target_price == 650.0 and tencent.latest_target.target == "650.00 HKD"
    assert tencent.brokers == ("中金公司", "J.P. Morgan", "Morgan Stanley")
    sungrow = next(c for c in found if c.name == "阳光电源")
    assert sungrow.latest_target.broker == "Citi" and sungrow.latest_target.previous_target == 220.0
    assert sungrow.latest_target.target == "155.00 CNY (from 220.00)"
    assert sungrow.reports[0].call == "买入（维持）" and sungrow.reports[0].target == ""
    only_rated = companies([CARDS[0]])[0]
    assert only_rated.latest_rating.doc_id == "gj" and only_rated.latest_target is None


def test_coverage_reads_the_card_and_points_at_its_first_page():
    card = coverage(CARDS[1])
    assert (card.broker, card.date, card.company, card.ticker) == ("Citi", "2026-04-02", "Sungrow", "300274")
    assert (card.rating, card.rating_action, card.target_currency) == ("Buy", "维持", "CNY")
    assert card.target_price == 155.0 and card.previous_target == 220.0 and card.page == 1
    assert coverage(CARDS[0]).target_price is None and coverage(CARDS[0]).previous_target is None


@pytest.mark.parametrize(("question", "expected"), [
    ("腾讯的目标价是多少？", "Tencent"),  # 腾讯控股 without 控股
    ("Which brokers rate Tencent a Buy?", "Tencent"),
    ("What is tencent's latest target price?", "Tencent"),
    ("哪些券商给了阳光电源买入评级？", "阳光电源"),
    ("Sungrow target prices", "阳光电源"),
    ("300274 的评级", "阳光电源"),
    ("300274.SZ 目标价", "阳光电源"),
    ("700 HK target prices", "Tencent"),
    ("0700.HK", "Tencent"),
    ("各家对 00700 的评级", "Tencent"),
    ("who covers 700?", "Tencent"),
    ("豪威的目标价", "豪威集团"),
    ("2026年阳光电源的归母净利润预测", "阳光电源"),
])
def test_a_question_names_its_company_by_name_short_name_or_code(found, question, expected):
    match = find_company(question, found)
    assert match is not None and match.name == expected


@pytest.mark.parametrize("question", [
    "2026 net profit forecasts", "2026年归母净利润", "目标价 700 亿", "利润增长 15%", "阳光普照的行业", "Tencents",
    "中东战争的影响",
])
def test_years_amounts_and_other_words_name_no_company(found, question):
    assert find_company(question, found) is None


def test_names_and_codes_normalise_to_one_key():
    assert short_name("Tencent Holdings Ltd.") == "Tencent" and short_name("腾讯控股") == "腾讯"
    assert short_name("Alibaba Group Holding Limited") == "Alibaba" and short_name("集团") == "集团"
    assert {code_key(t) for t in ("0700.HK", "00700.HK", "700 HK", "700.hk")} == {"700.HK"}
    assert code_key("603501 CH") == code_key("603501.SH") == code_key("603501") == "603501"
    assert price("1,234.50") == 1234.5 and price("") is None and price("n/a") is None
