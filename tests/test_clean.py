"""Cleaning on real PDFs (written by reportlab, read back by the loader) and on exact strings."""

from __future__ import annotations

import re

import pytest
from conftest import FINANCEBENCH_PDFS, REFERENCE_REPORT, ZH_ANNUAL_REPORT
from pdfmaker import make_pdf, wrap

from ingest.clean import clean_pages
from ingest.loaders import load

ZH_PARAGRAPH = ("OpenAI 发布了文生视频大模型 Sora，可根据简短提示词，生成长达 60s 高清短视频，将此前行业视频生成长度"
                "大幅提升。该模型拥有文本到视频、长时生成能力，复杂场景和角色生成能力，语言理解能力。")
EN_PARAGRAPH = ("The Company's management is responsible for establishing and maintaining adequate internal "
                "control over financial reporting and for the forward-looking statements in this report.")


BODIES = [["视频生成模型 Sora 实现众多突破。", "OpenAI released Sora."], ["谷歌推出 Gemini 1.5 Pro。", "Google answered."],
          ["算力需求持续提升。", "Compute demand keeps rising."], ["应用端有望加速落地。", "Applications follow."],
          ["风险提示：技术不及预期。", "Risks remain."]]


def _cleaned_pdf(tmp_path, pages, **options) -> list[str]:
    loaded = load(make_pdf(tmp_path / "doc.pdf", pages, **options))
    return clean_pages(loaded.pages, loaded.fmt)


@pytest.mark.parametrize("footer_format", ["{page}", "- {page} -", "第 {page} 页", "Page {page} of {total}",
                                           "{page}/{total}"])
def test_running_header_and_page_numbers_are_removed(tmp_path, footer_format):
    cleaned = _cleaned_pdf(tmp_path, BODIES, header="国联证券 计算机行业周报 2024 年第 {page} 期",
                           footer_format=footer_format)
    assert cleaned == ["\n".join(lines) for lines in BODIES]


def test_lines_repeated_on_too_few_pages_stay(tmp_path):
    pages = [["Shared heading", *lines] if n < 2 else lines for n, lines in enumerate(BODIES)]
    cleaned = _cleaned_pdf(tmp_path, pages, footer_page_numbers=False)
    assert cleaned[:2] == ["\n".join(pages[0]), "\n".join(pages[1])]  # on 2 of 5 pages: below both thresholds


def test_table_of_contents_backlinks_of_filings_are_removed(tmp_path):
    pages = [["Table of Contents", *lines] if n % 2 == 0 else lines for n, lines in enumerate(BODIES * 2)]
    cleaned = _cleaned_pdf(tmp_path, pages, footer_page_numbers=False)  # back-link on 5 of 10 pages
    assert cleaned == ["\n".join(lines) for lines in BODIES * 2]


def test_a_number_inside_the_page_is_not_a_page_number():
    page = "Segment\nRevenue\n12\nOperating income\n7\nEnd of table."
    assert clean_pages([page, page.replace("End", "Close")], "md")[0] == page


def test_chinese_lines_broken_by_the_layout_are_joined_without_space(tmp_path):
    lines = ["1.2 Sora 采用了扩散模型结合 transformer", *wrap(ZH_PARAGRAPH, 50),
             "图表1：Sora 可根据文本描述生成长达 60s 的视频", "资料来源：OpenAI 官网，国联证券研究所",
             "（一）国产算力基础设施", "一、投资建议"]
    cleaned = _cleaned_pdf(tmp_path, [lines], footer_page_numbers=False)[0]
    assert len(wrap(ZH_PARAGRAPH, 50)) >= 3
    assert cleaned.split("\n") == [
        "1.2 Sora 采用了扩散模型结合 transformer",
        "OpenAI 发布了文生视频大模型 Sora，可根据简短提示词，生成长达 60s 高清短视频，将此前行业视频生成长度大幅提升。"
        "该模型拥有文本到视频、长时生成能力，复杂场景和角色生成能力，语言理解能力。",
        "图表1：Sora 可根据文本描述生成长达 60s 的视频",
        "资料来源：OpenAI 官网，国联证券研究所",
        "（一）国产算力基础设施",
        "一、投资建议",
    ]


def test_english_lines_join_with_one_space_and_lose_line_end_hyphens(tmp_path):
    lines = ["Item 9A. Controls and Procedures",
             "The Company's management is responsible for establish-",
             "ing and maintaining adequate internal control over fi-",
             "nancial reporting and for the forward-",
             "looking statements in this report.",
             "PART II"]
    # "forward-looking" is written whole on another page, so that line-end hyphen is part of the word
    cleaned = _cleaned_pdf(tmp_path, [lines, ["Forward-looking statements involve risks."]], font="Helvetica",
                           footer_page_numbers=False)
    assert cleaned[0] == f"Item 9A. Controls and Procedures\n{EN_PARAGRAPH}\nPART II"


