"""Metric functions on hand-built hits, answers and evidence, with hand-computed expected values."""

from __future__ import annotations

import pytest

from eval.datasets import Evidence, Question
from eval.metrics import (
    answer_f1,
    char_f1,
    citation_precision,
    contains_gold,
    evidence_recall,
    normalize_numbers,
    numbers_supported,
    numeric_match,
    page_hit_at,
    percentile,
    reciprocal_rank,
    refusal_stats,
    same_document,
    score,
    summarize,
    text_hit_at,
    token_f1,
)
from rag.types import Answer, Chunk, Citation, Hit


def chunk(
    text: str = "正文",
    source: str = "3M_2018_10K.pdf",
    page: int = 1,
    page_end: int | None = None,
    doc_id: str = "d3m",
    ordinal: int = 0,
) -> Chunk:
    return Chunk(
        chunk_id=f"{doc_id}:{source}:{page}:{ordinal}",
        doc_id=doc_id,
        ordinal=ordinal,
        text=text,
        source=source,
        page=page,
        page_end=page if page_end is None else page_end,
    )


def hits(*chunks: Chunk) -> tuple[Hit, ...]:
    return tuple(Hit(chunk=c, score=1.0 / (i + 1)) for i, c in enumerate(chunks))


def cite(n: int, c: Chunk, quote: str) -> Citation:
    return Citation(
        n=n,
        chunk_id=c.chunk_id,
        doc_id=c.doc_id,
        source=c.source,
        title=c.source,
        page=c.page,
        section="",
        quote=quote,
        start=0,
        end=len(quote),
    )


EV_3M = (Evidence(file="3M_2018_10K.pdf", doc="3M_2018_10K", pages=(60,)),)


# ----- numbers and contains-gold ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1,577", "1577"),
        ("1,577.0", "1577"),
        ("$1577.00", "$1577"),
        ("1，577.50 元", "1577.5 元"),
        ("1920x1080p", "1920×1080p"),
        ("$2048 \\times 2048$", "$2048×2048$"),
        ("S0590523050001", "S0590523050001"),
        ("FY2022", "FY2022"),
        ("增长 -5.0%", "增长 -5%"),
    ],
)
def test_normalize_numbers(text, expected):
    assert normalize_numbers(text) == expected


@pytest.mark.parametrize(
    "answer", ["1,577", "1577", "1,577.0", "$1577.00", "资本开支为 $1,577 million", "(1,577)"]
)
def test_number_spellings_state_the_same_gold(answer):
    assert contains_gold(answer, ["$1577.00"])
    assert contains_gold(answer, ["1,577"])


@pytest.mark.parametrize(
    "answer, gold, expected",
    [
        ("营业收入 117500万元", "11.75亿元", True),
        ("营业收入为1175000000元", "11.75亿元", True),
        ("营业收入 1,175,301,034.32 元", "11.75亿元", True),  # finer answer rounds to the gold's last digit
        ("营业收入约 11.75 亿元", "1175301034.32元", True),  # coarser answer keeps 4 significant digits
        ("营业收入约 12 亿元", "1175301034.32元", False),  # 2 significant digits are too coarse
        ("营业收入 11.75万元", "11.75亿元", False),  # same digits, other magnitude
        ("营业收入 11.76亿元", "11.75亿元", False),
        ("上下文 100 万个 token", "1,000,000", True),
        ("up to 1,000,000 tokens", "100 万个 token", True),
        ("up to 100 tokens", "100 万个 token", False),  # a scaled gold must be stated at its magnitude
        ("about 700,000 words", "1 million tokens", False),  # a one-digit gold must be stated exactly
        ("3.2万", "32,000", True),
    ],
)
def test_money_units_are_scaled(answer, gold, expected):
    assert contains_gold(answer, [gold]) is expected


