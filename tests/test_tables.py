"""Tables from page text: values, periods, units, rows and headers, on generated pages and real statements."""

from __future__ import annotations

import pytest

from ingest.tables import extract_tables, page_tables
from rag.tables import parse_period, parse_value, row_unit, scale_of, tables_from_json, tables_to_json
from tests.conftest import FINANCEBENCH_PDFS, ZH_ANNUAL_REPORT


@pytest.mark.parametrize(("printed", "value"), [
    ("(1,577)", -1577.0), ("1,488", 1488.0), ("—", None), ("14.55%", 14.55), ("-0.4%", -0.4), ("$5,363", 5363.0),
    ("1.2万", 12000.0), ("减少4.07个百分点", -4.07), ("(383", None), ("（2,986）", -2986.0), ("12.9pct", None),
])
def test_printed_values_parse_with_sign_scale_and_cut_cells_rejected(printed, value):
    assert parse_value(printed) == value


@pytest.mark.parametrize(("header", "period"), [
    ("FY2018", "2018"), ("FY18", "2018"), ("2019年", "2019"), ("2019年度", "2019"), ("2026E", "2026E"),
    ("2024A", "2024A"), ("2Q24", "2024Q2"), ("2023年12月31日", "2023-12-31"), ("December 31, 2023", "2023-12-31"),
    ("July 29, 2023", "2023-07-29"), ("本期", "current"), ("上年同期", "previous"), ("Total", ""), ("2025H1", "2025H1"),
    ("26E", "2026E"), ("26CL", "2026E"), ("12/26e", "2026E"), ("12/24", "2024"), ("7/29", ""), ("2019年末", "2019-12-31"),
])
def test_column_headers_resolve_to_periods(header, period):
    assert parse_period(header) == period


def test_units_from_table_headings_and_row_labels():
    assert scale_of("(Millions) 2018 2017 2016") == ("million", 1e6)
    assert scale_of("(in thousands, except per share data)") == ("thousand", 1e3)
    assert scale_of("单位：万元 币种：人民币") == ("万元", 1e4)
    assert scale_of("财务报表(人民币百万)") == ("百万元", 1e6)
    assert row_unit("归母净利润（百万元）") == ("归母净利润", "百万元")
    assert row_unit("EPS-最新摊薄（元／股）") == ("EPS-最新摊薄", "元/股")
    assert row_unit("Purchases of property, plant and equipment (PP&E)")[1] == ""


STATEMENT = """3M Company and Subsidiaries
Consolidated Statement of Cash Flows
Years ended December 31
(Millions) 2018 2017 2016
Cash Flows from Operating Activities
Net income including noncontrolling interest $ 5,363 $ 4,869 $ 5,058
Depreciation and amortization 1,488 1,544 1,474
Cash Flows from Investing Activities
Purchases of property, plant and equipment (PP&E) (1,577) (1,373) (1,420)
Proceeds from sale of businesses, net of cash sold
846 1,065 142
Other — net 9 (6) (4)
The accompanying Notes to Consolidated Financial Statements are an integral part of this statement."""


def test_a_statement_page_becomes_rows_of_period_cells_under_their_section():
    (table,) = page_tables(STATEMENT, 60, "doc", "3M.pdf")
    assert (table.title, table.statement, table.unit, table.scale) == \
        ("Consolidated Statement of Cash Flows", "cash_flow", "million", 1e6)
    assert table.periods == ("2018", "2017", "2016")
    rows = {r.label: r for r in table.rows}
    capex = rows["Purchases of property, plant and equipment (PP&E)"]
    assert capex.parent == "Cash Flows from Investing Activities"
    assert [c.value for c in capex.cells] == [-1577.0, -1373.0, -1420.0]
    assert capex.line == "Purchases of property, plant and equipment (PP&E) (1,577) (1,373) (1,420)"
    wrapped = rows["Proceeds from sale of businesses, net of cash sold"]  # values on the next line
    assert wrapped.line == "Proceeds from sale of businesses, net of cash sold\n846 1,065 142"
    assert rows["Net income including noncontrolling interest"].cell("2017").value == 4869.0
    assert tables_from_json(tables_to_json([table])) == [table]


FORECAST = """买入（维持）
盈利预测与估值 [Table_EPS] 2024A 2025A 2026E 2027E 2028E
营业总收入（百万元） 77,857 89,184 100,430 116,512 135,625
同比（%） 7.76 14.55 12.61 16.01 16.40
归母净利润（百万元） 11,036 13,461 15,009 18,150 22,775
EPS-最新摊薄（元/股） 5.32 6.49 7.24 8.75 10.99
[Table_Tag]
◼ 事件：公司25年营收891.8亿元，同比+14.5%，归母净利润134.6亿元，同比+22%，扣非净利润128.3亿元，同比+20%。"""


