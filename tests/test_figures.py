"""Figure answers end to end: a real PDF ingested, the question answered with the cell, cited to the row's
line on its page, ratios computed with the formula shown, and the JSON shape of ``reportqa ask --json``."""

from __future__ import annotations

import pypdfium2 as pdfium
import pytest

from ingest.job import ingest_paths
from rag.answer import answer
from rag.figures import asks_figure
from rag.serialize import answer_to_dict
from rag.terms import analyze
from tests.pdfmaker import make_pdf

PAGES = [
    ["ACME INDUSTRIES INC.", "Annual Report on Form 10-K for the fiscal year 2023",
     "Acme makes industrial adhesives and sells them in forty countries.",
     "Net sales grew on higher volumes in every region, and margins held steady."],
    ["Acme Industries Inc. and Subsidiaries", "Consolidated Statement of Income",
     "(Millions) 2023 2022 2021", "Net sales $ 12,400 $ 11,050 $ 10,230", "Cost of sales 7,440 6,851 6,240",
     "Gross profit 4,960 4,199 3,990", "Operating income 1,860 1,547 1,432", "Net income $ 1,302 $ 1,083 $ 1,001"],
    ["Acme Industries Inc. and Subsidiaries", "Consolidated Statement of Cash Flows",
     "(Millions) 2023 2022 2021", "Cash Flows from Investing Activities",
     "Purchases of property, plant and equipment (525) (488) (470)", "Proceeds from sale of assets 12 9 8",
     "Depreciation and amortization 410 395 380"],
    ["Acme Industries Inc. and Subsidiaries", "Consolidated Balance Sheets", "(Millions) 2023 2022",
     "Total current assets 5,200 4,800", "Property, plant and equipment, net 3,100 2,900", "Total assets 9,900 9,100"],
]
ZH_PAGES = [
    ["华远电气（600999）公司点评", "盈利预测与估值 2024A 2025A 2026E 2027E",
     "营业总收入（百万元） 5,210 6,020 7,110 8,230", "归母净利润（百万元） 612 701 845 990",
     "EPS（元/股） 0.51 0.58 0.70 0.82", "投资要点：公司储能业务高增，维持买入评级。"],
]


@pytest.fixture(scope="module")
def library(tmp_path_factory, embedder):
    from rag.library import Library
    from rag.settings import Settings

    folder = tmp_path_factory.mktemp("figures")
    make_pdf(folder / "acme_2023_10k.pdf", PAGES, font="Helvetica")
    make_pdf(folder / "huayuan_2026.pdf", ZH_PAGES)
    lib = Library(Settings.load(environ={}, library=folder / "library"), embedder=embedder)
    summary = ingest_paths(lib, [folder / "acme_2023_10k.pdf", folder / "huayuan_2026.pdf"])
    assert summary.ok
    return lib


def page_text(path: str, page: int) -> str:
    pdf = pdfium.PdfDocument(path)
    try:
        return pdf[page - 1].get_textpage().get_text_range()
    finally:
        pdf.close()


def test_a_statement_figure_is_answered_with_its_cell_cited_on_the_page(library):
    result = answer("What were Acme's net sales in FY2022?", library, mode="extractive")
    assert result.kind == "figure" and result.answerable
    assert "$11,050 million[1]" in result.text
    (cell,) = result.figure.cells
    assert (cell.page, cell.row, cell.column, cell.value) == (2, "Net sales", "2022", 11050.0)
    (citation,) = result.citations
    assert citation.page == 2 and citation.quote == "Net sales $ 12,400 $ 11,050 $ 10,230"
    assert result.hits[citation.hit - 1].chunk.text[citation.start:citation.end] == citation.quote
    doc = library.store.document(citation.doc_id)
    assert "11,050" in page_text(doc.path, citation.page)  # traceable: the cited page prints the cell


def test_an_outflow_is_answered_as_its_size_from_the_cash_flow_statement(library):
    result = answer("What was Acme's capital expenditure in 2023?", library, mode="extractive")
    assert result.kind == "figure" and result.figure.value == 525.0
    assert result.figure.cells[0].text == "(525)" and result.citations[0].page == 3


