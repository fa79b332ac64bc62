"""Chunking: section paths, kinds, figures and tables, page offsets, number-safe splits, verbatim text."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from ingest.chunking import MIN_CHUNK, Piece, chunk_pages
from ingest.kinds import weight
from rag.text import split_sentences
from rag.types import Kind
from tests.conftest import REFERENCE_REPORT

S1 = "1. 视频生成模型 Sora 实现众多突破"
S1_1 = f"{S1} > 1.1 Sora 模型实现众多突破"
S1_2 = f"{S1} > 1.2 Sora 采用了扩散模型结合 transformer"
S2 = "2. 谷歌推出 Gemini 1.5 Pro，长上下文能力提升"
COVER = "计算机 > Sora 实现文生视频跨越式突破，AIGC 持续正反馈"
LEGAL = ("分析师声明", "评级说明", "一般声明", "特别声明", "版权声明", "联系我们")


@pytest.fixture(scope="module")
def reference() -> tuple[list[str], list[Piece]]:
    pages = [REFERENCE_REPORT.read_text(encoding="utf-8")]
    return pages, chunk_pages(pages)


def parts(piece: Piece) -> list[tuple[int, str]]:
    """(page, text) for each page's part of a piece, without the "\\n" that joins two pages."""
    ends = [offset - 1 for offset, _ in piece.page_starts[1:]] + [len(piece.text)]
    return [(page, piece.text[offset:end]) for (offset, page), end in zip(piece.page_starts, ends)]


def assert_verbatim(pages: list[str], pieces: list[Piece]) -> None:
    """Each page's part of each piece is in that page verbatim, and every visible character is in a piece."""
    covered = [bytearray(len(page)) for page in pages]
    cursor = [0] * len(pages)
    for piece in pieces:
        assert piece.text.strip() == piece.text and piece.text
        assert piece.page == piece.page_starts[0][1] and piece.page_starts[0][0] == 0
        assert piece.page_end == piece.page_starts[-1][1]
        for offset, _ in piece.page_starts[1:]:
            assert piece.text[offset - 1] == "\n"
        for page, text in parts(piece):
            at = pages[page - 1].find(text, cursor[page - 1])
            assert at >= 0, (page, text[:40])
            cursor[page - 1] = at
            covered[page - 1][at : at + len(text)] = b"\x01" * len(text)
    for page, marks in zip(pages, covered):
        missing = [i for i, c in enumerate(page) if not c.isspace() and not marks[i]]
        assert not missing, page[missing[0] : missing[0] + 40]


def boundaries(pages: list[str], pieces: list[Piece]) -> list[tuple[str, int]]:
    """(page text, offset) of every start and end of every piece part."""
    found = []
    for piece in pieces:
        for page, text in parts(piece):
            at = pages[page - 1].find(text)
            found += [(pages[page - 1], at), (pages[page - 1], at + len(text))]
    return found


def containing(pieces: list[Piece], needle: str) -> Piece:
    matches = [piece for piece in pieces if needle in piece.text]
    assert len(matches) == 1, (needle, len(matches))
    return matches[0]


# --- The reference report -----------------------------------------------------------------------------------