@pytest.mark.parametrize(
    "answer, gold, expected",
    [
        ("毛利率是23.153%", "23.15%", True),
        ("毛利率是23.15", "23.15%", False),  # % must be stated
        ("毛利率约23%", "23.15%", False),
        ("It was 36 percent.", "36%", True),
        ("Speech recognition -5.0%", "-5.0%", True),
        ("语音识别下降 5.0%", "-5.0%", True),  # a bare number may state a signed gold ("fell 5.0%")
        ("Speech recognition +5.0%", "-5.0%", False),
        ("Coding +8.9% +0.2%", "+8.9%", True),
        ("1.5 Pro 在 87% 的基准测试上超越了 1.0 Pro", "87%", True),
    ],
)
def test_percent_and_sign(answer, gold, expected):
    assert contains_gold(answer, [gold]) is expected


def test_numbers_are_not_matched_inside_other_numbers_or_markers():
    assert not contains_gold("《计算机迎 10 年估值底》2024. 02. 08", ["402"])
    assert contains_gold("记录有 402 页", ["402"])
    assert not contains_gold("见报告[1]", ["1"])
    assert contains_gold("Sora 可以生成 60s 视频", ["60s"]) and contains_gold("长达60s", ["60 s"])
    assert contains_gold("分辨率最高 $2048 \\times 2048$", ["2048×2048"])
    assert contains_gold("宽屏 1920x1080p 视频", ["1920×1080"])


def test_text_golds_are_contained_after_normalisation():
    assert contains_gold("评级：强于大市(维持)[1]", ["强于大市（维持）"])
    assert contains_gold("The largest liability is customer   deposits.", ["Customer deposits"])
    assert contains_gold("执业证书编号：S0590523050001", ["S0590523050001"])
    assert not contains_gold("执业证书编号：S0590522090001", ["S0590523050001"])
    assert contains_gold("邮箱 zqb@ntsquare.com", ["zqb@ntsquare.com"])
    # A long gold sentence is not contained in a paraphrase: contains stays strict (F1 is reported apart).
    gold = "Performance is not measured through operating margin"
    assert not contains_gold("AmEx does not report an operating margin.", [gold])
    assert contains_gold("whatever", ["no", "whatever"]) and not contains_gold("anything", [])


# ----- numeric match ------------------------------------------------------------------------------

CAPEX_3M = "What is the FY2018 capital expenditure amount (in USD millions) for 3M? Give a response to the " \
    "question by relying on the details shown in the cash flow statement."
PPNE_3M = "What is the year end FY2018 net PPNE for 3M? Answer in USD billions."
REVENUE_2017 = "四方科技2017年的营业收入是多少元？"
PROFIT_2026 = "国金证券预计阳光电源2026年归母净利润能达到多少百万元？"


@pytest.mark.parametrize(
    "answer, gold, question, expected",
    [
        ("3M's capital expenditure in FY2018 was $1,577 million [1].", "$1577.00", CAPEX_3M, True),
        ("Capex was 1.577 billion dollars.", "$1577.00", CAPEX_3M, True),
        ("Purchases of property, plant and equipment (PP&E): (1,577) [1]", "$1577.00", CAPEX_3M, True),
        ("Capex: 1,577", "$1577.00", CAPEX_3M, True),  # a bare number is read in the question's unit
        ("Capex: $1,577,000,000", "$1577.00", CAPEX_3M, True),  # ... or as a plain amount
        ("Capex was about $1.58 billion", "$1577.00", CAPEX_3M, True),  # 0.19% off
        ("Capex was $1.6 billion", "$1577.00", CAPEX_3M, False),  # 1.5% off
        ("Capex was $1,577 thousand", "$1577.00", CAPEX_3M, False),  # the question asked for millions
        ("Capex was 1.577 billion dollars.", "$1577.00", "", True),  # no unit asked: millions is tried
        ("Net PP&E was $8,738 million at year end [1].", "$8.70", PPNE_3M, True),  # 8.738 bn is 0.44% off
        ("Net PP&E: 8.7 billion", "$8.70", PPNE_3M, True),
        ("Net PP&E: $8.70 million", "$8.70", PPNE_3M, False),
        ("Best Buy's cash from operations was $1,824 million", "Best Buy generated the most cash flow from "
         "operating activities in FY 2023 ($1.8 bn)", "", True),  # 1.8 bn printed to one decimal
    ],
)
def test_numeric_match_reads_units_and_the_questions_scale(answer, gold, question, expected):
    assert numeric_match(answer, gold, question) is expected


