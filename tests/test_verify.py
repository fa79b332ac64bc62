"""Citation, quote and number verification on hand-made passages with exact offsets and pages."""

from __future__ import annotations

from rag.terms import content_terms
from rag.types import Chunk, Flag, Hit, Kind
from rag.verify import coverage, parse_claims, parse_markers, units, verify

FIRST = "**Gemini 1.5 Pro 上下文容量远超 1.0。**通过一系列机器学习创新，Gemini 1.5 Pro 可以在生产环境中运行多达 100 万个 token。"
SECOND = "这意味着 1.5 Pro 可以一次性处理大量信息，如超过 30,000 行代码。谷歌还成功测试了多达 1000 万个 token。"


def hit(n: int, text: str, page: int = 5, page_starts: tuple = (), kind: Kind = Kind.BODY) -> Hit:
    chunk = Chunk(
        chunk_id=f"doc1:{n:05d}", doc_id="doc1", ordinal=n, text=text, source="glsc.pdf", page=page,
        page_end=page_starts[-1][1] if page_starts else page, section="2. 谷歌推出 Gemini 1.5 Pro", kind=kind,
        page_starts=page_starts, meta={"title": "Sora 实现文生视频跨越式突破"},
    )
    return Hit(chunk, 1.0 / n)


GEMINI = hit(1, FIRST + "\n" + SECOND, page=5, page_starts=((0, 5), (len(FIRST) + 1, 6)))
SORA = hit(2, "OpenAI 发布了文生视频大模型 Sora，可根据简短提示词，生成长达 60s 高清短视频。", page=1)
FILLERS = [hit(n, f"第 {n} 段与问题无关的文字，讨论网络安全。", page=n) for n in (3, 4, 5)]
GIVEN = [GEMINI, SORA, *FILLERS]


def test_marker_forms_are_parsed_in_order():
    assert parse_markers("甲[1][2]，乙[3, 4]，丙[1，5]，丁[6-8]。") == (1, 2, 3, 4, 5, 6, 7, 8)
    assert parse_markers("没有标记。") == ()


def test_marker_after_full_stop_belongs_to_the_sentence_before_it():
    claims = parse_claims("Sora 可生成 60s 视频。[2]Gemini 可处理 100 万个 token。[1][2] Revenue rose 5% [3].")
    assert [(c.text, c.markers) for c in claims] == [
        ("Sora 可生成 60s 视频。", (2,)),
        ("Gemini 可处理 100 万个 token。", (1, 2)),
        ("Revenue rose 5%", (3,)),  # the full stop after the marker is left over
    ]


def test_verbatim_claim_is_quoted_exactly_with_the_page_of_its_offset():
    result = verify("谷歌还成功测试了多达 1000 万个 token。[1]", GIVEN)
    assert result.flags == ()
    [citation] = result.citations
    quote = "谷歌还成功测试了多达 1000 万个 token。"
    start = GEMINI.chunk.text.index(quote)
    assert (citation.n, citation.chunk_id) == (1, "doc1:00001")
    assert (citation.start, citation.end) == (start, start + len(quote))
    assert citation.quote == quote
    assert citation.page == 6  # the second page of a chunk that spans pages 5-6
    assert (citation.source, citation.title, citation.section) == (
        "glsc.pdf", "Sora 实现文生视频跨越式突破", "2. 谷歌推出 Gemini 1.5 Pro"
    )


def test_paraphrase_is_quoted_by_its_best_supporting_sentence():
    result = verify("Gemini 1.5 Pro 的上下文可以运行多达 100 万个 token。[1]", GIVEN)
    assert result.flags == ()
    [citation] = result.citations
    assert citation.quote == "通过一系列机器学习创新，Gemini 1.5 Pro 可以在生产环境中运行多达 100 万个 token。"
    assert GEMINI.chunk.text[citation.start : citation.end] == citation.quote
    assert citation.page == 5


def test_marker_of_a_passage_never_given_is_flagged_and_dropped():
    result = verify("Sora 可以生成长达 60s 的视频[2][9]。", GIVEN)
    assert result.flags == (Flag("unknown_citation", "[9] is not one of the 5 passages given"),)
    assert [c.n for c in result.citations] == [2]
    assert result.text == "Sora 可以生成长达 60s 的视频[2]。"