def test_reference_section_paths(reference: tuple[list[str], list[Piece]]) -> None:
    _, pieces = reference
    assert containing(pieces, "过去的研究中").section == S1_2
    assert containing(pieces, "美国时间 2024 年 2 月 15 日").section == f"{COVER} > 行业事件"
    assert containing(pieces, "分析师：姜青山").section == f"{COVER} > 作者"
    assert containing(pieces, "2月16日, OpenAI 发布了").section == S1_1
    # "#### ➤" and "### ➤" bullets both sit under "### 1.1": numbering, not Markdown level, decides.
    assert containing(pieces, "Sora 能够根据用户提供的文本描述").section == f"{S1_1} > 文本到视频, 长时生成能力"
    assert containing(pieces, "Sora 对语言拥有深刻理解能力").section == f"{S1_1} > 深刻语言理解能力"
    assert containing(pieces, "大语言模型通过 token").section == f"{S1_2} > 将可视数据转换成数据包 (patches)"
    assert containing(pieces, "过去，图像和视频生成方法").section == f"{S1_2} > 1.2.1 丰富的持续时间、分辨率与纵横比"
    assert containing(pieces, "Sora 还可以生成图像").section == f"{S1_2} > 1.2.4 图片生成能力"
    assert containing(pieces, "2月16日，谷歌宣布推出").section == S2
    assert containing(pieces, "即使上下文窗口增加").section == f"{S2} > Gemini 1.5 Pro 在扩大上下文窗口后，保持了高性能"
    assert containing(pieces, "### 3. 投资建议").section == "3. 投资建议"
    assert containing(pieces, "#### 4. 风险提示").section == "4. 风险提示"
    assert containing(pieces, "本报告署名分析师在此声明").section == "分析师声明"
    assert containing(pieces, "北京市东城区").section == "联系我们"


def test_reference_heading_opens_its_sections_first_chunk(reference: tuple[list[str], list[Piece]]) -> None:
    _, pieces = reference
    first = containing(pieces, "过去的研究中")
    assert first.text.startswith("## 1.2 Sora 采用了扩散模型结合 transformer\n\n过去的研究中")
    cover = pieces[0]
    assert cover.text.startswith("## 计算机\n\n### Sora 实现文生视频跨越式突破，AIGC 持续正反馈\n\n#### ► 行业事件：")
    # "#### 相对大盘走势" has no text of its own: it opens the next section's chunk.
    assert containing(pieces, "#### 相对大盘走势").text.startswith("#### 相对大盘走势\n\n\n\n#### 作者\n\n分析师：姜青山")


def test_reference_figures(reference: tuple[list[str], list[Piece]]) -> None:
    _, pieces = reference
    for n in range(1, 26):
        figure = [piece for piece in pieces if re.search(rf"图表{n}[:：]", piece.text)]
        assert len(figure) == 1, n
        assert figure[0].text.startswith(f"图表{n}")
        assert "资料来源" in figure[0].text.splitlines()[-1]
        assert figure[0].kind is (Kind.TABLE if n == 25 else Kind.FIGURE)
    assert "A Shiba Inu dog wearing a beret" in containing(pieces, "图表13:").text
    assert all(not re.search(r"图表\d+[:：]", piece.text) for piece in pieces if piece.kind is Kind.BODY)


def test_reference_table_stays_whole(reference: tuple[list[str], list[Piece]]) -> None:
    pages, pieces = reference
    table = containing(pieces, "Core Capability")
    start = pages[0].index("图表25")
    end = pages[0].index("国联证券研究所", pages[0].index("Gemini 1.5: Unlocking")) + len("国联证券研究所")
    assert table.text == pages[0][start:end]
    assert table.kind is Kind.TABLE
    assert table.section == f"{S2} > Gemini 1.5 Pro 在扩大上下文窗口后，保持了高性能"


def test_reference_boilerplate(reference: tuple[list[str], list[Piece]]) -> None:
    _, pieces = reference
    legal = [piece for piece in pieces if piece.section.split(" > ")[0] in LEGAL]
    assert {piece.section for piece in legal} == set(LEGAL)
    assert all(piece.kind is Kind.BOILERPLATE for piece in legal)
    numbered = [piece for piece in pieces if re.match(r"[1-4]\. ", piece.section)]
    assert len(numbered) == 57
    assert all(piece.kind is not Kind.BOILERPLATE for piece in numbered)
    assert [piece for piece in pieces if piece.kind is Kind.BOILERPLATE] == legal
    assert containing(pieces, "相对同期相关证券市场代表指数涨幅20%以上").kind is Kind.BOILERPLATE