def test_a_ratio_is_computed_with_its_formula_and_every_input_cited(library):
    result = answer("What was Acme's gross margin in 2023?", library, mode="extractive")
    assert result.kind == "derived"
    for citation in result.citations:  # each cited passage is the hit the citation names, quoting the row
        assert result.hits[citation.hit - 1].chunk.text[citation.start:citation.end] == citation.quote
    assert result.figure.value == pytest.approx((12400 - 7440) / 12400 * 100)
    assert result.figure.unit == "%" and "40%" in result.text
    assert {c.row for c in result.figure.cells} == {"Net sales", "Cost of sales"}
    assert "Computed as" in result.text and len(result.citations) == 2


def test_growth_reads_the_same_row_in_two_years(library):
    result = answer("What was Acme's net sales growth in 2023?", library, mode="extractive")
    assert result.kind == "derived"
    assert result.figure.value == pytest.approx((12400 / 11050 - 1) * 100)
    assert [c.column for c in result.figure.cells] == ["2023", "2022"]


def test_a_chinese_forecast_figure_keeps_its_row_unit(library):
    result = answer("华远电气2026年归母净利润预测是多少？", library, mode="extractive")
    assert result.kind == "figure"
    assert result.figure.value == 845.0 and result.figure.unit == "百万元"
    assert "845百万元[1]" in result.text and result.citations[0].page == 1


def test_the_json_answer_has_its_kind_and_figure(library):
    data = answer_to_dict(answer("What were Acme's net sales in FY2022?", library, mode="extractive"))
    assert data["answer_kind"] == "figure"
    assert data["figure"]["cells"][0]["citation"] == 1 and data["figure"]["scale"] == 1e6
    passage = answer_to_dict(answer("What does Acme make?", library, mode="extractive"))
    assert passage["answer_kind"] == "passage" and passage["figure"] is None


def test_explanations_are_not_figure_questions_and_judgements_on_a_figure_are():
    assert asks_figure(analyze("What was 3M's net income in 2018?"))
    assert not asks_figure(analyze("What drove the operating margin change in FY2022?"))
    assert not asks_figure(analyze("公司毛利率下降的原因是什么？"))
    assert not asks_figure(analyze("交银国际调整前对豪威集团2026年营业收入的预测是多少？"))  # in the text, not a table
    assert asks_figure(analyze("Did Pfizer grow its revenue between FY20 and FY21?"))
    assert asks_figure(analyze("Is 3M a capital-intensive business based on FY2022 data?"))  # judged by ratios
    assert not asks_figure(analyze("Is 3M a good place to work?"))
    assert not asks_figure(analyze("Which of JPM's business segments had the lowest net revenue in 2021 Q1?"))
    assert not asks_figure(analyze("哪个产品的营业收入最高？"))  # a segment or product, not the total


def test_a_quantity_the_vocabulary_does_not_know_is_not_answered_with_the_other_one(library):
    result = answer("Did Acme's wages expense as a percent of net sales increase in FY2023?", library, mode="extractive")
    assert result.figure is None  # not the change in net sales
    part = answer("What were Acme's aerospace net sales as a percent of net sales in FY2022?", library,
                  mode="extractive")
    assert part.figure is None  # a part of revenue as a share of revenue: not the revenue line


def test_a_judgement_on_a_direction_is_answered_with_the_change_and_both_years_cited(library):
    result = answer("Did Acme grow its PP&E between FY2022 and FY2023?", library, mode="extractive")
    assert result.kind == "derived" and result.text.startswith("The figures to judge by:")
    assert result.figure.value == 3100 - 2900 and [c.column for c in result.figure.cells] == ["2022", "2023"]
    first = result.hits[0].chunk  # the cited passage is shown first
    assert {c.page for c in result.citations} == {4} and first.page <= 4 <= first.page_end
    improving = answer("Does Acme have an improving gross margin profile as of 2023?", library, mode="extractive")
    assert improving.figure.value == pytest.approx((12400 - 7440) / 12400 * 100 - (11050 - 6851) / 11050 * 100)


