"""Report metadata: the reference broker report, filings' covers, an A-share annual report, absent keys."""

from __future__ import annotations

import pytest

from ingest.metadata import extract_metadata
from rag.types import META_KEYS
from tests.conftest import FINANCEBENCH_PDFS, REFERENCE_REPORT, ZH_ANNUAL_REPORT


def pdf_pages(path, count: int | None = 3) -> tuple[list[str], dict[str, str]]:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(path))
    total = len(document) if count is None else min(count, len(document))
    pages = [document[i].get_textpage().get_text_range() for i in range(total)]
    info = document.get_metadata_dict()
    document.close()
    return pages, info


def test_reference_report() -> None:
    pages = [REFERENCE_REPORT.read_text(encoding="utf-8")]
    assert extract_metadata(pages, REFERENCE_REPORT.name, {}) == {
        "title": "Sora 实现文生视频跨越式突破，AIGC 持续正反馈",
        "publisher": "国联证券",
        "date": "2024-02",  # the text carries only event dates; the file name carries the month
        "analysts": "姜青山 (S0590523050001); 黄楷 (S0590522090001)",
        "rating": "强于大市（维持）",
        "sector": "计算机",
    }


def test_reference_report_after_cleaning() -> None:
    from ingest.clean import clean_pages

    pages = clean_pages([REFERENCE_REPORT.read_text(encoding="utf-8")], "md")
    meta = extract_metadata(pages, REFERENCE_REPORT.name, {})
    assert meta["publisher"] == "国联证券" and meta["rating"] == "强于大市（维持）" and meta["sector"] == "计算机"
    assert meta["analysts"] == "姜青山 (S0590523050001); 黄楷 (S0590522090001)"


BROKER_COVER = [
    "证券研究报告·公司点评\n贵州茅台（600519）：业绩稳健增长，分红率提升\n2024年02月18日\n"
    "投资评级：买入（维持）\n分析师：王小明 SAC 执业证书编号：S0001234567890\n行业：食品饮料\n"
    "公司 2023 年实现营收 1,505.60 亿元，同比增长 18%。",
    "资料来源：Wind，华泰证券研究所\n资料来源：公司公告，华泰证券研究所",
]


def test_broker_cover_with_date_company_and_inline_analyst() -> None:
    assert extract_metadata(BROKER_COVER, "report.pdf", {"title": "Microsoft Word - 20240218.docx"}) == {
        "title": "贵州茅台（600519）：业绩稳健增长，分红率提升",
        "publisher": "华泰证券",
        "date": "2024-02-18",
        "analysts": "王小明 (S0001234567890)",
        "rating": "买入（维持）",
        "sector": "食品饮料",
        "company": "贵州茅台 (600519)",
        "form_type": "公司点评",
    }


def test_labelled_dotted_date_beats_the_file_name() -> None:
    pages = ["行业周报：算力需求持续旺盛\n发布日期：2024.02.18\n正文。美国时间 2024 年 2 月 15 日，OpenAI 发布 Sora。"]
    meta = extract_metadata(pages, "glsc_2023-11_weekly.pdf", {})
    assert meta["date"] == "2024-02-18"
    assert meta["form_type"] == "行业周报"


def test_english_note_masthead_is_not_the_title() -> None:
    pages = ["Example Securities Research\nSemiconductors: AI demand keeps lifting advanced packaging\n"
             "February 18, 2024\n© 2024 Example Securities. All rights reserved."]
    assert extract_metadata(pages, "note.pdf", {}) == {
        "title": "Semiconductors: AI demand keeps lifting advanced packaging",
        "publisher": "Example Securities",
        "date": "2024-02-18",
    }


def test_absent_stays_absent() -> None:
    pages = ["Quarterly staff notes\nThe canteen closes at 3 pm on 2024 年 2 月 15 日. 评级机构上调了评级。"]
    meta = extract_metadata(pages, "notes.txt", {"creation_date": "2024-03-01", "title": "untitled"})
    assert meta == {"title": "Quarterly staff notes"}
    assert extract_metadata([], "empty.txt", {}) == {}
    assert set(extract_metadata(BROKER_COVER, "a.pdf", {})) <= set(META_KEYS)


def test_filing_cover_joined_by_cleaning() -> None:
    pages = [
        "UNITED STATES SECURITIES AND EXCHANGE COMMISSION Washington, D.C. 20549\nFORM 10-K\n"
        "ANNUAL REPORT PURSUANT TO SECTION 13 OR 15(d) OF THE SECURITIES EXCHANGE ACT OF 1934 For the fiscal "
        "year ended December 31, 2022\nCommission File No. 1-7657 American Express Company (Exact name of "
        "registrant as specified in its charter)"
    ]
    assert extract_metadata(pages, "amex.pdf", {}) == {
        "title": "American Express Company 10-K FY2022",
        "company": "American Express Company",
        "form_type": "10-K",
        "period": "FY2022",
    }


