"""Line and chunk kinds: heading families, captions, tables, boilerplate by heading and by content."""

from __future__ import annotations

import pytest

from ingest.kinds import (
    Heading,
    boilerplate_hits,
    boilerplate_section,
    classify,
    clean_title,
    is_boilerplate_heading,
    is_caption,
    is_numeric_row,
    is_source,
    is_table_row,
    looks_like_markdown,
    parse_heading,
    weight,
)
from rag.types import Kind


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("## 1.2 Sora 采用了扩散模型结合 transformer", Heading("1.2 Sora 采用了扩散模型结合 transformer", "arabic", 2, (1, 2))),
        ("### 1.2.1 丰富的持续时间、分辨率与纵横比", Heading("1.2.1 丰富的持续时间、分辨率与纵横比", "arabic", 3, (1, 2, 1))),
        ("#### ► 行业事件：", Heading("行业事件", "bullet", 4)),
        ("➤ Gemini 1.5 Pro 在扩大上下文窗口后，保持了高性能", Heading("Gemini 1.5 Pro 在扩大上下文窗口后，保持了高性能", "bullet")),
        ("## 计算机", Heading("计算机", "md", 2)),
        ("## 分析师声明", Heading("分析师声明", "boilerplate", 2)),
        ("免责声明", Heading("免责声明", "boilerplate")),
        ("Important Disclosures", Heading("Important Disclosures", "boilerplate")),
        ("第一节 重要提示", Heading("第一节 重要提示", "chapter")),
        ("一、 公司信息", Heading("一、 公司信息", "cn")),
        ("（一）主要会计数据", Heading("（一）主要会计数据", "cn_paren")),
        ("(二) 主要财务指标", Heading("(二) 主要财务指标", "cn_paren")),
        ("1、冷冻向冷链产业延伸，加强与行业知名企业合作", Heading("1、冷冻向冷链产业延伸，加强与行业知名企业合作", "arabic", None, (1,))),
        ("（1）重大的股权投资", Heading("（1）重大的股权投资", "arabic_paren")),
        ("PART II", Heading("PART II", "part")),
        (
            "Item 7. Management's Discussion and Analysis of Financial Condition and Results of Operations",
            Heading("Item 7. Management's Discussion and Analysis of Financial Condition and Results of Operations",
                    "item"),
        ),
        ("Item 9. Changes in Accountants.", Heading("Item 9. Changes in Accountants", "item")),
        ("Note 3 — Acquisitions", Heading("Note 3 — Acquisitions", "note", None, (3,))),
        ("NOTE 2", Heading("NOTE 2", "note", None, (2,))),
    ],
)
def test_headings_by_family(line: str, expected: Heading) -> None:
    assert parse_heading(line) == expected


@pytest.mark.parametrize(
    "line",
    [
        "二、 公司全体董事出席董事会会议。",  # a sentence
        "ITEM 1A Risk Factors 10",  # table of contents entry
        "第一节 释义......................................4",
        "1 Apple 100 200",  # table row
        "2月16日, OpenAI 发布了文生视频大模型 Sora",
        "Note 12 for more detail of these debt issuances.",
        "1.1. Objective. It is the intent of 3M Company to provide a compensation program",
        "(3) Calculation of average debt",  # an English table footnote
        "图表1: Sora 可根据文本描述生成长达 60s 的视频",  # a caption, not a heading
        "1.本期提取 1,840,520.48 1,840,520.48",  # a statement row
        "请务必阅读正文之后的重要声明",
        "See Important Disclosures at the end of this report",
        "资料来源: OpenAI 官网, 国联证券研究所",
        "美国时间 2024 年 2 月 15 日，OpenAI 发布文生视频模型 Sora；谷歌推出最新 Gemini 1.5 Pro 模型。",
    ],
)
def test_not_headings(line: str) -> None:
    assert parse_heading(line) is None


def test_hash_lines_are_text_outside_markdown() -> None:
    assert parse_heading("# Denotes a variance of 100 percent or more", markdown=False) is None
    assert parse_heading("# Denotes a variance of 100 percent or more") == Heading(
        "Denotes a variance of 100 percent or more", "md", 1
    )
    assert looks_like_markdown("## 1. 概览\n\n正文。\n\n## 2. 结论\n\n正文。")
    assert not looks_like_markdown("# Denotes a variance of 100 percent or more\nNet revenues 1,234 1,100")
    assert not looks_like_markdown("plain text without headings")