def test_a_broker_forecast_table_keeps_each_rows_unit_and_ends_at_prose():
    (table,) = page_tables(FORECAST, 1)
    assert (table.title, table.statement) == ("盈利预测与估值", "forecast")
    assert table.periods[-1] == "2028E"
    assert [(r.label, r.unit) for r in table.rows] == [
        ("营业总收入", "百万元"), ("同比", "%"), ("归母净利润", "百万元"), ("EPS-最新摊薄", "元/股")]
    assert table.rows[2].cell("2026E").value == 15009.0


KEY_FIGURES = """(一) 主要会计数据
单位：元币种：人民币
主要会计数据2019年2018年
本期比上
年同期增
减(%)
2017年
营业收入 1,175,301,034.32 1,230,537,181.80 -4.49 1,008,714,515.86
归属于上市公司股东
的净利润 129,465,020.68 182,223,387.13 -28.95 172,184,765.20"""


def test_an_annual_report_header_wrapped_over_lines_and_a_label_cut_before_its_values():
    (table,) = page_tables(KEY_FIGURES, 5)
    assert table.periods == ("2019", "2018", "", "2017")
    assert (table.unit, table.scale) == ("元", 1.0)
    assert [r.label for r in table.rows] == ["营业收入", "归属于上市公司股东的净利润"]
    assert table.rows[1].cell("2019").value == 129465020.68


def test_a_table_continued_on_the_next_page_carries_its_header():
    first = page_tables(STATEMENT.rsplit("\n", 1)[0], 60)
    (continued,) = page_tables("Dividends paid to shareholders (3,193) (2,803) (2,678)", 61, previous=first[-1])
    assert continued.continued_from == 60 and continued.periods == ("2018", "2017", "2016")


def test_prose_with_years_is_no_table():
    assert page_tables("In 2018 the company grew. Sales rose 5% in 2017 and 2016 alike.\nMore text.", 1) == []


@pytest.mark.skipif(not FINANCEBENCH_PDFS.is_dir(), reason="development benchmarks not present")
def test_real_10k_statements_are_read():
    from ingest.clean import clean_pages
    from ingest.loaders import load

    loaded = load(FINANCEBENCH_PDFS / "3M_2018_10K.pdf", ocr=False)
    tables = extract_tables(clean_pages(loaded.pages, loaded.fmt))
    income = [t for t in tables if t.page == 56]
    net_sales = next(r for t in income for r in t.rows if r.label == "Net sales")
    assert net_sales.cell("2018").value == 32765.0


@pytest.mark.skipif(not ZH_ANNUAL_REPORT.is_file(), reason="development benchmarks not present")
def test_real_annual_report_balance_sheet_is_read():
    from ingest.clean import clean_pages
    from ingest.loaders import load

    loaded = load(ZH_ANNUAL_REPORT, ocr=False)
    tables = extract_tables(clean_pages(loaded.pages, loaded.fmt))
    balance = [t for t in tables if t.page == 59]
    cash = next(r for t in balance for r in t.rows if r.label == "货币资金")
    assert (cash.parent, cash.cell("2019-12-31").value) == ("流动资产", 905402299.44)


SIDE_BY_SIDE = """Tencent (0700): Summary of Financials
Income Statement FY24A FY25A FY26E Cash Flow Statement FY24A FY25A FY26E
Revenue 660,257 751,766 854,708 Cash flow from operating activities 258,521 303,052 291,068
COGS (311,011) (329,173) (372,644) o/w Capital expenditure (89,321) (105,592) (121,267)
Adj. EPS 23.63 28.08 30.54"""


def test_two_tables_side_by_side_are_read_as_two():
    left, right = page_tables(SIDE_BY_SIDE, 7)
    assert (left.title, right.title) == ("Income Statement", "Cash Flow Statement")
    assert [r.label for r in left.rows] == ["Revenue", "COGS", "Adj. EPS"]
    capex = right.rows[1]
    assert capex.label == "o/w Capital expenditure" and capex.cell("2025A").value == -105592.0
    assert capex.line == "o/w Capital expenditure (89,321) (105,592) (121,267)"  # a part of the printed line


def test_a_repeated_run_of_years_over_unlabelled_rows_is_one_table_with_two_groups():
    text = "Net Revenue Operating Profit\n2022 2021 2022 2021\nFLNA $ 23,291 $ 19,608 $ 6,135 $ 5,633"
    (table,) = page_tables(text, 70)
    assert table.periods == ("2022", "2021", "2022", "2021")
    assert table.rows[0].cells[2].value == 6135.0


STACKED = """CONSOLIDATED STATEMENTS OF OPERATIONS
(In thousands, except per share data) (Unaudited)
Three Months Ended Twelve Months Ended December 31,
2022
December 31,
2021
December 31,
2022
December 31,
2021
Revenues
Casino $ 1,548,762 $ 1,527,818 $ 5,734,173 $ 5,362,912"""