def test_a_claim_citing_only_an_unknown_passage_has_no_citation_left():
    result = verify("Sora 可以生成长达 60s 的视频。[9]", GIVEN)
    # with nothing validly cited, its number cannot be found in any cited passage either
    assert [f.kind for f in result.flags] == ["unknown_citation", "no_citation", "number_not_found"]
    assert result.citations == ()
    assert result.text == "Sora 可以生成长达 60s 的视频。"


def test_number_missing_from_the_cited_passage_is_flagged_even_if_another_passage_has_it():
    result = verify("Gemini 1.5 Pro 可以运行多达 200 万个 token。[1]Sora 可以生成长达 30,000s 的高清短视频。[2]", GIVEN)
    assert result.flags == (
        Flag("number_not_found", "200 in: Gemini 1.5 Pro 可以运行多达 200 万个 token。"),
        Flag("number_not_found", "30,000 in: Sora 可以生成长达 30,000s 的高清短视频。"),  # 30,000 is in [1] only
    )


def test_numbers_compare_by_value_not_by_formatting():
    filing = hit(1, "Net sales were $1,505.60 million, up 3.50% from the prior year.", page=40)
    assert verify("Net sales were 1505.6 million, up 3.5% [1].", [filing]).flags == ()


def test_sentence_without_marker_and_unsupported_sentence_are_flagged():
    result = verify("Sora 可以生成高清短视频。寒武纪净利润大幅增长。[1]", GIVEN)
    assert result.flags == (
        Flag("no_citation", "Sora 可以生成高清短视频。"),
        Flag("unsupported_sentence", "寒武纪净利润大幅增长。"),
    )
    # an uncited number is checked against the passages the answer does cite
    assert verify("Sora 可以生成长达 60s 的视频。Gemini 可以运行多达 100 万个 token。[1]", GIVEN).flags == (
        Flag("no_citation", "Sora 可以生成长达 60s 的视频。"),
        Flag("number_not_found", "60 in: Sora 可以生成长达 60s 的视频。"),
    )


def test_quotable_units_are_trimmed_sentences_headings_apart_and_table_lines():
    text = "#### ► 投资建议\n\n**风险提示：**AI 技术发展不及预期；商业化进程不及预期。\n\n强于大市（维持）"
    assert [text[s:e] for s, e in units(text)] == [
        "投资建议", "风险提示：**AI 技术发展不及预期；商业化进程不及预期。", "强于大市（维持）",
    ]
    # the bullets broker reports print, Wingdings bullets as their text layer spells them, a template's field tag
    cover = ("2026年03月31日\n数据点评\n制造业 PMI 重返扩张区间\n[Table_Summary] 3月制造业 PMI 回升1.4个百分点。\n"
             "◼ 储能观点更新\n⚫ 继续建议重视储能产业链\nu 2026年3月，理想发布 MindVLA-o1\n"
             "q Clash Royale gross receipts jumped 308% YoY.\nunder the bullet a wrapped line stays")
    assert [cover[s:e] for s, e in units(cover)] == [
        "2026年03月31日\n数据点评\n制造业 PMI 重返扩张区间", "[Table_Summary] 3月制造业 PMI 回升1.4个百分点。",
        "◼ 储能观点更新", "⚫ 继续建议重视储能产业链", "u 2026年3月，理想发布 MindVLA-o1",
        "q Clash Royale gross receipts jumped 308% YoY.", "under the bullet a wrapped line stays",
    ]
    table = "图表25: 相对表现\nText\tMath\t+28.9%\t+5.2%\n\tCoding\t+8.9%\t+0.2%"
    assert [table[s:e] for s, e in units(table, Kind.TABLE)] == [
        "图表25: 相对表现", "Text\tMath\t+28.9%\t+5.2%", "Coding\t+8.9%\t+0.2%",
    ]


def test_coverage_credits_sub_words_partly_and_matches_english_by_stem():
    terms = content_terms("上下文窗口有多大？")
    assert terms == ("上下", "下文", "上下文", "窗口")
    assert coverage(terms, "上下文容量远超 1.0") == 0.5
    english = content_terms("What were capital expenditures?")
    assert coverage(english, "Capital expenditure was $1.6 billion.") == 1.0
    assert coverage(("目标价", "海光"), "海光信息", {"目标价": 3.0, "海光": 1.0}) == 0.25