def test_boilerplate_headings_and_paths() -> None:
    for title in ("分析师声明", "评级说明", "投资评级说明", "一般声明", "特别声明", "版权声明", "免责声明", "重要声明",
                  "法律声明", "联系我们", "Analyst Certification", "Disclaimer", "Important Disclosures",
                  "Rating definitions", "Rating system", "Disclosures Appendix", "Contact us", "五、免责声明"):
        assert is_boilerplate_heading(title), title
    for title in ("风险提示", "投资建议", "重要提示", "联系人和联系方式", "Risk Factors", "1.3 行业评级体系的演变与市场影响分析"):
        assert not is_boilerplate_heading(title), title
    assert boilerplate_section("评级说明")
    assert boilerplate_section("Appendix > Important Disclosures")
    assert not boilerplate_section("1. 视频生成模型 Sora 实现众多突破 > 1.2 Sora 采用了扩散模型结合 transformer")
    assert not boilerplate_section("")


CN_DISCLAIMER = (
    "本报告仅供华泰证券股份有限公司客户使用。本公司不会因接收人收到本报告而视其为客户。本报告基于本公司认为可靠的、"
    "已公开的信息编制，但本公司对该等信息的准确性及完整性不作任何保证。本报告所载的意见、评估及预测仅反映报告发布当日的观点和判断。"
)
EN_DISCLAIMER = (
    "This report has been prepared for information purposes only and does not constitute an offer or "
    "solicitation to buy or sell any security. Past performance is not indicative of future results."
)
CN_BODY = (
    "2023 年全球先进封装市场规模达到 439 亿美元，同比增长 10.2%。本报告期内公司营收同比增长 87%，主要受益于 AI 服务器需求。"
    "我们预计 2025 年 CoWoS 产能将升至 3.2 万片/月。"
)


def test_boilerplate_by_content() -> None:
    assert boilerplate_hits(CN_DISCLAIMER) == ["for clients only", "no warranty"]
    assert boilerplate_hits(EN_DISCLAIMER) == ["en not an offer", "en audience", "en past performance"]
    assert boilerplate_hits(CN_BODY) == []
    assert classify(CN_DISCLAIMER, "") is Kind.BOILERPLATE
    assert classify(EN_DISCLAIMER, "") is Kind.BOILERPLATE
    assert classify(CN_BODY, "") is Kind.BODY
    # One phrase quoted inside a long body passage does not make it boilerplate.
    quoted = CN_BODY * 3 + "公司公告称本报告仅供参考。" + CN_BODY * 3
    assert boilerplate_hits(quoted) == ["for clients only"]
    assert classify(quoted, "") is Kind.BODY
    # The rating table of the reference report, headless.
    assert classify("增持\t相对同期相关证券市场代表指数涨幅介于5%~20%之间", "") is Kind.BOILERPLATE


def test_classify_by_section_table_and_figure() -> None:
    assert classify(CN_BODY, "评级说明") is Kind.BOILERPLATE
    assert classify(CN_BODY, "4. 风险提示") is Kind.BODY
    table = "| 指标 | 2023 | 2024E |\n| --- | --- | --- |\n| 营收 | 1,505.60 | 1,800.00 |"
    assert classify(table, "2. 盈利预测") is Kind.TABLE
    assert classify("图表1: Sora 可根据文本描述生成长达 60s 的视频\n\n资料来源: OpenAI 官网, 国联证券研究所", "1.1") is Kind.FIGURE
    assert classify("## 1.1 模型\n\n图表2: 架构\n\n资料来源: 公司公告", "1.1") is Kind.FIGURE
    assert classify("资料来源：谷歌官网，国联证券研究所", "2.") is Kind.FIGURE
    statement = "Net sales $ 3,226.8 $ 2,729.4\nGross profit 1,213.5 1,026.8\nOperating income 447.6 375.6"
    assert classify(statement, "") is Kind.TABLE


def test_line_predicates() -> None:
    assert is_table_row("| a | b |")
    assert is_table_row("Text\tMath, Science & Reasoning\t+28.9%\t+5.2%")
    assert not is_table_row("one cell only\t")
    assert is_numeric_row("Text Math, Science & Reasoning +28.9% +5.2%")
    assert is_numeric_row("营业收入 1,175,301,034.32 1,230,537,181.80 -4.49")
    assert not is_numeric_row("2019 年 1 月 1 日起执行")
    assert is_caption("图表25: Gemini 1.5 Pro 在扩大上下文窗口后，保持了高性能")
    assert is_caption("图 3：公司营收（亿元）")
    assert is_caption("Exhibit 12: Revenue by segment")
    assert not is_caption("Exhibit 10.13 to PepsiCo, Inc.'s Quarterly Report on Form 10-Q")
    assert not is_caption("图表显示公司营收增长。")
    assert is_source("资料来源：Wind，国联证券研究所")
    assert is_source("Source: Company filings")
    assert not is_source("来源于公司公告的数据显示")


def test_weight_and_titles() -> None:
    assert weight("abc") == 3
    assert weight("视频生成") == 8
    assert weight("Sora 模型，") == 5 + 4 + 2
    assert clean_title("#### ► 行业事件：") == "行业事件"
    assert clean_title("**1.2 标题**") == "1.2 标题"