def test_reference_counts_and_sizes(reference: tuple[list[str], list[Piece]]) -> None:
    pages, pieces = reference
    assert len(pieces) == 71
    kinds = Counter(piece.kind.value for piece in pieces)
    assert kinds == {"body": 38, "figure": 24, "boilerplate": 8, "table": 1}
    assert all(piece.page == piece.page_end == 1 for piece in pieces)
    for piece in pieces:
        limit = 2 * 800 if piece.kind in (Kind.TABLE, Kind.BOILERPLATE) else 800
        assert weight(piece.text) <= limit
        assert weight(piece.text) >= MIN_CHUNK or piece.kind is Kind.FIGURE
    assert_verbatim(pages, pieces)


def test_reference_small_chunks_split_by_sentences_and_rows(reference: tuple[list[str], list[Piece]]) -> None:
    pages, _ = reference
    pieces = chunk_pages(pages, 200)
    assert_verbatim(pages, pieces)
    assert containing(pieces, "过去的研究中").section == S1_2
    rows = [piece for piece in pieces if piece.section.endswith("保持了高性能") and piece.kind is not Kind.BODY]
    assert [piece.kind for piece in rows] == [Kind.TABLE, Kind.TABLE, Kind.FIGURE]  # the last is the source
    assert "".join(piece.text for piece in rows).count("Core Capability") == 1  # no repeated header row
    for piece in pieces:
        if piece.kind is Kind.BODY:
            assert weight(piece.text) <= 200 + 120  # a heading may ride on top of a full chunk


def test_reference_after_cleaning(reference: tuple[list[str], list[Piece]]) -> None:
    from ingest.clean import clean_pages

    pages = clean_pages(reference[0], "md")
    pieces = chunk_pages(pages)
    assert_verbatim(pages, pieces)
    assert containing(pieces, "过去的研究中").section == S1_2
    assert containing(pieces, "Core Capability").kind is Kind.TABLE  # tabs are gone; the rows end in numbers
    assert sum(piece.kind is Kind.FIGURE for piece in pieces) == 24
    assert all((piece.kind is Kind.BOILERPLATE) == (piece.section in LEGAL) for piece in pieces)


# --- Hand-written multi-page reports shaped like cleaned PDF text -------------------------------------------

BROKER = [
    "证券研究报告·行业深度\n电子行业深度：AI 服务器拉动先进封装需求\n2024年03月05日\n投资评级：增持（首次）\n"
    "分析师：王小明\n执业证书编号：S0001234567890\n分析师：李华\n执业证书编号：S0001234567891\n"
    "一、行业概览\n（一）市场规模\n"
    "2023 年全球先进封装市场规模达到 439 亿美元，同比增长 10.2%。台积电在 2024.02.08 的法说会上将 CoWoS 产能目标"
    "上调至 3.2 万片/月，单价约 1,505.60 美元。我们预计 2025 年渗透率将升至 87%，对应市场空间约 1,200 亿元。"
    "目前全球先进封装产能主要集中在台积电、日月光和",
    "长电科技三家厂商，合计份额超过 60%。\n图表1：全球先进封装市场规模（亿美元）\n■ 市场规模\n■ 同比增速\n"
    "资料来源：Yole，华泰证券研究所\n1. 国内市场\n国内厂商加速扩产，长电科技 XDFOI 平台已实现量产。\n"
    "1.1 长电科技\n长电科技 2023 年营收 296.6 亿元。\n1.5 Pro 版本产品同步发布\n1.2 通富微电\n"
    "● 受益于 AMD 订单\n● 产能利用率回升\n（二）竞争格局",
    "海外厂商仍占据主导地位。国内厂商在 Chiplet 领域快速追赶。\n二、投资建议\n建议关注长电科技、通富微电、华天科技。\n"
    "本报告仅供华泰证券股份有限公司客户使用。本公司不因接收人收到本报告而视其为客户。本报告所载资料的来源被认为是可靠的，"
    "但本公司不作任何保证。\n评级说明\n增持：相对同期相关证券市场代表指数涨幅介于 5%~20% 之间。",
]
FILING = [
    "Table of Contents\nPART I\nItem 1. Business 3\nItem 1A. Risk Factors 9\nPART II\n"
    "Item 7. Management's Discussion and Analysis of Financial Condition and Results of Operations 21\n"
    "Item 8. Financial Statements and Supplementary Data 40",
    "PART II\nItem 7. Management's Discussion and Analysis of Financial Condition and Results of Operations\n"
    "Net revenue in the U.S. increased 8% to $1,505.60 million, while international revenue rose 87% on a "
    "reported basis. The increase reflects higher volume in the U.S. and favorable pricing. Results for "
    "2024.02.08 were not affected.\n# Denotes a variance of 100 percent or more\n"
    "Net revenue 1,505.60 1,390.10 8\n"
    "Item 8. Financial Statements and Supplementary Data\nNote 1. Significant Accounting Policies\n"
    "The consolidated financial statements include the accounts of the Company and its subsidiaries.",
    "Note 2 — Revenue\nRevenue is recognized when control of goods transfers to the customer. See\nNote 12.\n"
    "Note 3 — Acquisitions\nIn 2024 the Company acquired Example Corp. for $250 million in cash.",
]
MDA = ("PART II > Item 7. Management's Discussion and Analysis of Financial Condition and Results of "
       "Operations")
