"""Companies of a broker library: grouping report cards by ticker and name, finding the company a question
names, and `reportqa companies` on a small real library ingested from generated PDFs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pdfmaker import make_pdf

from ingest.job import ingest_paths
from rag.companies import Company, code_key, companies, coverage, find_company, price, short_name
from rag.library import Library
from rag.settings import Settings
from rag.types import Document
from reportqa.cli import main


def _doc(doc_id: str, **meta: str) -> Document:
    return Document(doc_id, f"{doc_id}.pdf", f"/r/{doc_id}.pdf", 4, 10, "2026-04-08T00:00:00", "pdf",
                    meta=meta)


CARDS = [
    _doc("gj", publisher="国金证券", date="2026-03-31", title="年底业绩波动不改长期趋势", company="阳光电源",
         ticker="300274.SZ", rating="买入", rating_action="维持"),
    _doc("citi", publisher="Citi", date="2026-04-02", title="Sungrow: storage leads", company="Sungrow",
         ticker="300274", rating="Buy", rating_action="维持", target_price="155.00", target_currency="CNY",
         previous_target="220.00"),
    _doc("ms", publisher="Morgan Stanley", date="2026-04-07", title="Tencent: AI capex",
         company="Tencent Holdings Ltd.",
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
    kept = coverage(_doc("dw", target_price="725.00", target_currency="HKD", previous_target="725"))
    assert kept.target == "725.00 HKD (unchanged)"
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


# --- `reportqa companies` on a small real library --------------------------------------------------------
BODY = ["公司储能业务收入同比增长，海外订单充足，经营现金流同比大增。", "", "风险提示：原材料价格波动；海外需求不及预期。"]
REPORTS = {  # file name -> first page (the card's facts) and a second page
    "20260331-国金证券-阳光电源（300274.SZ）：储能放量.pdf": [
        "国金证券研究所", "阳光电源（300274.SZ）", "2026年3月31日", "投资评级：买入（维持）", "目标价：155.00元（原220.00元）",
        *BODY],
    "20260402-华泰证券-阳光电源（300274）：海外储能再超预期.pdf": [
        "华泰证券研究所", "阳光电源（300274）", "2026年4月2日", "投资评级：增持（首次）", "目标价：170.00元", *BODY],
    "20260320-中金公司-腾讯控股（0700.HK）：游戏与广告稳健.pdf": [
        "中金公司研究部", "腾讯控股（0700.HK）", "2026年3月20日", "评级：跑赢行业（维持）", "目标价：666.00港元",
        "游戏与广告收入稳健增长。"],
    "20260331-国金证券-宏观周报：地缘风险.pdf": ["国金证券研究所", "2026年3月31日", "宏观周报", "地缘风险扰动市场。"],
}
TENCENT_EN = ("20260319-摩根士丹利-Tencent Holdings（0700.HK）：AI capex.pdf", [
    "Morgan Stanley", "Tencent Holdings (0700.HK)", "March 19, 2026", "Stock Rating: Overweight",
    "Price target HK$650.00 (from HK$750.00)", "Tencent's cloud revenue grew as AI demand rose."])


def broker_reports(folder: Path) -> Path:
    """Five generated broker reports in ``folder`` (two on 阳光电源, a Chinese and an English one on Tencent, a
    macro note), named as the broker library names its files; ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, first in REPORTS.items():
        make_pdf(folder / name, [first, ["盈利预测与估值"]])
    make_pdf(folder / TENCENT_EN[0], [TENCENT_EN[1], ["Financial summary"]], font="Helvetica")
    return folder


@pytest.fixture(scope="module")
def broker_library(tmp_path_factory, embedder) -> Path:
    """The five reports ingested into a real library; its folder."""
    folder = tmp_path_factory.mktemp("companies")
    library = Library(Settings.load(environ={}, library=folder / "library"), embedder=embedder)
    assert ingest_paths(library, [broker_reports(folder / "reports")]).count("new") == 5
    return folder / "library"


def test_companies_json_lists_each_company_with_its_reports_latest_rating_and_target(broker_library, capsys):
    assert main(["companies", "--json", "--library", str(broker_library)]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["name"], r["tickers"]) for r in rows] == [("腾讯控股", ["0700.HK"]), ("阳光电源", ["300274.SZ"])]
    tencent, sungrow = rows
    assert set(tencent["names"]) == {"腾讯控股", "Tencent Holdings"}
    fields = ("date", "broker", "rating", "target_price", "target_currency", "previous_target")
    calls = [tuple(r[f] for f in fields) for r in tencent["reports"]]
    assert calls == [("2026-03-19", "Morgan Stanley", "Overweight", 650.0, "HKD", 750.0),
                     ("2026-03-20", "中金公司", "跑赢行业", 666.0, "HKD", None)]
    assert tencent["latest_rating"] == {"rating": "跑赢行业", "rating_action": "维持", "broker": "中金公司",
                                        "date": "2026-03-20", "doc_id": tencent["reports"][1]["doc_id"]}
    assert [(r["broker"], r["rating"], r["rating_action"], r["target_price"], r["previous_target"], r["page"])
            for r in sungrow["reports"]] == [("国金证券", "买入", "维持", 155.0, 220.0, 1),
                                             ("华泰证券", "增持", "首次", 170.0, None, 1)]
    assert sungrow["latest_target"]["target_price"] == 170.0 and sungrow["latest_target"]["broker"] == "华泰证券"
    assert sungrow["brokers"] == ["国金证券", "华泰证券"]


def test_companies_prints_a_table_per_company_and_finds_one_by_name_or_code(broker_library, capsys):
    assert main(["companies", "--library", str(broker_library)]) == 0
    out = capsys.readouterr().out
    assert "阳光电源  300274.SZ · 2 reports · latest rating 增持（首次） (华泰证券, 2026-04-02) · latest target " \
           "170.00 CNY (华泰证券, 2026-04-02)" in out
    lines = [line for line in out.splitlines() if line.startswith("│")]
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in lines]
    assert [row[:4] for row in rows] == [
        ["2026-03-19", "Morgan Stanley", "Overweight", "650.00 HKD (from 750.00)"],
        ["2026-03-20", "中金公司", "跑赢行业（维持）", "666.00 HKD"],
        ["2026-03-31", "国金证券", "买入（维持）", "155.00 CNY (from 220.00)"],
        ["2026-04-02", "华泰证券", "增持（首次）", "170.00 CNY"],
    ]  # the macro note covers no company
    assert rows[0][4].endswith("AI capex") and [row[4] for row in rows[1:]] == ["游戏与广告稳健", "储能放量", "海外储能再超预期"]
    for query in ("腾讯", "Tencent", "700"):
        assert main(["companies", query, "--json", "--library", str(broker_library)]) == 0
        assert [json.loads(line)["name"] for line in capsys.readouterr().out.splitlines()] == ["腾讯控股"]
    assert main(["companies", "茅台", "--library", str(broker_library)]) == 1
    assert capsys.readouterr().err == "reportqa companies: no report in the library covers '茅台'\n"


def test_companies_refuses_a_folder_without_a_library(tmp_path, capsys):
    assert main(["companies", "--library", str(tmp_path / "none")]) == 2
    assert "reportqa ingest PATH --library" in capsys.readouterr().err and not (tmp_path / "none").exists()
