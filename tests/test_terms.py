"""Question analysis and the finance vocabulary: one definition each of language, years, names, terms."""

from __future__ import annotations

import pytest

from rag.index import terms
from rag.terms import (
    analyze,
    asks_standing_text,
    content_terms,
    finance_terms,
    language,
    months,
    places,
    quarters,
    statement_headings,
    subject,
    vocabulary,
)


def names(question: str) -> list[str]:
    return [t.name for t in finance_terms(question)]


def test_vocabulary_is_well_formed():
    found = vocabulary()
    assert len(found) >= 40
    assert len({t.name for t in found}) == len(found)  # one entry per concept
    statements = {"income", "balance", "cash_flow", "equity", "notes", "per_share", "forecast", "legal"}
    for term in found:
        assert term.asked and term.statement in statements, term.name
        known = {t.name for t in found}
        for word in term.formula.replace("(", " ").replace(")", " ").split():
            assert word in known or word in "+-*/", f"{term.name}: formula names unknown {word!r}"


@pytest.mark.parametrize(("question", "expected"), [
    ("What is the FY2018 capital expenditure amount (in USD millions) for 3M?", ["capex"]),
    ("What is Best Buy's gross margin for FY2023?", ["gross_margin"]),  # not also gross_profit
    ("四方科技2019年的营业成本率是多少？", ["cost_ratio"]),  # not 营业成本 + 成本率 twice
    ("2026年归母净利润预测是多少", ["net_income", "forecast"]),
    ("What is the quick ratio of 3M?", ["quick_ratio"]),
    ("Has the company faced any lawsuits?", ["legal_proceedings"]),
    ("What is the capital of France?", []),  # "capital" alone is no line item
    ("How many people does it employ?", []),  # "employ" is not "employees"
    ("What was the net cash flow from financing activities in 2019?", ["financing_cash_flow"]),
    ("2019年投资活动现金流是多少？", ["investing_cash_flow"]),
    ("2019年公司向前五大供应商的采购金额合计是多少？", ["suppliers"]),  # reports print 前五名供应商
])
def test_finance_terms_of_questions(question, expected):
    assert names(question) == expected


def test_a_chinese_question_is_expanded_with_english_line_items_and_back():
    zh = analyze("3M 2018年的营业收入是多少？")
    assert zh.lang == "zh" and zh.years == ("2018",) and zh.names == ("3M",)
    assert "net sales" in zh.expansion and "total revenues" in zh.expansion
    assert "营业收入" not in zh.expansion  # already said
    en = analyze("What were the purchases of property, plant and equipment in 2018?")
    assert en.lang == "en" and en.names == ()
    assert names(en.text) == []  # a printed line item is found as written, not expanded
    capex = analyze("How much capex did PepsiCo spend in FY2022?")
    assert capex.statements == ("cash_flow",)
    assert "purchases of property, plant and equipment" in capex.expansion
    assert "购建固定资产、无形资产和其他长期资产支付的现金" in capex.expansion


def test_a_legal_question_is_expanded_with_the_notes_heading_of_legal_matters():
    legal = analyze("Has CVS Health reported any materially important ongoing legal battles?")
    assert legal.statements == ("legal",) and "legal matters" in legal.expansion


@pytest.mark.parametrize(("text", "expected"), [
    ("Was there any drop in cash between FY 2023 and Q2 of FY2024?", (("2024", 2),)),
    ("Which segment had the lowest net revenue in 2021 Q1?", (("2021", 1),)),
    ("What did it spend in the second quarter of fiscal 2024?", (("2024", 2),)),
    ("四方科技2020年第一季度的营业收入是多少？", (("2020", 1),)),
    ("FY2024Q2", (("2024", 2),)),  # a filing's period
    ("JPMORGAN_2021Q1_10Q.pdf", (("2021", 1),)),  # and file name
    ("MGM Exhibit 99.1 Q4 2022 ER", (("2022", 4),)),  # and title
    ("What was the FY2023 revenue?", ()),
    ("How did sales change in H1 FY2023?", ()),  # a half year is no quarter
])
def test_quarters_named_by_questions_and_filings(text, expected):
    assert quarters(text) == expected
    assert analyze(text).quarters == expected


def test_language_and_content_terms_have_one_definition():
    assert language("四方科技2019年的电子信箱是什么？") == "zh"
    assert language("What is the revenue of 四方科技 in 2019?") == "en"
    assert content_terms("What was 3M's FY2018 revenue?") == ("3m", "2018", "revenue")


def test_bm25_terms_stem_english_and_keep_numbers_and_chinese_whole():
    assert terms("Purchases of property, plant and equipment") == ["purchas", "properti", "plant", "equip"]
    assert terms("purchase") == terms("purchases") and terms("revenues") == terms("revenue")
    assert terms("3M's year-over-year growth") == ["3m", "year", "over", "year", "growth"]
    assert terms("1,505.60 亿元 营业收入") == ["1505.6", "亿元", "营业", "收入"]