@pytest.mark.parametrize(
    "answer, gold, expected",
    [
        ("The FY2022 unadjusted EBITDA margin was 16.5 %.", "16.5%", True),
        ("EBITDA margin: 16.5 percent", "16.5%", True),
        ("EBITDA margin: 16.46%", "16.5%", True),
        ("EBITDA margin: 17%", "16.5%", False),
        ("EBITDA / revenue = 0.165", "16.5%", False),  # a percent gold needs a percent
        ("EBITDA margin 16.5", "16.5%", False),
        ("The fixed asset turnover ratio was 24.257.", "24.26", True),  # rounds to the gold's last digit
        ("The fixed asset turnover ratio was 24.3.", "24.26", True),  # within 0.5%
        ("The fixed asset turnover ratio was 24.", "24.26", False),
        ("Capex averaged 1.87% of revenue over FY2017-FY2019.", "1.9%", True),
        ("Capex averaged 1.84% of revenue.", "1.9%", False),
        ("Revenue grew 101.5% year over year.", "101.5%", True),
        ("Operating margin fell 1.7 percentage points", "1.7%", True),
        ("Operating margin fell 170 bps", "1.7%", True),
        ("The quick ratio is 54%.", "0.54", False),
    ],
)
def test_numeric_match_percent_and_rounding(answer, gold, expected):
    assert numeric_match(answer, gold) is expected


@pytest.mark.parametrize(
    "answer, gold, question, expected",
    [
        ("营业收入为89,184百万元", "891.8亿元", "", True),
        ("营业收入为 89,184,000,000 元", "891.8亿元", "", True),
        ("营业收入为891.8万元", "891.8亿元", "", False),
        ("归母净利润 134.6 亿元[1]", "134.6亿元", "", True),
        ("归母净利润为13,460,000,000元", "134.6亿元", "", True),
        ("归母净利润为1,346,000万元", "134.6亿元", "", True),
        ("归母净利润为1.346万亿元", "134.6亿元", "", False),
        ("2019年基本每股收益为0.62元/股[1]", "0.62元", "", True),
        ("2019年基本每股收益为0.6元", "0.62元", "", False),
        ("2017年营业收入约10.09亿元", "1,008,714,515.86", REVENUE_2017, True),
        ("2017年营业收入约10亿元", "1,008,714,515.86", REVENUE_2017, False),  # 0.9% off
        ("2017年营业收入约10.09亿元", "1,008,714,515.86", "", True),  # unscaled gold read as a plain amount
        ("预计2026年归母净利润168.41亿元", "16,841", PROFIT_2026, True),
        ("预计2026年归母净利润16,841", "16,841", PROFIT_2026, True),
        ("预计2026年归母净利润16,841万元", "16,841", PROFIT_2026, False),
        ("capex of RMB 95 billion in 2026", "RMB95bn", "", True),
        ("target price HK$727", "HKD727", "", True),
        ("DAU reached 90 million", "90m", "", True),
        ("Mini Programs ecosystem (cRmb8trn GMV)", "Rmb8trn", "", True),
        ("GMV of RMB 8 billion", "Rmb8trn", "", False),
    ],
)
def test_numeric_match_chinese_scales_and_broker_spellings(answer, gold, question, expected):
    assert numeric_match(answer, gold, question) is expected


@pytest.mark.parametrize(
    "answer, gold, expected",
    [
        ("Net cash used in investing activities: (1,577)", "(1,577)", True),
        ("Net cash used in investing activities: -1,577", "(1,577)", True),
        ("Investing activities used 1,577", "(1,577)", True),  # a bare number may state a negative gold
        ("Investing activities: +1,577", "(1,577)", False),
        ("Corporate had the lowest net revenue, a loss of $473 million.", "Corporate. Its net revenue was "
         "-$473 million.", True),
        ("2019年：—；2018年：1,577", "1,577", True),  # "—" is no number
        ("营业收入同比下降4.49%", "-4.5%", True),
    ],
)
def test_numeric_match_signs_and_dashes(answer, gold, expected):
    assert numeric_match(answer, gold) is expected