def test_a_header_stacked_over_lines_takes_each_columns_date_and_group():
    (table,) = page_tables(STACKED, 11)
    assert table.periods == ("2022-12-31/3M", "2021-12-31/3M", "2022-12-31/12M", "2021-12-31/12M")
    assert (table.unit, table.rows[0].cells[2].value) == ("thousand", 5734173.0)


def test_a_long_line_of_numbers_is_read_quickly():
    import time

    line = " ".join(["12"] * 400)
    start = time.perf_counter()
    page_tables(f"2019 2018\n{line}\n{line}", 1)
    assert time.perf_counter() - start < 1.0  # no backtracking blow-up in the header patterns


def test_a_row_leaving_a_column_empty_is_placed_by_where_its_values_stand(tmp_path):
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    from ingest.loaders import load
    from tests.pdfmaker import register_cjk_font

    font = register_cjk_font()
    path = tmp_path / "statement.pdf"
    pdf = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    pdf.setFont(font, 10)
    rows = [("合并资产负债表", None, None), ("项目", "2019年12月31日", "2018年12月31日"),
            ("货币资金", "905,402,299.44", "627,041,535.44"), ("应收票据", None, "4,668,878.50"),
            ("预付款项", "31,290,450.41", None), ("存货", "637,768,124.78", "601,968,438.28")]
    for i, (label, first, second) in enumerate(rows):
        y = 780 - 18 * i
        pdf.drawString(60, y, label)
        for x, value in ((330, first), (480, second)):
            if value:
                pdf.drawRightString(x, y, value)
    pdf.save()
    pages = load(path, ocr=False).pages  # one line per row as the PDF prints it (a short page reflows when cleaned)
    (without,) = extract_tables(pages)
    assert [r.label for r in without.rows] == ["货币资金", "存货"]  # text alone cannot say which column is empty
    (table,) = extract_tables(pages, pdf=path)
    rows_by = {r.label: r for r in table.rows}
    assert rows_by["应收票据"].cell("2018-12-31").value == 4668878.50
    assert rows_by["应收票据"].cell("2019-12-31").value is None
    assert rows_by["预付款项"].cell("2019-12-31").value == 31290450.41
    assert len(rows_by["应收票据"].cells) == 2


def test_a_header_of_fiscal_year_ends_and_a_growth_section_are_told_apart():
    from rag.tables import is_ratio_section

    (table,) = page_tables("Fiscal Year Ending 12/25 12/26e 12/27e\nRevenue, net (Rmb bn) 751.8 833.0 914.2", 1)
    assert table.periods == ("2025", "2026E", "2027E") and table.rows[0].cell("2026E").value == 833.0
    assert is_ratio_section("Growth") and is_ratio_section("Valuation (x)") and is_ratio_section("比率分析")
    assert not is_ratio_section("财务报表和主要财务比率")  # statements with ratios below them: amounts first


VALUATIONS = """表1：本周一级行业估值及其分位数
行业名称 PE(TTM)(倍) 本周 PE 涨跌幅 市盈率分位数 PB(LF)(倍) 本周 PB 涨跌幅 市净率分位数
房地产 65.66 -3.85% 98.66% 0.77 1.32% 9.95%
计算机 75.75 -4.13% 85.14% 3.99 -3.39% 47.43%
合计 60.10 -2.00% 80.00% 2.10 -1.00% 40.00%"""


def test_a_table_row_the_question_names_under_a_column_it_names():
    from rag.tables import named_rows
    from rag.terms import key_terms

    def named(question: str, text: str = VALUATIONS) -> list[str]:
        return [row.line for row in named_rows(text, question, key_terms(question))]

    assert named("截至4月3日那一周，计算机行业的PB(LF)估值是多少倍？") == ["计算机 75.75 -4.13% 85.14% 3.99 -3.39% 47.43%"]
    assert named("计算机行业的景气度如何？") == []  # the row, but no column named
    assert named("估值表里PB最高的是哪个行业？") == []  # a column, but no row named
    # the table's title is no column: "营业收入" is not among its headers, though the title says 一级行业估值
    assert named("各行业合计的营业收入是多少？") == []
    assert named("各行业合计的市盈率分位数是多少？") == ["合计 60.10 -2.00% 80.00% 2.10 -1.00% 40.00%"]
    by_year = "年份 营收 利润\n2024年 10 12\n2025年 3 4"  # rows labelled by their year
    assert named("2025年营收是多少？", by_year) == ["2025年 3 4"]
    sotp = "SOTP valuation\nSegment PE Value per share (HKD)\nGames 15 348\nPE 24.7 23.3"
    assert named("In the SOTP, what is the value per share of the games business?", sotp) == ["Games 15 348"]
    assert named("What is the bear-case value per share in HKD?", sotp) == []  # "PE" is not in "per share"