NOTES = "PART II > Item 8. Financial Statements and Supplementary Data"


def test_chinese_report_outline_figures_and_pages() -> None:
    pieces = chunk_pages(BROKER, 200)
    assert_verbatim(BROKER, pieces)
    sections = [(piece.section, piece.kind.value, piece.page, piece.page_end) for piece in pieces]
    assert sections == [
        ("", "body", 1, 1),
        ("一、行业概览 > （一）市场规模", "body", 1, 1),
        ("一、行业概览 > （一）市场规模", "body", 1, 2),
        ("一、行业概览 > （一）市场规模", "figure", 2, 2),
        ("一、行业概览 > （一）市场规模 > 1. 国内市场", "body", 2, 2),
        ("一、行业概览 > （一）市场规模 > 1. 国内市场 > 1.1 长电科技", "body", 2, 2),  # "1.5 Pro ..." is not 1.5
        ("一、行业概览 > （一）市场规模 > 1. 国内市场 > 1.2 通富微电", "body", 2, 2),  # ● lines are a list
        ("一、行业概览 > （二）竞争格局", "body", 2, 3),
        ("二、投资建议", "body", 3, 3),
        ("二、投资建议", "boilerplate", 3, 3),  # a headless disclaimer starts its own chunk
        ("评级说明", "boilerplate", 3, 3),
    ]
    spanning = pieces[2]
    assert spanning.page_starts == ((0, 1), (spanning.text.index("长电科技三家"), 2))
    assert parts(spanning)[0][1].endswith("台积电、日月光和") and parts(spanning)[1][1] == "长电科技三家厂商，合计份额超过 60%。"
    # A heading at the foot of page 2 opens the chunk of its text on page 3, and that chunk starts on page 2.
    assert pieces[7].text == "（二）竞争格局\n海外厂商仍占据主导地位。国内厂商在 Chiplet 领域快速追赶。"
    assert pieces[7].page_starts == ((0, 2), (8, 3))
    assert pieces[3].text == "图表1：全球先进封装市场规模（亿美元）\n■ 市场规模\n■ 同比增速\n资料来源：Yole，华泰证券研究所"


def test_filing_outline() -> None:
    pieces = chunk_pages(FILING, 200)
    assert_verbatim(FILING, pieces)
    assert [piece.section for piece in pieces] == [
        "", "PART I", "PART II",  # the table of contents: its "Item ... 21" lines are not headings
        MDA, MDA,
        f"{NOTES} > Note 1. Significant Accounting Policies",
        f"{NOTES} > Note 2 — Revenue",  # "Note 12." continues a sentence: notes count upwards
        f"{NOTES} > Note 3 — Acquisitions",
    ]
    assert pieces[3].text.startswith("PART II\nItem 7.") and pieces[3].page == 2
    assert "# Denotes a variance" in pieces[4].text  # a footnote marker in PDF text, not a Markdown heading
    assert pieces[6].text.endswith("See\nNote 12.")