def test_numeric_match_takes_the_first_sentence_of_a_sentence_gold():
    verizon = "No. The quick ratio was approximately 0.54 for Verizon. It indicated that Verizon does not " \
        "have a healthy liquidity profile."
    assert numeric_match("Verizon's quick ratio in FY2022 was 0.54 [1].", verizon) is True
    assert numeric_match("Verizon's quick ratio in FY2022 was 0.45 [1].", verizon) is False
    # the explanation after the figure ("$2.77 of assets to generate $1") is not asked for
    intensity = "Yes. Verizon's capital intensity ratio was approximately 2.774729. This means that it took " \
        "approximately $2.77 of assets to generate $1 of revenue and thus, Verizon can be considered capital " \
        "intensive."
    assert numeric_match("Total assets / revenue = 2.77", intensity) is True
    # every figure of the first sentence holding one is asked for
    amex = "The effective tax rate for American Express has changed/dropped from 24.6% in FY 2021 to 21.6% " \
        "in FY 2022."
    assert numeric_match("It fell from 24.6% (FY2021) to 21.6% (FY2022).", amex) is True
    assert numeric_match("The FY2022 effective tax rate was 21.6%.", amex) is False
    ulta = "36%. The answer here assumes FY2023 refers to the 12 months ended on January 28, 2023 (although " \
        "the company refers to this period as its fiscal 2022."
    assert numeric_match("About 36% of the FY2023 repurchases fell in Q4.", ulta) is True
    zh = "由营业成本903236584.52元和营业收入1175301034.32元计算出2019年四方科技集团股份有限公司的毛利率是23.15%。"
    assert numeric_match("毛利率 =（11.75亿元 − 9.03亿元）/ 11.75亿元 = 23.15%", zh) is True  # inputs 0.03% off
    assert numeric_match("毛利率是23.15%", zh) is False  # this gold also asks for both inputs


@pytest.mark.parametrize(
    "gold",
    [
        "There are none",
        "Lower marketing expenses and leverage of incentive compensation due to higher sales. The answer here "
        "assumes FY2023 refers to the 12 months ended on January 28, 2023 (although the company refers to this "
        "period as its fiscal 2022.",
        "Best Buy closed two acquisitions during FY 2022: (1) Current Health Ltd and (2) Two Peaks, LLC",
        "2019年四方科技的电子信箱是zqb@ntsquare.com",
        "2024 年 2 月 15 日",
        "2024. 02. 08",
        "S0590523050001",
        "Q2 FY2024 vs 4Q23, see p. 45",
        "—",
    ],
)
def test_numeric_match_is_none_without_a_gold_figure(gold):
    assert numeric_match("anything 1 2 3 2019 45", gold) is None


def test_markers_years_dates_and_names_in_the_answer_are_not_figures():
    assert numeric_match("See [1] and [2].", "1") is False
    assert numeric_match("In FY2018, 2018 and 2019年, on 12月31日 [3]", "2,018") is False
    assert numeric_match("Best Buy had 2,018 stores.", "2,018") is True
    assert numeric_match("Quarter ended July 29, 2023, see p. 45 and 第12页", "29") is False
    assert numeric_match("Quarter ended July 29, 2023, see p. 45 and 第12页", "45") is False
    assert numeric_match("3M's capex rose", "3") is False
    assert numeric_match("Revenue in 1Q26E and 4Q25", "26") is False
    assert numeric_match("29 stores opened", "29") is True


# ----- F1 -----------------------------------------------------------------------------------------


def test_char_f1_counts_canonical_characters():
    # prediction 强于大市 (4), gold 强于大市维持 (6), 4 in common: P = 1, R = 2/3, F1 = 0.8
    assert char_f1("强于大市", "强于大市（维持）") == pytest.approx(0.8)
    assert char_f1("", "") == 1.0 and char_f1("甲", "") == 0.0 and char_f1("甲", "乙") == 0.0


