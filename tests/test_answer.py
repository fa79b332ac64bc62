"""Extractive answers, refusals and follow-ups over a real library (real model, real Chroma, real BM25).

The library holds hand-made chunks: passages of the reference report (Chinese) and of an English 10-K
(a fictitious "Acme Industrial"), written straight into the store so pages and ids are exact.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from rag import prompts
from rag.answer import answer, answer_stream, extractive, make_evidence
from rag.conversation import Conversation, entities, is_elliptical
from rag.library import Library
from rag.settings import Settings
from rag.types import Answer, Chunk, Document, Hit, Kind

REPORT_META = {"title": "Sora 实现文生视频跨越式突破，AIGC 持续正反馈", "publisher": "国联证券", "date": "2024-02-18"}
ACME_META = {"title": "Acme Industrial 2018 Annual Report (Form 10-K)", "company": "Acme Industrial Corp",
             "date": "2019-02-07", "period": "FY2018"}
GEMINI_1 = ("**Gemini 1.5 Pro 上下文容量远超 1.0。**通过一系列机器学习创新，Gemini 1.5 Pro 可以在生产环境中运行多达 "
            "100 万个 token，远远超出了 Gemini 1.0 最初的 32,000 个 token 的上下文窗口容量。")
GEMINI_2 = ("这意味着 1.5 Pro 可以一次性处理大量信息，如 1 小时的视频、11 小时的音频、超过 30,000 行代码或超过 700,000 "
            "个单词的代码库。谷歌还成功测试了多达 1000 万个 token。")
# (section, page, text, kind, page_starts) — texts verbatim from the reference report
REPORT = [
    ("► 视频生成模型 Sora 实现众多突破", 1,
     "OpenAI 发布了文生视频大模型 Sora，可根据简短提示词，生成长达 60s 高清短视频，将此前行业视频生成长度大幅提升。"
     "该模型拥有文本到视频，长时生成能力；复杂场景和角色生成能力；语言理解能力；多镜头生成能力；物理世界模拟能力等。", Kind.BODY, ()),
    ("► 投资建议", 1, "**风险提示：**AI 技术发展演进不及预期；商业化进程不及预期；法律政策监管风险；行业竞争加剧等。", Kind.BODY, ()),
    ("➤ 模型存在一定限制, 仍可逐步提升", 2,
     "Sora 的诞生代表着 AI 行业在视频生成领域产生较大突破, 但其仍存在一定弱点需逐步改善。Sora 可能难以准确模拟在某些复杂场景中"
     "物体的物理特性, 并且可能无法理解某些特定的场景物体的因果关系。例如, 一个人咬一口饼干, 但饼干可能没有咬痕。", Kind.BODY, ()),
    ("1.2.4 图片生成能力", 4,
     "Sora 还可以生成图像。这得益于一种独特的算法, 该算法可在精确时间范围内, 巧妙地在空间网格中排列高斯噪声补丁。"
     "它可以根据用户需求, 生成不同大小的图像, 最高可达惊人的 2048 × 2048 分辨率。", Kind.BODY, ()),
    ("2. 谷歌推出 Gemini 1.5 Pro，长上下文能力提升", 5, GEMINI_1 + "\n" + GEMINI_2, Kind.BODY,
     ((0, 5), (len(GEMINI_1) + 1, 6))),
    ("➤ 更好地多模态理解和推理", 6,
     "1.5 Pro 可以针对包括视频在内的不同模态执行高度复杂的理解和推理任务。例如，当给定一部 44 分钟的巴斯特·基顿无声电影时，"
     "该模型可以准确分析各种情节节点和事件，甚至推理出电影中容易被忽略的小细节。", Kind.BODY, ()),
    ("➤ Gemini 1.5 Pro 在扩大上下文窗口后，保持了高性能", 7,
     "图表25: Gemini 1.5 Pro 在扩大上下文窗口后，保持了高性能\nCore Capability\t\tRelative to\t\n\t\t1.0 Pro\t1.0 Ultra\n"
     "Text\tMath, Science & Reasoning\t+28.9%\t+5.2%\n\tMultilinguality\t+22.3%\t+6.7%\n"
     "\tCoding\t+8.9%\t+0.2%", Kind.TABLE, ()),
    ("➤ Gemini 1.5 Pro 在扩大上下文窗口后，保持了高性能", 7,
     "即使上下文窗口增加，Gemini 1.5 Pro 仍能保持高水平的性能。在涵盖文本、代码、图像、音频和视频的综合性测试中，"
     "1.5 Pro 在 87% 的基准测试上超越了 1.0 Pro。与 1.0 Ultra 在相同基准测试的比较中，1.5 Pro 的表现也相差无几。", Kind.BODY, ()),
    ("一般声明", 8, "本报告是机密的，仅供我们的客户使用，国联证券不因收件人收到本报告而视其为国联证券的客户。", Kind.BOILERPLATE, ()),
]
ACME = [
    ("Liquidity and Capital Resources", 31,
     "Capital expenditures (purchases of property, plant and equipment) were $1,577 million in 2018, "
     "compared with $1,373 million in 2017. The Company expects capital expenditures of $1.6 billion to "
     "$1.8 billion in 2019.",
     Kind.BODY, ()),
    ("Results of Operations", 24,
     "Net sales totaled $32,765 million in 2018, an increase of 3.5 percent from 2017. Operating income "
     "margin was 22.3 percent in 2018, compared with 23.0 percent in 2017.", Kind.BODY, ()),
    ("Income Taxes", 27,
     "The effective tax rate for 2018 was 23.4 percent, compared to 35.5 percent in 2017. The decrease was "
     "primarily due to the lower U.S. corporate income tax rate.", Kind.BODY, ()),
]
REPORT_ID, ACME_ID = "glsc00000000000001", "acme00000000000001"
REPORT_FILE = "glsc_2024-02_computer_sora_gemini.pdf"


def make_chunks(doc_id: str, source: str, meta: dict, rows: list) -> list[Chunk]:
    return [
        Chunk(chunk_id=f"{doc_id}:{i:05d}", doc_id=doc_id, ordinal=i, text=text, source=source, page=page,
              page_end=starts[-1][1] if starts else page, section=section, kind=kind, page_starts=starts,
              meta=meta)
        for i, (section, page, text, kind, starts) in enumerate(rows)
    ]


def add_document(library, doc_id: str, source: str, meta: dict, rows: list) -> list[Chunk]:
    """Write one document the way ingestion does: chunks first, then the record that completes it."""
    chunks = make_chunks(doc_id, source, meta, rows)
    library.store.begin_document(doc_id)
    vectors = library.embedder.encode([f"{c.title} | {c.section}\n{c.text}" for c in chunks])
    library.store.add_chunks(chunks, vectors)
    library.store.put_document(Document(doc_id, source, f"/reports/{source}", max(c.page_end for c in chunks),
                                        len(chunks), "2024-02-20T00:00:00+00:00", "pdf", meta=meta))
    return chunks


@pytest.fixture(scope="module")
def reports(tmp_path_factory, embedder):
    """Built once per module: answering only reads the library."""
    settings = Settings.load(environ={}, library=tmp_path_factory.mktemp("reports") / "library")
    library = Library(settings, embedder)
    add_document(library, REPORT_ID, REPORT_FILE, REPORT_META, REPORT)
    add_document(library, ACME_ID, "ACME_2018_10K.pdf", ACME_META, ACME)
    return library


def cited(result: Answer) -> list[tuple[int, str, int, str]]:
    return [(c.n, c.chunk_id, c.page, c.quote) for c in result.citations]


def test_chinese_question_is_answered_with_verbatim_sentences_and_pages(reports):
    result = answer("Gemini 1.5 Pro 一次可以处理多少行代码？", reports)
    sentence = GEMINI_2.split("。")[0] + "。"
    assert result.text == sentence + "[1]"
    assert cited(result) == [(1, f"{REPORT_ID}:00004", 6, sentence)]  # page 6: the chunk's second page
    citation = result.citations[0]
    assert REPORT[4][2][citation.start : citation.end] == sentence
    assert (result.answerable, result.flags, result.mode, result.reason) == (True, (), "extractive", "")
    assert result.hits[0].chunk.chunk_id == f"{REPORT_ID}:00004" and len(result.hits) <= 10
    assert set(result.timings_ms) == {"retrieve", "compose", "verify", "total"}


def test_several_sentences_come_in_reading_order_with_their_numbers(reports):
    result = answer("Gemini 1.5 Pro 的上下文窗口有多大？", reports)
    assert result.text == (
        "Gemini 1.5 Pro 上下文容量远超 1.0。[1]通过一系列机器学习创新，Gemini 1.5 Pro 可以在生产环境中运行多达 100 万个 "
        "token，远远超出了 Gemini 1.0 最初的 32,000 个 token 的上下文窗口容量。[1]"
    )  # numbered by first appearance: the third passage is [1]
    assert [(c.n, c.chunk_id, c.page) for c in result.citations] == [(1, f"{REPORT_ID}:00004", 5)] * 2
    hit = result.citations[0].hit
    assert hit > 1 and result.hits[hit - 1].chunk.chunk_id == f"{REPORT_ID}:00004"  # the passage is hits[hit-1]
    assert result.flags == ()


def test_a_chinese_list_is_one_quoted_sentence(reports):
    result = answer("报告的风险提示有哪些？", reports)
    quote = "风险提示：**AI 技术发展演进不及预期；商业化进程不及预期；法律政策监管风险；行业竞争加剧等。"
    assert result.text == quote + "[1]"
    assert cited(result) == [(1, f"{REPORT_ID}:00001", 1, quote)]


def test_a_table_answer_quotes_its_line(reports):
    result = answer("1.5 Pro 的 Math, Science & Reasoning 相对 1.0 Pro 是多少？", reports)
    line = "Text\tMath, Science & Reasoning\t+28.9%\t+5.2%"
    assert result.text == line + "[1]"
    assert cited(result) == [(1, f"{REPORT_ID}:00006", 7, line)]


def test_english_question_scoped_to_the_company_it_names(reports):
    result = answer("What were Acme's capital expenditures in 2018?", reports)
    sentence = ("Capital expenditures (purchases of property, plant and equipment) were $1,577 million in "
                "2018, compared with $1,373 million in 2017.")
    assert result.text == sentence + "[1]"
    assert cited(result) == [(1, f"{ACME_ID}:00000", 31, sentence)]
    assert result.scope == {"doc_ids": [ACME_ID], "matched": "ACME",
                            "label": "Acme Industrial 2018 Annual Report (Form 10-K)"}
    assert {h.chunk.doc_id for h in result.hits} == {ACME_ID}


@pytest.mark.parametrize(("question", "lang", "reason"), [
    ("比亚迪的销量是多少？", "zh", "原因：资料库中没有与问题匹配的段落。"),
    ("Claude 3 的上下文窗口多大？", "zh", "原因：最相关的段落没有提到“Claude”。"),
    ("Gemini 1.5 Pro 的训练成本是多少？", "zh",
     "原因：最相关的段落与问题不够匹配（只覆盖问题关键词的 35%，未出现：训练, 成本）。"),
    ("What is Acme's dividend policy?", "en",
     "Reason: the best match is too weak (it covers 0% of the question's key terms; not found: dividend, policy)."),
])
def test_questions_the_library_cannot_answer_are_refused_with_the_reason(reports, question, lang, reason):
    result = answer(question, reports)
    expected = prompts.REFUSAL[lang] + prompts.SENTENCE_JOIN[lang] + reason
    assert (result.answerable, result.text, result.reason, result.citations) == (False, expected, reason, ())
    assert bool(result.hits) is not question.startswith("比亚迪")  # what matched is still shown


def test_refusal_names_the_scope_that_filtered_everything_out():
    evidence = make_evidence("四方科技的营业收入是多少？", [], empty_reason="filtered out by scope",
                             scope={"doc_ids": ["x"], "matched": "四方科技", "label": "四方科技 2019 年年度报告"})
    result = extractive(evidence)
    assert result.text == prompts.REFUSAL["zh"] + "原因：在所选范围“四方科技 2019 年年度报告”内没有匹配的段落。"
    assert result.answerable is False


def test_extractive_answers_verify_clean(reports):
    for question in ["Sora 可以生成多长的视频？", "Sora 生成图像的最高分辨率是多少？", "1.5 Pro 在多少比例的基准测试上超越了 1.0 Pro？",
                     "Gemini 1.5 Pro 分析的巴斯特·基顿无声电影有多长？", "What was the effective tax rate in 2018?",
                     "What was Acme's operating income margin in 2018?"]:
        result = answer(question, reports)
        assert result.answerable and result.citations, question
        assert result.flags == (), question
        for citation in result.citations:
            assert citation.quote in result.text


def test_hand_made_hits_compose_without_a_library():
    chunks = make_chunks(REPORT_ID, REPORT_FILE, REPORT_META, REPORT)
    hits = [Hit(chunks[5], 0.03), Hit(chunks[3], 0.02)]
    result = extractive(make_evidence("巴斯特·基顿无声电影有多长？", hits))
    sentence = "例如，当给定一部 44 分钟的巴斯特·基顿无声电影时，该模型可以准确分析各种情节节点和事件，甚至推理出电影中容易被忽略的小细节。"
    assert result.text == sentence + "[1]"
    assert cited(result) == [(1, f"{REPORT_ID}:00005", 6, sentence)]


def test_the_example_that_elaborates_the_chosen_sentence_is_quoted_after_it():
    chunks = make_chunks(REPORT_ID, REPORT_FILE, REPORT_META, REPORT)
    result = extractive(make_evidence("报告用什么例子说明 Sora 可能不理解因果关系？", [Hit(chunks[2], 0.03)]))
    cause = "Sora 可能难以准确模拟在某些复杂场景中物体的物理特性, 并且可能无法理解某些特定的场景物体的因果关系。"
    example = "例如, 一个人咬一口饼干, 但饼干可能没有咬痕。"
    assert result.text == f"{cause}[1]{example}[1]"  # the example shares none of the question's words
    assert [c.quote for c in result.citations] == [cause, example]


def test_the_asked_month_picks_its_line_of_a_target_history_however_printed():
    text = ("Deutsche Bank: Tencent Holdings price target and rating history\n4. 05/15/2025 Buy, Target Price Change HKD 675.00, Current Price HKD 520.00\n"
            "5. 08/14/2025 Buy, Target Price Change HKD 720.00, Current Price HKD 590.00\n"
            "6. 11/14/2025 Buy, Target Price Change HKD 800.00, Current Price HKD 641.00\n")
    chunk = make_chunks("db", "DB.pdf", {}, [("", 5, text, Kind.BOILERPLATE, ())])[0]
    question = "What target price did Deutsche Bank set for Tencent when it changed its target in August 2025?"
    result = extractive(make_evidence(question, [Hit(chunk, 0.03)]))
    assert result.answerable and "08/14/2025 Buy, Target Price Change HKD 720.00" in result.text
    assert "05/15/2025" not in result.text and "11/14/2025" not in result.text


def test_a_charts_axis_is_cut_out_of_the_sentence_it_ran_into():
    text = ("图：各主要半导体指数表现\n0\n3000\n4000\n5000\n6000\n7000\n"
            "传媒：国家新闻出版署发布3月游戏版号数据：本次版号数量为133个。")
    chunk = make_chunks("hy", "macro.pdf", {}, [("", 13, text, Kind.BODY, ())])[0]
    result = extractive(make_evidence("3月国家新闻出版署发布的游戏版号数量是多少个？", [Hit(chunk, 0.03)]))
    assert result.text == "传媒：国家新闻出版署发布3月游戏版号数据：本次版号数量为133个。[1]"  # no "3000 4000 …"


def test_a_name_a_top_passage_writes_in_chinese_is_known():
    from rag.evidence import unknown_names

    question = "How many pages long was the Apollo 11 transcript given to Gemini 1.5 Pro?"
    said, unsaid = make_chunks("gm", "gemini.md", {}, [
        ("", 1, "例如，当给出阿波罗11号登月任务的402页记录时，它可以推理整个文档中的对话、事件和细节。", Kind.BODY, ()),
        ("", 1, "1.5 Pro 可以在给定提示内无缝分析、分类和总结大量内容。", Kind.BODY, ())])
    evidence = replace(make_evidence(question, [Hit(said, 0.03)]), unseen=("apollo",))  # no chunk says "apollo"
    assert unknown_names(evidence) == []
    assert unknown_names(replace(evidence, hits=(Hit(unsaid, 0.03),))) == ["Apollo 11"]


def test_stream_yields_the_text_then_the_answer(reports):
    items = list(answer_stream("Sora 可以生成多长的视频？", reports))
    assert [type(i) for i in items] == [str, Answer]
    assert items[0] == items[1].text


def test_follow_ups_keep_the_subject_or_replace_it(reports):
    chat = Conversation()
    first = answer("Sora 可以生成多长的视频？", reports, conversation=chat)
    assert "60s" in first.text
    second = answer("那 Gemini 呢？", reports, conversation=chat)
    assert chat.turns[-1].terms == ("gemini", "生成", "视频")  # Sora replaced by Gemini, the topic kept
    assert second.answerable and second.citations[0].chunk_id == f"{REPORT_ID}:00004"
    third = answer("它的上下文窗口多大？", reports, conversation=chat)
    assert "100 万个 token" in third.text and third.citations[0].chunk_id == f"{REPORT_ID}:00004"


def test_follow_up_keeps_the_previous_scope_and_swaps_the_year(reports):
    chat = Conversation()
    answer("What was Acme's effective tax rate in 2018?", reports, conversation=chat)
    follow = chat.follow_up("and in 2017?")
    assert (follow.is_follow_up, follow.doc_ids) == (True, (ACME_ID,))
    assert follow.extra_terms == ("acme", "effective", "tax", "rate")  # 2018 dropped for 2017
    result = answer("and in 2017?", reports, conversation=chat)
    assert result.text == ("The effective tax rate for 2018 was 23.4 percent, compared to 35.5 percent in "
                           "2017.[1]")
    assert result.scope["doc_ids"] == [ACME_ID] and {h.chunk.doc_id for h in result.hits} == {ACME_ID}


def test_elliptical_questions_and_entities():
    assert all(map(is_elliptical, ["那 Gemini 呢？", "and in 2022?", "它的上下文窗口多大？", "What about its margin?"]))
    assert not is_elliptical("Gemini 1.5 Pro 的上下文窗口有多大？")
    assert not is_elliptical("What was the effective tax rate of Acme in 2018?")
    assert entities("What about Gemini and GPT-4?") == ("Gemini", "GPT-4")
    assert entities("Revenue of 3M in 2018?") == ("3M",)
    assert Conversation().follow_up("那 Gemini 呢？").is_follow_up is False  # nothing to follow


def test_answer_language_follows_the_question():
    from rag.answer import language

    assert [language(q) for q in ["那 Gemini 呢？", "Gemini 1.5 Pro 的上下文窗口有多大？", "What is 四方科技's revenue?",
                                  "and in 2022?"]] == ["zh", "zh", "en", "en"]
    with pytest.raises(ValueError, match="mode must be"):
        answer("Sora 是什么？", Library(Settings.load(environ={}, library="unused")), mode="generative")


def test_dense_similarity_decides_between_equally_covered_english_paraphrases(reports):
    # both cover 46% of their weighted key terms (below the 55% rule); only the first has a sentence the
    # model finds close in meaning (cosine 0.61 against 0.38), so only the first is answered
    close = answer("What were Acme's yearly outlays on capital expenditures in 2018?", reports)
    assert close.text == ("Capital expenditures (purchases of property, plant and equipment) were $1,577 million "
                          "in 2018, compared with $1,373 million in 2017.[1]")
    assert close.answerable and close.flags == ()
    far = answer("What were Acme's outlays for plant and equipment in fiscal 2018?", reports)
    assert (far.answerable, far.reason) == (False, ("Reason: the best match is too weak (it covers 46% of the "
                                                    "question's key terms; not found: outlays, fiscal)."))


def test_a_name_the_library_never_mentions_is_refused_although_its_other_words_match(reports):
    result = answer("What was Tesla's net sales in 2018?", reports)  # net sales, 2018: Acme's passage
    assert (result.answerable, result.reason) == (False, 'Reason: the library holds no report or passage about "Tesla".')
    named = answer("What were the net sales of Tesla in 2018?", reports)  # not the subject by its phrasing
    assert (named.answerable, named.reason) == (False, 'Reason: the best matching passages never mention "Tesla".')
    chinese = answer("特斯拉2018年的营业收入是多少？", reports)
    assert (chinese.answerable, chinese.reason) == (False, "原因：资料库里没有关于“特斯拉”的报告或段落。")
    half = answer("What were the net sales of Acme Mart in 2018?", reports)  # "Acme" occurs, "Mart" nowhere
    assert (half.answerable, half.reason) == (False, 'Reason: the best matching passages never mention "Acme Mart".')
    metric = answer("What was the Adjusted EBIT of Acme in 2018?", reports)  # a finance phrase, not a name
    assert "Adjusted EBIT" not in metric.reason


def test_the_gate_fit_counts_a_company_the_library_does_not_know_as_refused(reports, tmp_path):
    from eval.fit_gate import measure_set

    rows = [{"id": "q1", "question": "特斯拉2018年的营业收入是多少？", "answers": [], "answerable": False, "evidence": []},
            {"id": "q2", "question": "What were Acme's net sales in 2018?", "answers": ["$32,765 million"],
             "answerable": True, "evidence": []}]
    dataset = tmp_path / "questions.jsonl"
    dataset.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    tesla, acme = measure_set("t", dataset, reports, use_doc=False)
    assert tesla.strength is not None and tesla.strength.missing == "特斯拉"  # refused whatever the thresholds
    assert acme.strength is not None and not acme.strength.missing and acme.strength.covered == 1.0


def test_a_figure_restricted_to_a_place_the_passages_never_name_is_refused(reports):
    whole = answer("What were Acme's net sales in 2018?", reports)
    assert whole.answerable and "32,765" in whole.text
    canada = answer("What were Acme's net sales in Canada in 2018?", reports)  # the passage gives the whole company's
    assert (canada.answerable, canada.reason) == (False, 'Reason: the best matching passages never mention "Canada".')
    chinese = answer("Acme 2018年在加拿大的净销售额是多少？", reports)
    assert not chinese.answerable and chinese.reason.endswith("“加拿大”。")
    home = answer("What was Acme's effective tax rate for 2018 in the U.S.?", reports)  # a home market restricts nothing
    assert home.answerable and "23.4 percent" in home.text


def test_a_how_many_question_answered_by_no_number_is_refused(reports):
    result = answer("Sora 目前存在多少个弱点？", reports)  # the passage on its weaknesses counts none
    assert (result.answerable, result.reason) == (False, "原因：问题问的是数量，但最相关的段落没有给出数字。")
    assert result.hits[0].chunk.page == 2  # what matched is still shown
    counted = answer("Gemini 1.5 Pro 一次可以处理多少行代码？", reports)
    assert counted.answerable and "30,000" in counted.text
    worded = answer("Sora 目前存在哪些弱点？", reports)  # not how many: answered in words
    assert worded.answerable and "弱点" in worded.text


def test_a_number_of_another_measure_does_not_answer_how_much_of_this_one():
    text = ("各项微观资金并未明显流出：截至4月3日融资余额为2.58万亿，相较3月初的高点仅下滑760.77亿，"
            "而融资担保比例仍明显高于2025年上半年水平。")
    chunk = Chunk("d:00000", "d", 0, text, "weekly.pdf", 3, 3, "策略", Kind.BODY)
    question = "东吴策略周评说融资担保比例仍高于2025年上半年，那截至4月3日两融市场平均担保比例具体是多少？"
    result = extractive(make_evidence(question, [Hit(chunk, 0.03)]))  # 2.58万亿 is the balance, not the ratio
    assert not result.answerable and result.hits[0].chunk is chunk  # what matched is still shown
    assert result.reason == "原因：问题问的是“两融市场平均担保比例”的数值，但最相关的段落提到它时没有给出数字。"
    stated = replace(chunk, text=text.replace("仍明显高于2025年上半年水平", "为285.4%，仍明显高于2025年上半年水平"))
    answered = extractive(make_evidence(question, [Hit(stated, 0.03)]))
    assert answered.answerable and "285.4%" in answered.text
    balance = extractive(make_evidence("截至4月3日融资余额是多少？", [Hit(chunk, 0.03)]))  # the measure it states
    assert balance.answerable and "2.58万亿" in balance.text
    earlier = "相对 1.0 Pro，提升幅度最大的是哪一项能力，提升了多少？"  # "提升了多少" names no measure: the clause before does
    rise = Chunk("d:00001", "d", 1, "1.5 Pro 的 Coding 能力较 1.0 Pro 提升 +8.9%，为各项能力中最高。", "report.pdf", 5, 5, "", Kind.BODY)
    assert extractive(make_evidence(earlier, [Hit(rise, 0.03)])).answerable


def test_a_figure_the_report_says_it_does_not_disclose_is_refused_quoting_it():
    text = "订单节奏方面，中国动力2022年新签燃机制造合同20台套/17.8亿元，2023年新签9台套/9.3亿元，2024年新签11台套（金额未披露）。"
    chunk = Chunk("d:00000", "d", 0, text, "cspc.pdf", 9, 9, "燃机", Kind.BODY)
    withheld = extractive(make_evidence("中国动力2024年新签的11台套燃气轮机制造合同，总金额是多少亿元？", [Hit(chunk, 0.03)]))
    assert not withheld.answerable and withheld.hits[0].chunk is chunk
    assert withheld.reason == "原因：报告写明这个数字没有披露：“2024年新签11台套（金额未披露）”。"
    earlier = extractive(make_evidence("中国动力2023年新签燃机制造合同的金额是多少亿元？", [Hit(chunk, 0.03)]))
    assert earlier.answerable and "9.3亿元" in earlier.text  # the year that is disclosed


def test_a_figure_under_a_list_items_heading_answers_for_the_item():
    text = ("1.南通四方罐式储运设备制造有限公司\n公司全资子公司。\n主要产品或服务: 储运设备及部件的设计、开发、生产、销售、安装、"
            "维修、检测、保养；压力容器、食品加工机械的设计、开发、生产和销售。（依法须经批准的项目，经相关部门批准后方可开展经营活动）\n"
            "注册资本：人民币200,000,000.00元\n总资产：人民币1,519,674,921.33元\n净资产：人民币988,278,139.81元\n"
            "营业收入：人民币789,365,006.01元\n净利润：人民币61,234,567.89元。\n"
            "2、南通四方节能科技有限公司\n公司全资子公司，成立于2018年。\n营业收入：人民币12,345,678.00元")
    chunk = Chunk("d:00000", "d", 0, text, "annual.pdf", 16, 16, "主要控股参股公司分析", Kind.BODY, meta={"period": "2019"})
    question = "全资子公司南通四方罐式储运设备制造有限公司2019年的营业收入是多少元？"
    result = extractive(make_evidence(question, [Hit(chunk, 0.03)]))
    assert result.answerable and "789,365,006.01" in result.text and "12,345,678.00" not in result.text


def test_a_quarter_named_without_its_year_is_of_the_reports_own_year():
    text = "预计二季度 GDP 同比增长4.8%左右，较一季度有所放缓。"
    chunk = Chunk("d:00000", "d", 0, text, "macro.pdf", 9, 9, "三、二季度前瞻", Kind.BODY,
                  meta={"date": "2026-04-02", "publisher": "粤开证券"})
    asked = extractive(make_evidence("粤开证券预计2026年二季度GDP同比增速是多少？", [Hit(chunk, 0.03)]))
    assert asked.answerable and "4.8%" in asked.text
    older = replace(chunk, meta={"date": "2025-04-02"})  # last year's report speaks of last year's quarter
    assert not extractive(make_evidence("粤开证券预计2026年二季度GDP同比增速是多少？", [Hit(older, 0.03)])).answerable
    assert not extractive(make_evidence("粤开证券预计2026年三季度GDP同比增速是多少？", [Hit(chunk, 0.03)])).answerable


def test_the_first_of_a_kind_is_not_answered_by_a_top_n_group():
    text = "截至2019年12月31日，本公司存在一定的信用集中风险，本公司应收账款的25.12%源于余额前五名客户。"
    chunk = Chunk("d:00000", "d", 0, text, "annual.pdf", 88, 88, "信用风险", Kind.BODY)
    question = "2019年公司第一大客户的名称是什么？"
    group = extractive(make_evidence(question, [Hit(chunk, 0.03)]))
    assert not group.answerable and group.hits[0].chunk is chunk
    assert group.reason == "原因：问题问的是第一大客户，但最相关的段落只说到前五名客户，没有说哪一个是第一。"
    named = replace(chunk, text=text + "公司2019年第一大客户为中集集团，占应收账款的9.8%。")
    assert extractive(make_evidence(question, [Hit(named, 0.03)])).answerable
    share = extractive(make_evidence("2019年前五名客户占应收账款的比例是多少？", [Hit(chunk, 0.03)]))
    assert share.answerable and "25.12%" in share.text  # the group itself is asked


def test_a_table_row_set_in_a_passage_of_prose_is_quoted_by_itself():
    text = ("We value Tencent at HK$750 per share on a sum of the parts, unchanged from our last note.\n"
            "Segment Earnings Target multiple Value per share (HKD)\nGames 345.0 19.0x 273.4\nFintech 184.5 3.5x 80.0\n"
            "Cloud 64.7 6.0x 48.1")
    chunk = Chunk("d:00000", "d", 0, text, "daiwa.pdf", 2, 2, "", Kind.BODY)
    result = extractive(make_evidence("In the SOTP, what target multiple is applied to the Fintech segment?",
                                      [Hit(chunk, 0.03)]))
    assert result.answerable and result.text == "Fintech 184.5 3.5x 80.0[1]"


def test_a_list_number_opening_a_line_is_no_number_stated():
    text = "1、冷冻设备行业\n冷冻设备行业总体竞争较为激烈，市场化程度较高，而市场集中度较低。"
    chunk = Chunk("d:00000", "d", 0, text, "annual.pdf", 12, 12, "经营情况讨论与分析", Kind.BODY)
    result = extractive(make_evidence("冷冻设备行业的市场集中度有多少？", [Hit(chunk, 0.03)]))
    assert (result.answerable, result.reason) == (False, "原因：问题问的是数量，但最相关的段落没有给出数字。")
    stated = replace(chunk, text=text.replace("较低", "约为 12%"))
    assert extractive(make_evidence("冷冻设备行业的市场集中度有多少？", [Hit(stated, 0.03)])).answerable


def test_items_numbered_inside_a_sentence_are_no_number_stated():
    text = ("We see several directions for monetization: 1) Tencent Cloud should benefit from demand for computing "
            "power; 2) users are developing a willingness to pay for tokens, and some users pay separately for "
            "tokens consumed in the Claw product.")
    chunk = Chunk("d:00000", "d", 0, text, "CMS.pdf", 3, 3, "", Kind.BODY)
    question = "How many users pay separately for tokens used in Tencent's Claw product?"
    result = extractive(make_evidence(question, [Hit(chunk, 0.03)]))
    assert not result.answerable and "state no n" in result.reason
    stated = replace(chunk, text=text.replace("some users", "1.2 million users"))
    assert extractive(make_evidence(question, [Hit(stated, 0.03)])).answerable


def test_a_year_after_a_word_for_when_is_no_count_stated():
    text = "Tencent is on track to expand its GPU capacity during the course of 2026 and 2027, benefiting Tencent Cloud."
    chunk = Chunk("d:00000", "d", 0, text, "NOMURA.pdf", 2, 2, "", Kind.BODY)
    question = "How many GPUs does Tencent plan to add to expand its capacity for Tencent Cloud?"
    assert not extractive(make_evidence(question, [Hit(chunk, 0.03)])).answerable
    counted = replace(chunk, text=text.replace("expand its GPU capacity", "add 200,000 GPUs"))
    assert extractive(make_evidence(question, [Hit(counted, 0.03)])).answerable


def test_a_figures_label_is_no_number_stated():
    caption = "图2：Polymarket 对美伊停火时间的预期图3：Polymarket 对美国派遣地面部队入侵伊朗的预期"  # values: in the chart
    chunk = Chunk("d:00000", "d", 0, caption, "weekly.pdf", 3, 3, "海外政治", Kind.FIGURE)
    question = "Polymarket 上押注美国派地面部队入侵伊朗的概率是多少？"
    result = extractive(make_evidence(question, [Hit(chunk, 0.03)]))
    assert (result.answerable, result.reason) == (False, "原因：问题问的是数量，但最相关的段落没有给出数字。")
    stated = replace(chunk, text=caption + "。Polymarket 对美国派遣地面部队入侵伊朗的预期概率为 27%。", kind=Kind.BODY)
    assert extractive(make_evidence(question, [Hit(stated, 0.03)])).answerable


def test_a_date_or_the_questions_own_number_is_no_count_stated():
    legend = "2026年一季报预计披露家数（家），截至4月3日已有12家公司预约"
    chunk = Chunk("d:00000", "d", 0, legend.split("，")[0] + "。", "weekly.pdf", 11, 11, "策略", Kind.BODY)
    question = "2026年一季报预计会有多少家上市公司披露？"
    result = extractive(make_evidence(question, [Hit(chunk, 0.03)]))
    assert (result.answerable, result.reason) == (False, "原因：问题问的是数量，但最相关的段落没有给出数字。")
    assert extractive(make_evidence(question, [Hit(replace(chunk, text=legend + "。"), 0.03)])).answerable
    echo = replace(chunk, text="2026年一季报预计会有上市公司披露，3月份披露家数创新高。")  # 2026 and 3月: no count
    assert not extractive(make_evidence("3月份2026年一季报预计会有多少家上市公司披露？", [Hit(echo, 0.03)])).answerable
    when = replace(chunk, text="2026年一季报预计于4月30日前全部披露。")
    assert extractive(make_evidence("2026年一季报几月几号前全部披露？", [Hit(when, 0.03)])).answerable


def test_the_prior_year_of_an_annual_reports_table_is_the_year_before_its_own():
    text = "(7).关键管理人员报酬\n单位：万元币种：人民币\n项目 本期发生额 上期发生额\n关键管理人员报酬 401.89 424.02"
    chunk = Chunk("d:00000", "d", 0, text, "annual.pdf", 140, 140, "关联交易", Kind.TABLE, meta={"period": "2019"})
    question = "2018年公司关键管理人员的报酬总额是多少万元？"
    result = extractive(make_evidence(question, [Hit(chunk, 0.03)]))
    assert result.answerable and "424.02" in result.text
    for period in ("2020", "2019H1"):  # two years later; a half year's 上期 is the last half year
        other = replace(chunk, meta={"period": period})
        assert not extractive(make_evidence(question, [Hit(other, 0.03)])).answerable


def test_words_that_only_ask_are_not_evidence_terms():
    from rag.evidence import key_terms

    assert key_terms("Sora 最长能生成多长时间的视频？") == ("sora", "生成", "视频")  # not 时间 of 多长时间, nor 最长
    assert key_terms("这篇报告由几位分析师撰写？") == ("分析", "分析师")
    assert key_terms("国联证券给出的行业评级是什么？") == ("国联", "证券", "行业", "评级")
    assert key_terms("Which companies acquired by Pfizer are mentioned in this 10K report?") == (
        "companies", "acquired", "pfizer")  # the form names the filing itself, which prints it "10-K"
    assert key_terms("这次下调之前，各家给出的目标价大约是多少？") == ("下调", "目标", "标价", "目标价")
    assert key_terms("与2018年相比，注册会计师是哪两位？") == ("2018", "注册", "会计", "会计师")
    assert key_terms("2019年最后一个交易日的收盘价是多少？")[:3] == ("2019", "最后", "一个")  # a date, not a frame
    # where the report prints it frames the question: the table row says none of it
    assert key_terms("国金证券引用IEA数据的表格里，沙特眼下的原油出口是多少？") == ("国金", "证券", "iea", "数据", "沙特", "原油",
                                                                  "出口")
    # "in the table" names where the report prints it, as 文中 does; 拿到 only asks
    assert key_terms("行业配置表中，交通运输行业拿到的是什么配置建议？") == ("行业", "配置", "交通", "通运", "运输", "交通运输", "建议")


def test_a_noun_naming_the_kind_of_answer_frames_the_question():
    from rag.evidence import key_terms, strength

    question = "Sora 能采样的宽屏视频规格是多少？"  # answered by the value, "1920x1080p", never by 规格
    assert key_terms(question) == ("sora", "采样", "视频")
    said = make_chunks("r", "r.md", {}, [("", 1, "Sora 可以采样宽屏 1920x1080p 视频。", Kind.BODY, ())])[0]
    assert strength(make_evidence(question, [Hit(said, 0.03)])).covered == 1.0
    # the thing asked about still counts in full: a price is no kind of answer
    assert strength(make_evidence("Sora 的订阅价格是多少？", [Hit(said, 0.03)])).covered < 0.55


def test_a_question_framed_around_its_answer_is_answered(reports):
    result = answer("Sora 最长能生成多长时间的视频？", reports)  # the passage says 生成长达 60s, never 最长
    assert result.answerable and "60s" in result.text
    assert result.citations[0].chunk_id == f"{REPORT_ID}:00000"


def test_a_framing_word_counts_where_the_passage_says_it_and_costs_nothing_where_it_does_not():
    from rag.evidence import strength

    question = "截至4月3日，R007降到了多少？"  # key terms 4, 3, r007, 降到; 截至 frames the date
    said, unsaid = make_chunks("db", "weekly.pdf", {}, [("", 1, "截至4月3日，R007降至1.45%，较上周下行。", Kind.BODY, ()),
                                                          ("", 1, "4月3日，R007降至1.45%，较上周下行。", Kind.BODY, ())])
    assert strength(make_evidence(question, [Hit(said, 0.03)])).covered == 0.8  # 4 of 5 words, 截至 among them
    assert strength(make_evidence(question, [Hit(unsaid, 0.03)])).covered == 0.75  # 3 of the 4 key terms

def test_names_keep_their_version_and_periods_are_not_names():
    assert entities("Gemini 1.5 Pro 的上下文窗口有多大？") == ("Gemini 1.5 Pro",)
    assert entities("Claude 3 呢？") == ("Claude 3",)
    assert entities("What about Best Buy in Q2 FY2024?") == ("Best Buy",)
    assert entities("and in Q3?") == ()
    assert entities("What target did Deutsche Bank set in August 2025?") == ("Deutsche Bank",)  # a month is when
    assert entities("How did Marriott do in March?") == ("Marriott",)
    chat = Conversation()
    chat.update("Gemini 1.5 Pro 的上下文窗口有多大？", Answer("q", "a", True))
    follow = chat.follow_up("那 Sora 呢？")
    assert (follow.subject, follow.extra_terms) == (("Sora",), ("上下", "下文", "上下文", "窗口"))  # 1.5 went
    assert follow.previous == "Gemini 1.5 Pro 的上下文窗口有多大？"


def test_a_pages_scrambled_stamp_is_never_quoted():
    stamp = "rQrOsNtRpOmPtQoOrNqPoQ9PbP7NpNnNpNtNkPrRpMeRoPoN7NmOoPwMoOrRMYmNpO\nTencent shareholder return 2025 Page 3"
    body = "In 2025, Tencent's total shareholder return was HKD128bn, implying a c.3% yield."
    chunks = make_chunks("db", "DB-700.pdf", {}, [("", 3, stamp, Kind.BODY, ()), ("", 4, body, Kind.BODY, ())])
    result = extractive(make_evidence("How much did Tencent return to shareholders in 2025?",
                                      [Hit(chunks[0], 0.03), Hit(chunks[1], 0.02)]))
    assert "rQrOsNt" not in result.text and "HKD128bn" in result.text


def test_an_answer_reads_the_library_version_once(reports, monkeypatch):
    chroma_get = reports.store.docs.get
    reads = []
    monkeypatch.setattr(reports.store.docs, "get", lambda **kw: reads.append(kw.get("ids")) or chroma_get(**kw))
    result = answer("ACME 2018 revenue?", reports, mode="extractive")  # retrieval, tables, figures, composing
    assert result.hits and reads.count(["__version__"]) == 1


def test_the_row_a_question_names_under_a_column_it_names_is_quoted_though_it_says_few_of_its_words():
    table = ("图2：除了关注原油断链外，原油产品供给短缺也在通过产业链扩大冲击\n出口国 原油 原油产品 总计\n巴林 0 0.21 0.21\n"
             "伊朗 1.69 0.72 2.41\n科威特 1.4 0.97 2.37\n沙特 5.43 0.8 6.23\n霍尔木兹海峡2025年日均运量\n(百万桶/日)\n"
             "14.59 4.92 19.52\n来源：IEA，国金证券研究所")
    chunk = Chunk("hormuz:3", "hormuz", 3, table, "hormuz.pdf", 3, 3, kind=Kind.TABLE)
    question = "据IEA统计，2025年经霍尔木兹海峡运输的科威特原油产品日均运量是多少百万桶/日？"
    result = extractive(make_evidence(question, [Hit(chunk, 0.03)]))
    # the row under 原油产品, after its table's header line
    assert result.answerable and result.text == "出口国 原油 原油产品 总计[1]科威特 1.4 0.97 2.37[1]"