ENGLISH_NOTE = [
    "Example Securities Research\nSemiconductors: AI demand keeps lifting advanced packaging\n"
    "February 18, 2024\n1. Investment thesis\n"
    "We expect CoWoS capacity to reach 32k wafers per month by end-2024, up 87% year on year.\n"
    "Exhibit 1: CoWoS capacity (k wafers/month)\n2023 2024E 2025E\nCapacity 15 32 45\n"
    "Source: Company data, Example Securities Research\n"
    "2. Risks\nDemand for AI servers could slow if capex is cut.",
    "Analyst Certification\nThe following analysts hereby certify that the views expressed in this report "
    "accurately reflect their personal views.\nImportant Disclosures\n"
    "This report has been prepared for clients of Example Securities only.\n"
    "Rating definitions\nOverweight: the stock is expected to outperform the coverage universe.",
]


def test_english_broker_note() -> None:
    pieces = chunk_pages(ENGLISH_NOTE, 300)
    assert_verbatim(ENGLISH_NOTE, pieces)
    assert [(piece.section, piece.kind.value, piece.page) for piece in pieces] == [
        ("", "body", 1),
        ("1. Investment thesis", "body", 1),
        ("1. Investment thesis", "figure", 1),
        ("2. Risks", "body", 1),
        ("Analyst Certification", "boilerplate", 2),
        ("Important Disclosures", "boilerplate", 2),
        ("Rating definitions", "boilerplate", 2),
    ]
    assert pieces[2].text.endswith("Source: Company data, Example Securities Research")


def test_markdown_flag_overrides_the_guess() -> None:
    pages = ["# Overview\nRevenue grew 8% in the U.S. this year.\n# Outlook\nWe expect growth to continue."]
    assert [piece.section for piece in chunk_pages(pages)] == [""]
    assert [piece.section for piece in chunk_pages(pages, markdown=True)] == ["Overview", "Outlook"]


def test_number_safe_sentence_packing() -> None:
    sentences = [
        f"In the U.S. segment {n} revenue was $1,505.6{n} million on 2024.02.0{n}, up 8{n}% from 1,390.10. "
        f"第{n}项收入为 1,505.6{n} 亿元，毛利率 8{n}%，发布日期为 2024.02.0{n}。"
        for n in range(1, 10)
    ]
    pages = ["".join(sentences[:5]), "".join(sentences[5:])]
    pieces = chunk_pages(pages, 120)
    assert_verbatim(pages, pieces)
    assert len(pieces) > 10
    number = set("0123456789.,%")
    for page, at in boundaries(pages, pieces):
        if 0 < at < len(page):
            assert not (page[at - 1] in number and page[at] in number), page[at - 10 : at + 10]
        for match in re.finditer(r"U\.S\.", page):
            assert not match.start() < at < match.end()


def test_long_lines_are_cut_at_line_breaks_then_hard_but_never_inside_numbers() -> None:
    rows = [f"项目{n} {n},175,301,034.32 {n},230,537,181.80 -4.{n} 1,008,714,515.{n} " for n in range(1, 21)]
    pages = ["\n".join(rows[0:2]) + "\n" + "".join(rows[2:4]) + "\n" + "".join(rows[4:])]
    pieces = chunk_pages(pages, 100)
    assert_verbatim(pages, pieces)
    assert all(weight(piece.text) <= 100 for piece in pieces)
    for page, at in boundaries(pages, pieces):
        if 0 < at < len(page):
            assert not (page[at - 1] in "0123456789.,-" and page[at] in "0123456789.,")