def test_token_f1_lower_cases_words_and_canonicalises_numbers():
    # prediction: capex was 1577 million (article dropped) -> 4 words; gold: 1577 -> P 1/4, R 1, F1 0.4
    assert token_f1("The capex was $1,577 million", "$1577.00") == pytest.approx(0.4)
    assert token_f1("Net income rose", "net income") == pytest.approx(0.8)


def test_answer_f1_takes_the_best_gold_and_detects_language():
    assert answer_f1("60s", ["一分钟", "60s"], lang="zh") == 1.0
    assert answer_f1("Net income rose", ["net income", "profit"]) == pytest.approx(0.8)  # detected English
    assert answer_f1("强于大市", ["强于大市（维持）"]) == pytest.approx(0.8)  # detected Chinese: char F1
    assert answer_f1("anything", []) == 0.0


# ----- retrieval ----------------------------------------------------------------------------------


def test_same_document_by_file_name_stem_or_doc_id():
    assert same_document("3M_2018_10K.pdf", "x", Evidence(file="pdfs/3M_2018_10K.pdf", doc=None, pages=()))
    assert same_document("3m_2018_10k.PDF", "x", Evidence(file="3M_2018_10K", doc=None, pages=()))
    assert same_document("renamed.pdf", "sha1", Evidence(file=None, doc="sha1", pages=()))
    assert same_document("3M_2018_10K.pdf", "x", Evidence(file=None, doc="3M_2018_10K", pages=()))
    assert not same_document("PEPSICO_2022_10K.pdf", "x", EV_3M[0])


def test_page_hit_and_reciprocal_rank():
    ranked = hits(
        chunk(page=59),  # right file, wrong page
        chunk(source="PEPSICO_2022_10K.pdf", page=60),  # right page, wrong file
        chunk(page=59, page_end=60),  # spans onto the evidence page
        chunk(page=60),
    )
    assert [page_hit_at(ranked, EV_3M, k) for k in (1, 2, 3, 4)] == [False, False, True, True]
    assert reciprocal_rank(ranked, EV_3M) == pytest.approx(1 / 3)
    assert reciprocal_rank(ranked[:2], EV_3M) == 0.0
    anywhere = (Evidence(file="3M_2018_10K.pdf", doc=None, pages=()),)
    assert page_hit_at(ranked, anywhere, 1)


def test_evidence_recall_is_n_gram_coverage_of_the_evidence_text():
    evidence = (Evidence(file="a.pdf", doc=None, pages=(1,), text="甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳"),)
    ranked = hits(
        chunk(
            "前文。甲乙丙 丁戊己，庚辛壬癸。", source="a.pdf"
        ),  # first 10 characters (spaces/punctuation aside)
        chunk("无关的内容", source="a.pdf", ordinal=1),
        chunk("壬癸子丑寅卯辰巳", source="a.pdf", ordinal=2),  # last 8
    )
    assert evidence_recall(ranked, evidence, k=1) == pytest.approx(10 / 16)
    assert evidence_recall(ranked, evidence, k=2) == pytest.approx(10 / 16)
    assert evidence_recall(ranked, evidence, k=3) == 1.0
    assert evidence_recall(hits(chunk("甲乙丙")), evidence, k=5) == 0.0  # a 3-character run is chance
    short = (Evidence(file="a.pdf", doc=None, pages=(1,), text="强于大市（维持）"),)
    assert evidence_recall(hits(chunk("投资建议： 强于大市(维持)")), short) == 1.0
    assert evidence_recall(ranked, EV_3M) is None


def test_text_hit_needs_one_chunk_holding_half_the_evidence():
    evidence = (Evidence(file="a.md", doc=None, pages=(1,), text="甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳"),)
    assert (
        text_hit_at(hits(chunk("甲乙丙丁戊己庚辛"), chunk("壬癸子丑寅卯辰巳")), evidence, 1) is True
    )  # 8 of 16
    assert text_hit_at(hits(chunk("甲乙丙丁戊己庚"), chunk("无关")), evidence, 2) is False  # 7 of 16
    long_chunk = chunk("其他内容" * 20 + "甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳")
    assert text_hit_at(hits(long_chunk), evidence, 1) is True
    assert text_hit_at(hits(long_chunk), EV_3M, 1) is None