@pytest.mark.parametrize(("question", "expected"), [
    ("What was Home Depot's net earnings for fiscal 2020?", "Home Depot"),
    ("海螺水泥2018年的归母净利润是多少？", "海螺水泥"),
    ("四方科技2019年的电子信箱是什么？", "四方科技"),
    ("What is the FY2018 capex for 3M?", ""),  # no possessive: the scope finds 3M, not this rule
    ("Sora 最长能生成多长时间的视频？", ""),
    ("公司前五大客户2019年合计贡献了多少销售额？", ""),  # the company itself, a preposition, a time
    ("为公司年报签字的注册会计师是哪两位？", ""),
    ("以往的图像和视频生成方法通常把视频裁成什么标准规格？", ""),
])
def test_subject_of_a_question(question, expected):
    assert subject(question) == expected


def test_statement_headings_are_short_lines_not_mentions():
    page = ("Table of Contents\n3M Company and Subsidiaries\nConsolidated Statement of Incom e\n"
            "Years ended December 31\nNet sales $ 32,765 $ 31,657\n")
    assert statement_headings(page) == [("income", page.index("Consolidated"))]  # "Incom e": a PDF split
    prose = "Cash and cash equivalents are shown in the Consolidated Balance Sheet at fair value in millions.\n"
    assert statement_headings(prose) == []  # a long line that mentions a statement is not its heading
    assert [name for name, _ in statement_headings("二、合并现金流量表\n项目 2019年度\n")] == ["cash_flow"]
    assert [name for name, _ in statement_headings("盈利预测与估值\n营业收入（百万元） 1,234\n")] == ["forecast"]


@pytest.mark.parametrize(("question", "expected"), [
    ("How many Ulta Beauty stores were operating in Canada at the end of fiscal 2023?", ["Canada"]),
    ("腾讯在印度的收入是多少？", ["India"]),
    ("UK and German sales of the group", ["United Kingdom", "Germany"]),
    ("the uk office", []),  # short forms match their case only
    ("What was 3M's U.S. revenue in 2018?", []),  # home markets restrict nothing
    ("中国区收入占比", []),
    ("公司冷冻设备在国内市场的占有率是多少？", ["domestic"]),  # a home market named as such restricts
    ("2025年储能境外发货量", ["overseas"]),
    ("American Express card member loans", []),  # a word that only begins like a place
])
def test_places_a_question_restricts_to(question, expected):
    assert [p.name for p in places(question)] == expected
    assert all(p.named_in(question) for p in places(question))


@pytest.mark.parametrize(("question", "expected"), [
    ("按国联证券的评级标准，行业评级“强于大市”是什么含义？", True),
    ("评级看的是报告发布后多长时间内的相对表现？", True),
    ("What does an Outperform rating mean?", True),
    ("报告的免责声明说了什么？", True),
    ("国联证券给出的行业评级是什么？", False),  # the report's rating: its card
    ("公司披露的营业收入是多少？", False),
    ("What is the revenue growth rate standard deviation?", False),
    # the history of targets and ratings that the disclosures print
    ("What target price did Deutsche Bank set for Tencent when it changed its target in August 2025?", True),
    ("国联证券此前给出的目标价是多少？", True),
    ("What is UBS's price target on Tencent?", False),
    ("2024年3月的营业收入是多少？", False),
])
def test_questions_about_a_reports_standing_text(question, expected):
    assert asks_standing_text(question) is expected


def test_months_are_read_however_a_report_prints_them():
    assert months("What target did Deutsche Bank set in August 2025?") == {(2025, 8)}
    assert months("5. 08/14/2025 Buy, Target Price Change HKD 720.00") == {(2025, 8)}
    assert months("Licenses granted Feb-24; results on 13 Mar 2026") == {(2024, 2), (2026, 3)}
    assert months("2025年12月-2026年2月，成交均价降幅收窄") == {(2025, 12), (2026, 2)}
    assert months("As of December 31, 2022") == {(2022, 12)}
    assert months("Mayo Clinic 2025, Marriott 2024, FY2025, Mar 2025E") == set()  # names and estimates are no months


def test_a_year_is_named_as_reports_print_it():
    from rag.terms import says_year

    named = ["2026", "FY2026", "2026E", "expect RMB95bn capex in 26E", "FY26 revenue", "FY'26", "26-27E", "25-26E",
             "1Q26E", "2H26", "26年1-2月电动车注册"]
    assert all(says_year(text, "2026") for text in named)
    unnamed = ["2025", "page 126E", "v2.26E", "3.26E", "within 26 days", "20261", "26 个城市"]
    assert not any(says_year(text, "2026") for text in unnamed)


def test_a_home_market_is_spoken_of_unless_a_passage_says_elsewhere():
    (domestic,) = places("美伊冲突之后，国内主营炼厂的产能利用率到3月底掉到了多少？")
    assert domestic.named_in("主营炼厂的产能利用率降至72%，一是中东原油供应中断")  # a macro report's own market
    assert not domestic.named_in("公司冷冻设备全球市场占有率第一")
    assert not domestic.named_in("海外收入占比提升至40%")
    (canada,) = places("How many stores in Canada?")
    assert not canada.named_in("stores in the United States")  # other places are never implied