def test_overlap_repeats_the_last_short_sentence() -> None:
    sentences = [f"Sentence {n} reports revenue of ${n},000.50 million for a segment. " for n in range(1, 31)]
    pages = ["".join(sentences)]
    pieces = chunk_pages(pages, 300)
    assert len(pieces) > 3
    for previous, following in zip(pieces, pieces[1:]):
        assert split_sentences(previous.text)[-1].strip() == split_sentences(following.text)[0].strip()
        assert weight(previous.text) <= 300
    assert_verbatim(pages, pieces)


def test_chinese_characters_count_double() -> None:
    text = "公司营收稳步增长，盈利能力持续改善。" * 60  # 1,080 Chinese characters
    pieces = chunk_pages([text])
    assert len(pieces) == 3
    assert all(len(piece.text) <= 400 for piece in pieces)
    assert all(weight(piece.text) <= 800 for piece in pieces)


def test_markdown_tables_whole_or_split_by_rows() -> None:
    header = "| 公司 | 2023 营收 | 2024E 营收 |\n| --- | --- | --- |\n"
    rows = [f"| 公司{n} | {n},505.60 | {n},800.00 |" for n in range(1, 61)]
    small = f"## 盈利预测\n\n{header}" + "\n".join(rows[:8]) + "\n\n表格之后的正文说明。"
    pieces = chunk_pages([small], 400)
    assert [piece.kind for piece in pieces] == [Kind.TABLE, Kind.BODY]
    assert pieces[0].text == small[: small.index("\n\n表格")]
    big = header + "\n".join(rows)
    pieces = chunk_pages([big], 300)
    assert len(pieces) > 2 and all(piece.kind is Kind.TABLE for piece in pieces)
    assert "\n".join(piece.text for piece in pieces) == big  # each row once, the header row not repeated
    assert_verbatim([big], pieces)


def test_tiny_fragments_join_their_section() -> None:
    pages = ["## 1. 概览\n\n见图。\n\n图表1：营收\n\n资料来源：公司公告\n\n好。\n\n## 2. 结论\n\n维持评级。"]
    pieces = chunk_pages(pages)
    # "见图。" leads into the figure after it, "好。" joins the figure before it.
    assert [(piece.section, piece.kind) for piece in pieces] == [("1. 概览", Kind.FIGURE), ("2. 结论", Kind.BODY)]
    assert pieces[0].text.startswith("## 1. 概览\n\n见图。\n\n图表1") and pieces[0].text.endswith("好。")
    assert all(piece.text.strip() for piece in pieces)
    assert_verbatim(pages, pieces)


def test_chunk_size_too_small_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="chunk_size 10 is too small: use at least 100"):
        chunk_pages(["正文。"], 10)


def test_empty_and_blank_pages() -> None:
    assert chunk_pages([]) == []
    assert chunk_pages(["", "  \n "]) == []
    pages = ["第一页的正文内容到此为止，后面是空白页。", "", "第三页的正文内容从这里开始，继续讨论。"]
    pieces = chunk_pages(pages)
    assert len(pieces) == 1
    assert pieces[0].page_starts == ((0, 1), (len(pages[0]) + 1, 2), (len(pages[0]) + 2, 3))
    assert_verbatim(pages, pieces)


def test_pages_of_a_real_pdf(tmp_path) -> None:
    import pypdfium2 as pdfium

    from tests.pdfmaker import make_pdf

    path = make_pdf(
        tmp_path / "report.pdf",
        [["一、行业概览", "先进封装市场规模达到 439 亿美元，同比增长 10.2%。"], ["二、投资建议", "建议关注长电科技。"]],
        footer_page_numbers=False,
    )
    document = pdfium.PdfDocument(str(path))
    pages = [document[i].get_textpage().get_text_range().replace("\r\n", "\n") for i in range(len(document))]
    document.close()
    pieces = chunk_pages(pages)
    assert [(piece.section, piece.page) for piece in pieces] == [("一、行业概览", 1), ("二、投资建议", 2)]
    assert pieces[0].text == "一、行业概览\n先进封装市场规模达到 439 亿美元，同比增长 10.2%。"
    assert_verbatim(pages, pieces)