# ----- citations ----------------------------------------------------------------------------------


def test_citation_precision_by_quote_or_evidence_page():
    evidence = (Evidence(file="x.pdf", doc=None, pages=(3,), text="公司2019年营业收入为1,175,301,034.32元"),)
    on_p3, on_p9 = chunk(source="x.pdf", page=3), chunk(source="x.pdf", page=9)
    other = chunk(source="y.pdf", page=3)
    answer = Answer(
        question="q",
        text="t",
        answerable=True,
        citations=(
            cite(1, on_p9, "营业收入为1175301034.32元"),  # quote overlaps the evidence text
            cite(2, on_p3, "无关的一句话"),  # on the evidence page
            cite(3, on_p9, "无关的一句话"),
            cite(4, other, "无关的一句话"),  # page 3 of another file
        ),
    )
    assert citation_precision(answer, evidence) == 0.5
    assert citation_precision(Answer(question="q", text="t", answerable=True), evidence) is None


def test_citation_precision_ignores_pages_of_unpaged_files():
    evidence = (
        Evidence(
            file="report.md", doc=None, pages=(1,), text="Sora 能够根据用户提供的文本描述生成长达 60s 的视频"
        ),
    )
    c = chunk(source="report.md", page=1)
    answer = Answer(
        question="q",
        text="t",
        answerable=True,
        citations=(cite(1, c, "生成长达 60s 的视频"), cite(2, c, "投资建议： 强于大市（维持）")),
    )
    assert citation_precision(answer, evidence) == 0.5


def test_numbers_supported_checks_every_number_against_cited_chunks():
    source = chunk("2019年营业收入为1,175,301,034.32元，同比增长12%。", source="x.pdf", page=11)
    extra = chunk("毛利率为23.15%", source="x.pdf", page=12, ordinal=1)

    def answer(text: str, *cited: Chunk) -> Answer:
        return Answer(
            question="q",
            text=text,
            answerable=True,
            hits=hits(source, extra),
            citations=tuple(cite(i + 1, c, c.text[:4]) for i, c in enumerate(cited)),
        )

    assert numbers_supported(answer("营业收入约11.75亿元，增长12%[1]。", source))  # [1] is not a number
    assert not numbers_supported(answer("营业收入约11.75亿元，增长13%[1]。", source))
    assert not numbers_supported(answer("毛利率为23.15%[1]。", source))  # the number is in an uncited hit
    assert numbers_supported(answer("毛利率为23.15%[1][2]。", source, extra))
    assert numbers_supported(answer("没有数字的回答[1]。", source))
    # An explicit chunk-id -> text mapping overrides the hits; a chunk missing from it contributes its quote.
    assert not numbers_supported(answer("增长12%[1]。", source), chunk_texts={source.chunk_id: "增长很多"})
    assert numbers_supported(answer("2019年[1]", source), chunk_texts={})  # quote "2019" is all there is


# ----- rows, refusals, summary --------------------------------------------------------------------


def _question(qid: str, answerable: bool, answers: tuple[str, ...] = (), evidence=()) -> Question:
    return Question(
        id=qid, question=qid, answers=answers, answerable=answerable, evidence=evidence, lang="zh"
    )