def test_a_judgement_over_time_reads_every_year_the_statement_prints(library):
    result = answer("Are Acme's gross margins historically consistent?", library, mode="extractive")
    margins = [(12400 - 7440) / 12400, (11050 - 6851) / 11050, (10230 - 6240) / 10230]
    assert result.kind == "derived" and result.figure.value == pytest.approx(margins[0] * 100)
    shown = [f"{m * 100:.2f}".rstrip("0").rstrip(".") for m in margins]  # 40%, 38%, 39.0% as printed
    assert all(f"{year}: {m}%" in result.text for year, m in zip((2023, 2022, 2021), shown, strict=True))
    assert len(result.citations) == 6 and {c.column for c in result.figure.cells} == {"2023", "2022", "2021"}


def test_a_judgement_on_a_topic_is_answered_with_the_ratios_it_is_judged_by(library):
    result = answer("Is Acme a capital-intensive business based on FY2023 data?", library, mode="extractive")
    assert result.kind == "derived" and result.figure.value == pytest.approx(525 / 12400 * 100)
    assert "capex to revenue" in result.text and "ppe to total assets" in result.text
    assert "31.31%" in result.text  # PP&E 3,100 / total assets 9,900, the second ratio judged by
    assert len(result.citations) == 4 and {c.page for c in result.citations} == {2, 3, 4}


def test_two_terms_combined_as_the_question_asks(library):
    less = answer("What was Acme's EBITDA less capex in 2023?", library, mode="extractive")
    assert less.kind == "derived" and less.figure.value == 1860 + 410 - 525  # EBITDA computed: OI + D&A
    assert len(less.citations) == 3
    share = answer("What was Acme's capex as a % of revenue in 2023?", library, mode="extractive")
    assert share.figure.value == pytest.approx(525 / 12400 * 100) and share.figure.unit == "%"


def test_a_change_between_two_years_states_both_years(library):
    result = answer("How much did Acme's gross margin change between 2022 and 2023?", library, mode="extractive")
    before, after = (11050 - 6851) / 11050 * 100, (12400 - 7440) / 12400 * 100
    assert result.figure.value == pytest.approx(after - before) and result.figure.unit == "pp"
    assert "38" in result.text and "40" in result.text


def test_averages_over_a_range_of_years_and_of_an_input_the_question_defines(library):
    over = answer("What was Acme's average capex as a % of revenue over 2021 - 2023?", library, mode="extractive")
    shares = [525 / 12400, 488 / 11050, 470 / 10230]
    assert over.figure.value == pytest.approx(sum(shares) / 3 * 100)
    turnover = answer("What was Acme's fixed asset turnover in 2023? Define it as 2023 revenue / (average PP&E "
                      "between 2022 and 2023).", library, mode="extractive")
    assert turnover.figure.value == pytest.approx(12400 / ((3100 + 2900) / 2))


def test_a_ratio_with_an_input_no_table_prints_is_not_computed_and_the_answer_says_which(library):
    result = answer("What was Acme's quick ratio in 2023?", library, mode="extractive")
    assert result.kind != "derived" and result.figure is None
    assert "not computed" in result.reason and "current liabilities" in result.reason


def test_the_parent_company_statement_answers_a_question_about_the_parent_company(tmp_path, embedder):
    from rag.library import Library
    from rag.settings import Settings

    pages = [["四海冷链股份有限公司 2019年年度报告", "公司主营冷冻设备与罐式集装箱。"]] + [
        [title, "2019年12月31日", "单位：元 币种：人民币", "项目 2019年 2018年",
         f"货币资金 {cash} {before}", "应收账款 212,310,115.20 198,400,300.10", "资产总计 2,310,554,120.33 2,101,200,400.00"]
        for title, cash, before in (("合并资产负债表", "905,402,299.44", "700,150,000.00"),
                                    ("母公司资产负债表", "122,775,584.93", "100,020,000.00"))]
    make_pdf(tmp_path / "sihai_2019_annual_report.pdf", pages)
    lib = Library(Settings.load(environ={}, library=tmp_path / "library"), embedder=embedder)
    assert ingest_paths(lib, [tmp_path / "sihai_2019_annual_report.pdf"]).ok
    parent = answer("四海冷链母公司2019年末的货币资金是多少元？", lib, mode="extractive")
    assert parent.kind == "figure" and parent.figure.value == 122775584.93
    assert parent.citations[0].page == 3 and "问题问的是母公司" in parent.text
    group = answer("四海冷链2019年末的货币资金是多少元？", lib, mode="extractive")
    assert group.kind == "figure" and group.figure.value == 905402299.44 and group.citations[0].page == 2