def test_paragraphs_lists_and_table_rows_keep_their_line_breaks(tmp_path):
    lines = [*wrap(EN_PARAGRAPH, 60), "Net sales 32,765 31,657 30,109", "Operating income 7,207 7,692",
             "• Safety and Industrial", "• Health Care", "Short closing line", "Next paragraph starts here."]
    cleaned = _cleaned_pdf(tmp_path, [lines], font="Helvetica", footer_page_numbers=False)[0]
    assert cleaned.split("\n") == [EN_PARAGRAPH, *lines[-6:]]


NUMBERS = ["营收 1,505.60 亿元，毛利率 87%，日期 2024.02.08，价格 ＄１２３，增速 １２．５％。",
           "EPS was -0.62 and capex (1,577) million, up 1.5% on 2024.02.08."]


def test_normalisation_never_changes_numbers():
    cleaned = clean_pages(NUMBERS, "txt")
    assert cleaned == ["营收1,505.60亿元，毛利率87%，日期2024.02.08，价格 $123，增速12.5%。", NUMBERS[1]]
    half_width = [text.translate({ord(c): ord(c) - 0xFEE0 for c in "＄１２３５．％"}) for text in NUMBERS]
    assert [re.findall(r"[\d.,%$()-]+", text) for text in cleaned] == [
        re.findall(r"[\d.,%$()-]+", text) for text in half_width]


@pytest.mark.parametrize(("raw", "expected"), [
    ("2024 年3 月", "2024年3月"),
    ("美国时间 2024 年 2 月 15 日，OpenAI 发布 Sora", "美国时间2024年2月15日，OpenAI 发布 Sora"),
    ("分 析 师 声 明", "分析师声明"),
    ("支持 5G 网络与 H100 芯片", "支持 5G 网络与 H100 芯片"),
    ("ＡＢＣ\u3000ｄｅｆ\u00a0 x\u200by", "ABC def xy"),
    ("投资建议： 强于大市（维持）", "投资建议：强于大市（维持）"),
    ("全角标点，。：；（）保持", "全角标点，。：；（）保持"),
    ("Online games\x04\x05\x06\x07 grew 20%\x7f", "Online games grew 20%"),  # a symbol font's glyph indices
    ("LMNO 年代⽯油危机显⽰，美联储在主席阿瑟·伯恩斯时期", "LMNO 年代石油危机显示，美联储在主席阿瑟·伯恩斯时期"),  # Kangxi radicals
])
def test_width_and_chinese_spacing(raw, expected):
    assert clean_pages([raw], "txt") == [expected]


def test_table_rows_keep_the_spaces_between_cells():
    rows = "项目 期初余额 本期增加 期末余额\n安全生产费 3,330,215.40 1,840,520.48 3,412,940.61"
    assert clean_pages([rows], "pdf") == [rows]


def test_markdown_keeps_its_structure():
    page = "## 1. 视频生成模型\n\n第一行没有句号\n第二行\n\n| 公司 | 2023 年 |\n| --- | --- |\n| 海光 | 1,505.60 |"
    assert clean_pages([page], "md") == [page]


def test_same_number_of_pages_out_and_blank_pages_stay_blank():
    assert clean_pages(["a", "", "  \n \n", "b"], "pdf") == ["a", "", "", "b"]
    assert clean_pages(["\x04\x05\x06\x07\x08\x05\x06\nStrong quarter."], "pdf") == ["Strong quarter."]
    assert clean_pages([], "pdf") == []


def test_reference_report_keeps_its_text():
    text = REFERENCE_REPORT.read_text(encoding="utf-8")
    cleaned = clean_pages([text], "md")[0]
    assert "美国时间2024年2月15日，OpenAI 发布文生视频模型 Sora" in cleaned
    assert re.findall(r"^#+ .*$", cleaned, re.M) == re.findall(r"^#+ .*$", text, re.M)


@pytest.mark.skipif(not ZH_ANNUAL_REPORT.exists(), reason="benchmark PDFs not present")
def test_real_chinese_annual_report_loses_header_and_page_numbers():
    loaded = load(ZH_ANNUAL_REPORT)
    cleaned = clean_pages(loaded.pages, loaded.fmt)
    assert len(cleaned) == 156
    assert not any(re.search(r"^\d+ / 156$|^2019年年度报告$", page, re.M) for page in cleaned)
    assert cleaned[1].split("\n")[0] == "重要提示"
    assert "向全体股东每10股派发现金红利1.88元（含税），每10股以资本公积金转增4.8股。" in cleaned[1]


@pytest.mark.skipif(not FINANCEBENCH_PDFS.exists(), reason="benchmark PDFs not present")
def test_real_10k_loses_backlinks_and_keeps_compounds():
    loaded = load(FINANCEBENCH_PDFS / "3M_2018_10K.pdf")
    cleaned = clean_pages(loaded.pages, loaded.fmt)
    assert not any("Table of Contents" in page.split("\n")[0] for page in cleaned)
    statement = cleaned[59].split("\n")
    assert statement[:2] == ["3M Company and Subsidiaries", "Consolidated Statement of Cash Flows"]
    assert cleaned[59].endswith("The accompanying Notes to Consolidated Financial Statements are an integral "
                                "part of this statement.")
    assert "forward-looking statements" in "\n".join(cleaned) and "forwardlooking" not in "\n".join(cleaned)