def test_score_refusals_and_summary_by_hand():
    evidence = (Evidence(file="x.pdf", doc=None, pages=(2,), text="毛利率为23.15%"),)
    right = chunk("毛利率为23.15%", source="x.pdf", page=2)
    wrong = chunk("无关内容在这里", source="x.pdf", page=5, ordinal=1)
    q1 = _question("q1", True, ("23.15%",), evidence)
    q2 = _question("q2", True, ("23.15%",), evidence)
    q3, q4 = _question("q3", False), _question("q4", False)
    a1 = Answer(
        question="q1",
        text="23.15%[1]",
        answerable=True,
        hits=hits(wrong, right),
        citations=(cite(1, right, "毛利率为23.15%"),),
        timings_ms={"total": 100.0},
    )
    a2 = Answer(
        question="q2", text="资料中没有答案", answerable=False, hits=hits(wrong), timings_ms={"total": 200.0}
    )
    a3 = Answer(question="q3", text="资料中没有答案", answerable=False, timings_ms={"total": 300.0})
    a4 = Answer(question="q4", text="瞎猜 99%", answerable=True, timings_ms={"total": 400.0})
    rows = [score(q1, a1), score(q2, a2), score(q3, a3), score(q4, a4)]

    s1 = rows[0].scores
    assert s1.hit_at == (False, True, True, True) and s1.reciprocal_rank == 0.5
    assert s1.text_hit_at == (False, True, True, True) and s1.evidence_recall == 1.0
    assert s1.contains_gold is True and s1.f1 == 1.0 and s1.citation_precision == 1.0
    assert s1.numbers_supported is True and s1.refused is False and s1.latency_ms == 100.0
    assert s1.numeric is True
    s2 = rows[1].scores
    assert s2.contains_gold is False and s2.f1 == 0.0 and s2.refused and s2.numbers_supported is None
    assert s2.numeric is False  # a refused figure question
    assert s2.citation_precision is None and s2.evidence_recall == 0.0
    s3, s4 = rows[2].scores, rows[3].scores
    assert s3.hit_at is None and s3.contains_gold is None and s4.numbers_supported is False
    assert s3.numeric is None and s4.numeric is None

    refusals = refusal_stats(rows)
    assert (
        refusals.unanswerable,
        refusals.correct_refusals,
        refusals.answerable,
        refusals.wrong_refusals,
    ) == (2, 1, 2, 1)
    summary = summarize(rows)
    assert summary["questions"] == 4 and summary["answerable"] == 2
    assert (summary["hit@1"], summary["hit@3"], summary["mrr"]) == (0.0, 0.5, 0.25)
    assert summary["evidence_recall@5"] == 0.5 and summary["contains_gold"] == 0.5 and summary["f1"] == 0.5
    assert summary["citation_precision"] == 1.0 and summary["numbers_supported"] == 0.5
    assert summary["numeric_match"] == 0.5 and summary["figure_questions"] == 2
    assert summary["correct_refusals"] == 0.5 and summary["wrong_refusals"] == 0.5
    assert summary["latency_p50_ms"] == 250.0 and summary["latency_p95_ms"] == pytest.approx(385.0)
    assert score(q1, a1, hits=(), latency_ms=7.0).scores.hit_at == (False,) * 4
    assert score(q1, a1, latency_ms=7.0).scores.latency_ms == 7.0


def test_numeric_score_the_first_accepted_answer_decides_a_figure_question():
    def scored(answers: tuple[str, ...], text: str, question: str = "q") -> bool | None:
        q = Question(id="q", question=question, answers=answers, answerable=True, evidence=(), lang="zh")
        return score(q, Answer(question=question, text=text, answerable=True)).scores.numeric

    assert scored(("11.71%", "11.71"), "加权平均净资产收益率为11.71") is True  # any accepted answer
    assert scored(("23.15%", "由营业成本903236584.52元和营业收入1175301034.32元计算出毛利率是23.15%。"),
                  "毛利率是23.15%") is True  # FinGLM: the key fact first
    assert scored(("DALL·E3", "DALL·E 3"), "DALL·E3") is None  # the key fact holds no figure
    assert scored(("$1577.00",), "Capex was $1,577 million", CAPEX_3M) is True
    assert scored(("$1577.00",), "Capex was $1,577 thousand", CAPEX_3M) is False
    assert summarize([])["numeric_match"] is None and summarize([])["figure_questions"] == 0


def test_percentile_and_empty_summary():
    assert percentile([], 50) is None and percentile([5.0], 95) == 5.0
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert summarize([])["hit@5"] is None and summarize([])["questions"] == 0