def test_chinese_half_year_report() -> None:
    pages = ["公司代码：600519 公司简称：贵州茅台\n贵州茅台酒股份有限公司\n2023 年半年度报告", "重要提示\n一、本公司董事会保证半年度报告内容的真实。"]
    assert extract_metadata(pages, "maotai.pdf", {}) == {
        "title": "贵州茅台酒股份有限公司 2023年半年度报告",
        "company": "贵州茅台 (600519)",
        "form_type": "半年度报告",
        "period": "2023H1",
    }


FILINGS = {
    "3M_2018_10K.pdf": {
        "title": "3M COMPANY 10-K FY2018", "date": "2019-02-07", "company": "3M COMPANY", "form_type": "10-K",
        "period": "FY2018",
    },
    "AMERICANEXPRESS_2022_10K.pdf": {
        "title": "American Express Company 10-K FY2022", "date": "2023-02-10",
        "company": "American Express Company", "form_type": "10-K", "period": "FY2022",
    },
    "PEPSICO_2022_10K.pdf": {
        "title": "PepsiCo, Inc. 10-K FY2022", "date": "2023-02-09", "company": "PepsiCo, Inc.",
        "form_type": "10-K", "period": "FY2022",
    },
    "BESTBUY_2024Q2_10Q.pdf": {  # the cover gives only the end date; the fiscal quarter is named on page 13
        "title": "BEST BUY CO., INC. 10-Q quarter ended 2023-07-29", "date": "2023-09-01",
        "company": "BEST BUY CO., INC.", "form_type": "10-Q", "period": "quarter ended 2023-07-29",
    },
    "ULTABEAUTY_2023Q4_EARNINGS.pdf": {
        "title": "Ulta Beauty Announces Fourth Quarter Fiscal 2022 Results", "date": "2023-03-09",
        "company": "Ulta Beauty, Inc.", "form_type": "earnings release", "period": "FY2022Q4",
    },
}


@pytest.mark.skipif(not FINANCEBENCH_PDFS.is_dir(), reason="FinanceBench PDFs not present")
@pytest.mark.parametrize("name", sorted(FILINGS))
def test_financebench_cover_pages(name: str) -> None:
    pages, info = pdf_pages(FINANCEBENCH_PDFS / name)
    assert extract_metadata(pages, name, info) == FILINGS[name]


@pytest.mark.skipif(not FINANCEBENCH_PDFS.is_dir(), reason="FinanceBench PDFs not present")
def test_ten_q_fiscal_quarter_from_the_whole_filing() -> None:
    pages, info = pdf_pages(FINANCEBENCH_PDFS / "BESTBUY_2024Q2_10Q.pdf", count=None)
    meta = extract_metadata(pages, "BESTBUY_2024Q2_10Q.pdf", info)
    assert meta["period"] == "FY2024Q2" and meta["title"] == "BEST BUY CO., INC. 10-Q FY2024Q2"


@pytest.mark.skipif(not ZH_ANNUAL_REPORT.is_file(), reason="zh-dev annual report not present")
def test_zh_annual_report_raw_and_cleaned() -> None:
    from ingest.clean import clean_pages

    expected = {
        "title": "四方科技集团股份有限公司 2019年年度报告",
        "company": "四方科技 (603339)",
        "form_type": "年度报告",
        "period": "2019",
    }
    pages, info = pdf_pages(ZH_ANNUAL_REPORT)
    assert extract_metadata(pages, ZH_ANNUAL_REPORT.name, info) == expected
    # Cleaning drops the running header "2019 年年度报告", title line of the cover included.
    assert extract_metadata(clean_pages(pages, "pdf"), ZH_ANNUAL_REPORT.name, info) == expected


def test_broker_pdf_made_with_reportlab(tmp_path) -> None:
    from tests.pdfmaker import make_pdf

    path = make_pdf(tmp_path / "cover.pdf", [BROKER_COVER[0].split("\n"), BROKER_COVER[1].split("\n")],
                    footer_page_numbers=False, title="Microsoft Word - cover.docx")
    pages, info = pdf_pages(path)
    meta = extract_metadata(pages, path.name, info)
    assert (meta["publisher"], meta["date"], meta["rating"], meta["company"]) == (
        "华泰证券", "2024-02-18", "买入（维持）", "贵州茅台 (600519)")


def test_rules_and_underscores_are_no_title():
    from ingest.metadata import without_rules

    assert without_rules("______________________ SQUARE, INC.") == "SQUARE, INC."
    assert without_rules("_________________________") == ""
    assert without_rules("— 3M COMPANY —") == "3M COMPANY"
    assert without_rules("Square, Inc.") == "Square, Inc."
