"""Hybrid retrieval on a real Chroma library (tmp_path) and the real bundled model: fusion, filters, scope."""

from __future__ import annotations

from dataclasses import replace

import pytest

from rag.library import Library
from rag.retrieve import Filters, Ranking, detect_scope, fuse, fusion_weights, retrieve
from rag.settings import Settings
from rag.types import Chunk, Document, Kind

B = Kind.BOILERPLATE
# doc_id -> (source, document meta, [(section, text, kind)])
CORPUS = {
    "maotai": ("maotai_2024-03_annual_review.pdf",
               {"company": "贵州茅台酒股份有限公司", "publisher": "中信证券", "date": "2024-03-30"}, [
        ("一、经营情况", "2023年，贵州茅台实现营业收入1,505.60亿元，同比增长18.04%。", Kind.BODY),
        ("一、经营情况", "贵州茅台实现归属于上市公司股东的净利润747.34亿元，同比增长19.16%。", Kind.BODY),
        ("分析师声明", "分析师声明：本报告仅供中信证券的客户使用，分析师独立发表意见。", B),
    ]),
    "wuliangye": ("wuliangye_2024-02_review.pdf",
                  {"company": "宜宾五粮液股份有限公司", "publisher": "国联证券", "date": "2024-02-18"}, [
        ("经营回顾", "2023年，五粮液实现营业收入832.72亿元，同比增长12.58%。", Kind.BODY),
        ("经营回顾", "五粮液全年净利润302.11亿元，经营稳健。", Kind.BODY),
        ("价格", "普五终端成交价约1505元/瓶，批价保持稳定。", Kind.BODY),
    ]),
    "sifang": ("annual_report_2019_sifang_603339.pdf",
               {"company": "四方科技集团股份有限公司", "date": "2020-04-16", "period": "2019"}, [
        ("主要会计数据", "2019年，公司实现营业收入8.12亿元，速冻设备销量增长。", Kind.BODY),
    ]),
    "3m18": ("3M_2018_10K.pdf", {"company": "3M Company", "period": "FY2018", "date": "2019-02-07"}, [
        ("Cash flows", "Purchases of property, plant and equipment (PP&E) were $1,577 million in 2018.",
         Kind.BODY),
        ("Results", "Net sales totaled $32.8 billion in 2018, an increase of 3.5 percent.", Kind.BODY),
    ]),
    "3m22": ("3M_2022_10K.pdf", {"company": "3M Company", "period": "FY2022", "date": "2023-02-08"}, [
        ("Results", "Net sales totaled $34.2 billion in 2022, a decrease of 2.5 percent.", Kind.BODY),
    ]),
}


def add_document(
    library: Library, doc_id: str, source: str, meta: dict, pieces: list, record: bool = True
) -> None:
    """Write a document's chunks (embedded text = chunk text), then its record (what makes it visible)."""
    chunks = [
        Chunk(chunk_id=f"{doc_id}:{i}", doc_id=doc_id, ordinal=i, text=text, source=source, page=i + 1,
              page_end=i + 1, section=section, kind=kind, meta=dict(meta))
        for i, (section, text, kind) in enumerate(pieces)
    ]
    library.store.add_chunks(chunks, library.embedder.encode([c.text for c in chunks]))
    if record:
        library.store.put_document(Document(doc_id=doc_id, source=source, path=source, pages=len(chunks),
                                            chunks=len(chunks), ingested_at="2024-04-01T00:00:00+00:00",
                                            fmt="pdf", meta=dict(meta)))


def build(library: Library, corpus: dict = CORPUS) -> Library:
    for doc_id, (source, meta, pieces) in corpus.items():
        add_document(library, doc_id, source, meta, pieces)
    return library


@pytest.fixture(scope="module")
def shared(tmp_path_factory, embedder) -> Library:
    """One library for the read-only tests (building it embeds 12 chunks)."""
    settings = Settings.load(environ={}, library=tmp_path_factory.mktemp("shared") / "library")
    return build(Library(settings, embedder=embedder))


def ids(result) -> list[str]:
    return [h.chunk.chunk_id for h in result.hits]


def test_chinese_question_without_spaces_ranks_the_right_chunk_first(shared):
    result = retrieve(shared, "贵州茅台2023年营业收入是多少")
    assert ids(result)[0] == "maotai:0"
    assert result.weights == {"dense": 0.0, "bm25": 1.0}  # carried by BM25 alone
    assert result.hits[0].ranks == {"bm25": 1, "page_bm25": 1}  # no dense list
    assert result.reason == ""


def test_number_with_separators_is_matched_whole(shared):
    result = retrieve(shared, "哪家公司2023年营业收入为1,505.60亿元？", auto_scope=False)
    assert ids(result)[0] == "maotai:0"
    # "1505" alone is a different number: BM25 finds the 1505元 price, never the 1,505.60 revenue
    lone = retrieve(shared, "1505", auto_scope=False)
    bm25 = [h.chunk.chunk_id for h in lone.hits if "bm25" in h.ranks]
    assert bm25 == ["wuliangye:2"]


def test_fusion_weights_follow_what_the_model_can_read(shared):
    english = fusion_weights(shared, "What were the purchases of property, plant and equipment in 2018?")
    chinese = fusion_weights(shared, "Sora 模型能生成多长的视频？")
    assert english["dense"] > 0.9 and english["bm25"] == 1.0
    assert chinese["dense"] < 0.3 and chinese["bm25"] == 1.0
    result = retrieve(shared, "What were the purchases of property, plant and equipment in 2018?")
    assert ids(result)[0] == "3m18:0"
    assert result.hits[0].ranks == {"dense": 1, "bm25": 1, "page_dense": 1, "page_bm25": 1}


def test_boilerplate_is_excluded_unless_asked(shared):
    default = retrieve(shared, "报告仅供客户使用", auto_scope=False)
    assert all(h.chunk.kind != Kind.BOILERPLATE for h in default.hits)
    asked = retrieve(shared, "报告仅供客户使用", filters=Filters(kinds=tuple(Kind)), auto_scope=False)
    assert ids(asked)[0] == "maotai:2"
    named = retrieve(shared, "分析师声明说了什么？", auto_scope=False)  # a question about the standing text
    assert ids(named)[0] == "maotai:2"


@pytest.mark.parametrize(("filters", "docs"), [
    (Filters(doc_ids=("wuliangye",)), {"wuliangye"}),
    (Filters(publishers=("国联证券",)), {"wuliangye"}),
    (Filters(date_from="2024-03"), {"maotai"}),
    (Filters(date_from="2024-02", date_to="2024-02"), {"wuliangye"}),
    (Filters(date_to="2019-12-31"), {"3m18"}),
])
def test_filters_restrict_documents(shared, filters, docs):
    result = retrieve(shared, "营业收入 net sales", filters=filters, auto_scope=False)
    assert result.hits and {h.chunk.doc_id for h in result.hits} == docs


def test_scope_from_a_company_name(shared):
    result = retrieve(shared, "What were 3M's capital expenditures in 2018?")
    assert result.scope is not None
    assert (result.scope.doc_ids, result.scope.matched, result.scope.field) == (("3m18",), "3M", "company")
    assert {h.chunk.doc_id for h in result.hits} == {"3m18"}

    both = detect_scope("How did 3M net sales change?", shared.store.documents())
    assert set(both.doc_ids) == {"3m18", "3m22"}  # no year named: every 3M filing

    sifang = retrieve(shared, "四方科技2019年营业收入是多少")
    assert (sifang.scope.doc_ids, sifang.scope.matched) == (("sifang",), "四方科技")
    assert ids(sifang) == ["sifang:0"]


def test_no_scope_when_the_question_names_nothing_known(shared):
    documents = shared.store.documents()
    assert detect_scope("What was the revenue growth in 2018?", documents) is None
    assert detect_scope("Did 13M units ship?", documents) is None  # whole words only: 13M is not 3M
    assert detect_scope("How does the annual report define revenue?", documents) is None  # generic file words


def test_extra_terms_steer_a_follow_up(shared):
    assert ids(retrieve(shared, "那净利润呢？", extra_terms=("五粮液",)))[0] == "wuliangye:1"
    assert ids(retrieve(shared, "那净利润呢？", extra_terms=("贵州茅台",)))[0] == "maotai:1"


def test_reasons_when_nothing_comes_back(shared, library):
    assert retrieve(library, "营业收入").reason == "empty library"
    assert retrieve(shared, "营业收入", filters=Filters(doc_ids=("missing",))).reason == "filtered out by filters"
    scoped = retrieve(shared, "四方科技的净利润是多少")  # 净利润 only occurs outside the scoped report
    assert (scoped.hits, scoped.reason, scoped.scope.doc_ids) == ((), "filtered out by scope", ("sifang",))
    # no BM25 match and a question the model cannot read (dense weight 0)
    assert retrieve(shared, "量子纠缠实验").reason == "nothing matched"


def test_no_reranker_is_loaded_unless_configured(shared):
    from rag import rerank

    result = retrieve(shared, "What were net sales in 2022?")
    assert shared.settings.reranker is None
    assert rerank.loaded_models() == 0 and "rerank" not in result.timings_ms
    assert set(result.timings_ms) >= {"dense", "bm25", "fuse", "total"}


def test_deleted_and_replaced_documents_never_come_back(library):
    build(library, {k: CORPUS[k] for k in ("maotai", "wuliangye")})
    assert ids(retrieve(library, "贵州茅台营业收入"))[0] == "maotai:0"
    library.store.delete_document("maotai")
    gone = retrieve(library, "贵州茅台营业收入 1,505.60")
    assert not [h for h in gone.hits if h.chunk.doc_id == "maotai"]

    # a replaced file is a new doc id for the same source; the old one is deleted
    source, meta, pieces = CORPUS["wuliangye"]
    add_document(library, "wuliangye-v2", source, meta, [("经营回顾", "2023年，五粮液实现营业收入833.00亿元。", Kind.BODY)])
    library.store.delete_document("wuliangye")
    english = retrieve(library, "What was Wuliangye revenue 832.72 in 2023?", k=20)
    chinese = retrieve(library, "五粮液营业收入832.72亿元", k=20)
    for result in (english, chinese):
        assert {h.chunk.doc_id for h in result.hits} == {"wuliangye-v2"}


def test_chunks_of_a_document_without_record_are_invisible(library):
    build(library, {"wuliangye": CORPUS["wuliangye"]})
    source, meta, pieces = CORPUS["maotai"]
    add_document(library, "maotai", source, meta, pieces, record=False)  # ingestion stopped half-way
    for question in ("贵州茅台营业收入1,505.60亿元", "Kweichow Moutai revenue 1,505.60"):
        assert "maotai" not in {h.chunk.doc_id for h in retrieve(library, question, k=20).hits}


def test_weighted_reciprocal_rank_fusion_scores():
    fused = fuse({"dense": ["a", "b"], "bm25": ["b", "c"]}, {"dense": 0.5, "bm25": 1.0})
    assert [cid for cid, _, _ in fused] == ["b", "c", "a"]
    assert fused[0][1] == pytest.approx(0.5 / 62 + 1 / 61) and fused[0][2] == {"dense": 2, "bm25": 1}
    assert fused[2][1] == pytest.approx(0.5 / 61) and fused[2][2] == {"dense": 1}


def _doc(doc_id: str, source: str, **meta: str) -> Document:
    return Document(doc_id=doc_id, source=source, path=source, pages=1, chunks=1, ingested_at="", fmt="pdf",
                    meta=meta)


def test_scope_names_come_from_file_names_and_legal_names():
    docs = [
        _doc("bb", "BESTBUY_2024Q2_10Q.pdf"), _doc("amex", "AMERICANEXPRESS_2022_10K.pdf"),
        _doc("mt", "report.pdf", company="贵州茅台酒股份有限公司"), _doc("ar", "annual_report_2019_sifang_603339.pdf"),
        _doc("glsc", "glsc_2024-02_computer.md", publisher="国联证券"),
        _doc("amzn", "a.pdf", company="Amazon.com, Inc."),
    ]
    assert detect_scope("What is Best Buy's gross margin?", docs).doc_ids == ("bb",)
    assert detect_scope("American Express total revenue in 2022", docs).doc_ids == ("amex",)
    assert detect_scope("贵州茅台的毛利率是多少", docs).matched == "贵州茅台"  # the legal name's first four characters
    assert detect_scope("国联证券给出的行业评级", docs).doc_ids == ("glsc",)
    assert detect_scope("Amazon's AWS revenue", docs).doc_ids == ("amzn",)
    assert detect_scope("What does the annual report say about 2019 revenue?", docs) is None
    # a broker is named without its trade: "BofA" for BofA Securities
    notes = [_doc("boa", "BOA-700.pdf", company="Tencent", publisher="BofA Securities"),
             _doc("daiwa", "DAIWA-700.pdf", company="Tencent", publisher="Daiwa")]
    assert detect_scope("What non-IFRS EPS does BofA forecast for Tencent for 2028E?", notes).doc_ids == ("boa",)
    # and by the names questions give a firm in the other language: "CICC" for 中金公司, "大和" for Daiwa
    notes.append(_doc("cicc", "CICC-700.pdf", company="Tencent", publisher="中金公司"))
    assert detect_scope("What multiple does CICC's Tencent target correspond to?", notes).doc_ids == ("cicc",)
    assert detect_scope("大和对腾讯的游戏收入预测是多少？", notes).doc_ids == ("daiwa",)


def test_a_question_naming_a_broker_and_a_company_is_scoped_to_that_brokers_reports_on_it():
    docs = [_doc("jpm", "JP-700.pdf", company="Tencent", publisher="J.P. Morgan"),
            _doc("ubs", "UBS-700.pdf", company="Tencent", publisher="UBS"),
            _doc("jpm-other", "jpm-bank.pdf", company="China Merchants Bank", publisher="J.P. Morgan"),
            _doc("dw", "dw.pdf", company="阳光电源", publisher="东吴证券"), _doc("gj", "gj.pdf", company="阳光电源",
                                                                      publisher="国金证券")]
    jpm = detect_scope("What was J.P. Morgan's previous target price on Tencent?", docs)
    assert jpm.doc_ids == ("jpm",) and jpm.matched == "J.P. Morgan, Tencent"
    assert detect_scope("Which brokers rate Tencent a buy?", docs).doc_ids == ("jpm", "ubs")
    assert detect_scope("东吴证券对阳光电源的评级", docs).doc_ids == ("dw",)
    assert detect_scope("东吴证券最近的报告", docs).doc_ids == ("dw",)
    # a card that gives the ticker but not the company's name: the broker's report is on its peers' company
    citi = [*docs[:2], _doc("citi", "CITI-700.pdf", publisher="Citi", ticker="0700.HK")]
    citi = [replace(d, meta={**d.meta, "ticker": "0700.HK"}) for d in citi]
    scoped = detect_scope("What WACC does Citi use in its valuation of Tencent?", citi)
    assert scoped.doc_ids == ("citi",) and scoped.matched == "Citi, Tencent"


def test_a_report_is_also_named_by_the_series_its_file_name_gives():
    docs = [_doc("dz", "20260405-银河证券-银河证券大类资产周报：能源冲击仅是开端，美债恐临严峻考验.pdf",
                 publisher="银河证券", title="能源冲击仅是开端，美债恐临严峻考验"),
            _doc("cl", "20260405-银河证券-银河证券策略周报：市场的关键仍在原油.pdf", publisher="银河证券",
                 title="市场的关键仍在原油"),
            _doc("fz", "20260401-方正证券-方正证券2026年二季度大类资产配置报告（总第96期）：地缘风险扰市未休.pdf",
                 publisher="方正证券", title="地缘风险扰市未休"),
            _doc("sg", "20260331-国金证券-阳光电源（300274.SZ）：年底业绩波动不改长期趋势.pdf", publisher="国金证券",
                 company="阳光电源")]
    weekly = detect_scope("银河证券大类资产周报里，美联储主席是谁？", docs)
    assert weekly.doc_ids == ("dz",) and weekly.matched == "银河证券, 大类资产周报"
    # the issue number in brackets is no part of the name; the publisher's name alone scopes to all of its reports
    assert detect_scope("方正证券《2026年二季度大类资产配置报告》署名的第一位分析师是谁？", docs).doc_ids == ("fz",)
    assert detect_scope("银河证券最近怎么看原油？", docs).doc_ids == ("dz", "cl")
    # a company's name in the file name stays the company's
    assert detect_scope("国金证券对阳光电源的看法", docs).matched == "国金证券, 阳光电源"


def test_the_words_naming_the_scoped_report_do_not_rank_its_cover_first(tmp_path, embedder):
    source = "20260405-银河证券-银河证券策略周报：市场“矛”与“盾”的关键仍在原油.pdf"
    title = "市场“矛”与“盾”的关键仍在原油"
    library = Library(Settings.load(environ={}, library=tmp_path / "library"), embedder=embedder)
    texts = [(1, f"银河证券 策略周报 {title} 本周全A指数估值回落，原油价格仍是市场的关键。"),
             (8, "表1：本周一级行业估值及其分位数 行业名称 PE(TTM)(倍) 电子 62.00 计算机 55.10 医药 30.20")]
    chunks = [Chunk(chunk_id=f"yh:{i}", doc_id="yh", ordinal=i, text=text, source=source, page=page, page_end=page)
              for i, (page, text) in enumerate(texts)]
    library.store.add_chunks(chunks, library.embedder.encode([c.text for c in chunks]))
    library.store.put_document(Document(doc_id="yh", source=source, path=source, pages=8, chunks=2,
                                        ingested_at="2026-04-05T00:00:00+00:00", fmt="pdf",
                                        meta={"publisher": "银河证券", "title": title}))
    question = "银河证券策略周报（“矛”与“盾”的关键仍在原油）的一级行业估值表中，电子行业当前的PE(TTM)是多少倍？"
    result = retrieve(library, question, k=2)
    assert result.scope is not None and result.scope.spans == ("“矛”与“盾”的关键仍在原油", "策略周报", "银河证券")
    unnamed = result.scope.unnamed(question)
    assert "一级行业估值表" in unnamed and not any(word in unnamed for word in ("银河", "周报", "原油"))
    assert [h.chunk.page for h in result.hits] == [8, 1]  # the cover says the name, not the table
    # a part of the title in brackets names the report even when the series is worded otherwise
    docs = [_doc("dw", "20260405-东吴证券-东吴证券每周主题、产业趋势交易复盘和展望：除了OCS和创新药，还能关注什么？.pdf",
                 publisher="东吴证券", title="除了OCS和创新药，还能关注什么？"),
            _doc("dw2", "20260406-东吴证券-东吴证券固收周报：周观，债市主线交易逻辑并未清晰.pdf", publisher="东吴证券")]
    scoped = detect_scope("东吴证券每周主题与产业趋势复盘（除了OCS和创新药）里，科创50的PE-TTM是多少倍？", docs)
    assert scoped.doc_ids == ("dw",) and scoped.spans == ("除了OCS和创新药", "东吴证券")


def test_finance_vocabulary_finds_line_items_the_question_does_not_say(shared):
    capex = retrieve(shared, "What was 3M's capex in 2018?")
    assert ids(capex)[0] == "3m18:0"  # "Purchases of property, plant and equipment"
    # asked in Chinese of an English filing: 营业收入 is searched as "net sales" too
    revenue = retrieve(shared, "3M 2018年的营业收入是多少？")
    assert revenue.scope is not None and ids(revenue)[0] == "3m18:1"
    without = retrieve(shared, "3M 2018年的营业收入是多少？", ranking=Ranking(expansion=0.0, translation=0.0))
    assert ids(without)[0] == "3m18:0"  # only "2018" matched: the capex sentence came first


def test_one_chunk_per_page_while_other_pages_exist(tmp_path, embedder):
    library = Library(Settings.load(environ={}, library=tmp_path / "library"), embedder=embedder)
    texts = [(1, "Net sales grew 3 percent in the quarter, net sales were strong."),
             (1, "Net sales grew 4 percent in the quarter, net sales were strong."),
             (1, "Net sales grew 5 percent in the quarter, net sales were strong."),
             (2, "Net sales by region are shown below.")]
    chunks = [Chunk(chunk_id=f"one:{i}", doc_id="one", ordinal=i, text=text, source="filing.pdf", page=page,
                    page_end=page) for i, (page, text) in enumerate(texts)]
    library.store.add_chunks(chunks, library.embedder.encode([c.text for c in chunks]))
    library.store.put_document(Document(doc_id="one", source="filing.pdf", path="filing.pdf", pages=2,
                                        chunks=4, ingested_at="2024-04-01T00:00:00+00:00", fmt="pdf"))
    hits = retrieve(library, "net sales", k=4).hits
    assert [h.chunk.page for h in hits[:2]] == [1, 2]  # page 2 before the second chunk of page 1
    assert sorted(h.chunk.chunk_id for h in hits) == ["one:0", "one:1", "one:2", "one:3"]


def test_short_forms_in_capitals_name_a_company_by_its_words_beginnings():
    def filing(doc_id: str, company: str) -> Document:
        return Document(doc_id, f"{doc_id}.pdf", f"/x/{doc_id}.pdf", 1, 1, "", "pdf", {"company": company})

    documents = [filing("axp-10k", "American Express Company"), filing("jpm-10q", "JPMorgan Chase & Co."),
                 filing("amzn-10k", "Amazon.com, Inc.")]
    assert detect_scope("Does AMEX have an improving operating margin?", documents).doc_ids == ("axp-10k",)
    assert detect_scope("What is JPM's CET1 ratio?", documents).doc_ids == ("jpm-10q",)  # the name's beginning
    assert detect_scope("Did GAAP rules change?", documents) is None
    assert detect_scope("What did AMX report?", documents) is None  # AM + X is no word's beginning


def test_a_figure_caption_ranks_below_the_passage_it_illustrates_unless_the_figure_is_named(tmp_path, embedder):
    library = Library(Settings.load(environ={}, library=tmp_path / "library"), embedder=embedder)
    add_document(library, "sora", "sora_2024-02.pdf", {"publisher": "国联证券"}, [
        ("模型限制", "图表6: Sora 可能无法理解场景物体的因果关系\n资料来源: OpenAI 官网, 国联证券研究所", Kind.FIGURE),
        ("模型限制", "Sora 仍存在一定弱点。Sora 可能难以准确模拟复杂场景中物体的物理特性，并且可能无法理解某些特定的"
                    "场景物体的因果关系。例如，一个人咬一口饼干，但饼干可能没有咬痕。", Kind.BODY),
    ])
    asked = "报告用什么例子说明 Sora 可能不理解因果关系？"
    assert [h.chunk.kind for h in retrieve(library, asked, k=2).hits] == [Kind.BODY, Kind.FIGURE]
    assert retrieve(library, asked, k=2, ranking=Ranking(caption=1.0)).hits[0].chunk.kind == Kind.FIGURE
    assert retrieve(library, "图表6 说明了 Sora 不理解什么？", k=2).hits[0].chunk.kind == Kind.FIGURE


def test_a_figure_named_by_its_label_comes_first_not_a_passage_that_mentions_it(tmp_path, embedder):
    library = Library(Settings.load(environ={}, library=tmp_path / "library"), embedder=embedder)
    add_document(library, "gemini", "gemini_2024-02.pdf", {"publisher": "国联证券"}, [
        ("长上下文", "Gemini 1.5 Pro 在多数基准测试上超越了 1.0 Pro，如图表25所示，其数据来自谷歌的技术报告。"
                    "谷歌数据显示，长上下文能力提升明显，数据表明性能保持。", Kind.BODY),
        ("长上下文", "图表25: Gemini 1.5 Pro 在扩大上下文窗口后，保持了高性能\nText +28.9% +5.2%\n"
                    "资料来源：《Gemini 1.5: Unlocking multimodal understanding》，国联证券研究所", Kind.TABLE),
        ("长上下文", "图表2: Gemini 1.5 Pro 的上下文窗口\n资料来源：谷歌官网，国联证券研究所", Kind.FIGURE),
        ("Results", "Figure 3: Revenue by segment, 2023\nCloud 41% Devices 23%", Kind.FIGURE),
    ])
    asked = "图表25 的数据出自哪篇文献？"
    assert retrieve(library, asked, k=3, ranking=Ranking(caption=1.0)).hits[0].chunk.ordinal == 1
    assert retrieve(library, "数据出自哪篇文献？", k=3).hits[0].chunk.ordinal == 0  # no figure named: BM25's order
    assert retrieve(library, "What does Fig. 3 show?", k=3).hits[0].chunk.ordinal == 3  # Fig. is Figure
    assert retrieve(library, "图表2 展示了什么？", k=3).hits[0].chunk.ordinal == 2  # 图表2, not 图表25
    from rag.retrieve import _FIGURE_NAME

    named = [_FIGURE_NAME.findall(q) for q in ("Was Cloud profitable 3 years running?", "利润表2019年", "see Table 4")]
    assert named == [[], [], [("Table", "4")]]  # "profitable 3" names no table 3, nor 表2019 a table


def test_a_question_naming_a_quarter_favours_the_report_for_that_quarter(tmp_path, embedder):
    library = Library(Settings.load(environ={}, library=tmp_path / "library"), embedder=embedder)
    add_document(library, "bby-10k", "BESTBUY_2023_10K.pdf", {"company": "Best Buy", "period": "FY2023"}, [
        ("Liquidity", "Cash and cash equivalents were $1,874 million at the end of fiscal 2023.", Kind.BODY)])
    add_document(library, "bby-10q", "BESTBUY_2024Q2_10Q.pdf", {"company": "Best Buy", "period": "FY2024Q2"}, [
        ("Liquidity", "Cash and cash equivalents were $1,093 million at July 29, 2023, the end of the "
                      "quarter.", Kind.BODY)])
    asked = "Was there any drop in cash and cash equivalents between FY 2023 and Q2 of FY2024?"
    assert ids(retrieve(library, asked, k=2, ranking=Ranking(period=0.0)))[0] == "bby-10k:0"  # says 2023
    assert ids(retrieve(library, asked, k=2))[0] == "bby-10q:0"
    assert ids(retrieve(library, "Did cash drop in fiscal 2023?", k=2))[0] == "bby-10k:0"  # no quarter named


def test_the_first_chunks_are_reordered_by_their_coverage_of_the_question(tmp_path, embedder):
    """Fusion knows ranks only: a short chunk repeating the common words (模拟, 物理) outranks the passage that
    alone says the rarest word asked (弱点); the coverage weight puts the passage first, within the top five."""
    library = Library(Settings.load(environ={}, library=tmp_path / "library"), embedder=embedder)
    texts = [(3, "Sora 模拟物理：模拟物理运动，模拟物理碰撞，模拟物理世界。"),
             (5, "Sora 的诞生代表着 AI 行业在视频生成领域产生较大突破，生成的视频画面连贯、细节丰富、镜头语言多样，"
                 "但其仍存在一定弱点需逐步改善：可能难以准确模拟复杂场景中物体的物理特性，也可能无法理解某些特定场景中的"
                 "因果关系，例如一个人咬一口饼干，但饼干可能没有咬痕。"),
             (6, "Sora 可以生成长达 60s 的视频，支持多种分辨率与纵横比。"),
             (7, "Gemini 1.5 Pro 的上下文窗口可达 100 万个 token。")]
    chunks = [Chunk(chunk_id=f"s:{i}", doc_id="s", ordinal=i, text=text, source="sora.pdf", page=page, page_end=page)
              for i, (page, text) in enumerate(texts)]
    library.store.add_chunks(chunks, library.embedder.encode([c.text for c in chunks]))
    library.store.put_document(Document(doc_id="s", source="sora.pdf", path="sora.pdf", pages=7, chunks=4,
                                        ingested_at="2024-04-01T00:00:00+00:00", fmt="pdf"))
    question = "Sora 目前在物理模拟方面有哪些弱点？"
    plain = retrieve(library, question, k=3, ranking=Ranking(coverage=0.0)).hits
    assert [h.chunk.page for h in plain] == [3, 5, 6]  # BM25 alone: the repeated words win
    hits = retrieve(library, question, k=3).hits
    assert [h.chunk.page for h in hits] == [5, 3, 6]
    assert hits[0].ranks == {"bm25": 2, "page_bm25": 2}  # the retrievers' ranks are kept as they were


def test_the_chunk_opening_a_section_the_question_names_comes_first(tmp_path, embedder):
    """A passage repeating the question's words outranks the one opening the section the question names
    ("视频压缩网络"); the heading weight puts the section's opening first. The section's later chunks and a
    heading that repeats the report's title gain nothing."""
    section = "1.2 Sora 采用了扩散模型结合 transformer"
    pieces = [
        (section, "Sora 的视频网络：视频压缩与视频生成，压缩网络工作的方式决定视频生成的方式，视频压缩网络是核心。",
         Kind.BODY),
        (f"{section} > ➤ 视频压缩网络", "### ➤ 视频压缩网络\n\nOpenAI 训练一个降低视觉数据维度的网络。这个网络将原始"
         "视频作为输入，并输出经过压缩的潜在表示。", Kind.BODY),
        (f"{section} > ➤ 视频压缩网络", "Sora 在这个压缩的潜在空间中接受训练并生成视频。", Kind.BODY),
    ]
    asked = "Sora 的视频压缩网络是怎么工作的？"
    library = Library(Settings.load(environ={}, library=tmp_path / "one"), embedder=embedder)
    add_document(library, "sora", "sora.pdf", {"title": "Sora 实现文生视频跨越式突破"}, pieces)
    assert ids(retrieve(library, asked, k=3, ranking=Ranking(heading=0.0)))[:2] == ["sora:0", "sora:1"]
    assert ids(retrieve(library, asked, k=3))[:2] == ["sora:1", "sora:0"]
    titled = Library(Settings.load(environ={}, library=tmp_path / "two"), embedder=embedder)
    add_document(titled, "sora-titled", "sora-titled.pdf", {"title": "视频压缩网络专题"}, pieces)
    assert ids(retrieve(titled, asked, k=3))[:2] == ["sora-titled:0", "sora-titled:1"]  # it repeats the title

    from rag.retrieve import opens_named_section
    from rag.text import squeeze

    said = squeeze(asked)
    opening, later = (Chunk("c", "d", i, text, "s.pdf", 1, 1, section=sec) for i, (sec, text, _) in
                      enumerate(pieces[1:]))
    assert opens_named_section(opening, said) and not opens_named_section(later, said)
    assert not opens_named_section(replace(opening, section="网络", text="网络\n视频"), squeeze("网络是什么"))  # short


def test_a_table_with_the_row_and_column_the_question_names_comes_first(tmp_path, embedder):
    """A long table scores low in BM25 against prose repeating the question's words; the row the question
    names (计算机) under the column it names (PB) puts the table first, and the answer quotes that row."""
    library = Library(Settings.load(environ={}, library=tmp_path / "library"), embedder=embedder)
    rows = "\n".join(f"{name} {pe} -1.00% 50.00% {pb} -1.00% 40.00%" for name, pe, pb in (
        ("房地产", "65.66", "0.77"), ("综合", "75.60", "2.73"), ("通信", "53.40", "5.28"), ("石油石化", "24.04", "1.59"),
        ("计算机", "75.75", "3.99"), ("电子", "62.00", "4.87"), ("机械设备", "39.95", "3.10")))
    add_document(library, "weekly", "weekly.pdf", {"publisher": "银河证券"}, [
        ("估值变动", "截至4月3日，全 A 指数 PB(LF)估值本周下跌2.43%至1.79倍，计算机行业估值回落，PB(LF)估值处于历史中位。"
                 "计算机、电子等行业估值下行。", Kind.BODY),
        ("估值变动", "表1：本周一级行业估值及其分位数\n行业名称 PE(TTM)(倍) 本周 PE 涨跌幅 市盈率分位数 PB(LF)(倍) 本周 PB 涨跌幅 "
                 f"市净率分位数\n{rows}", Kind.TABLE),
    ])
    asked = "截至4月3日那一周，计算机行业的PB(LF)估值是多少倍？"
    assert ids(retrieve(library, asked, k=2, ranking=Ranking(cell=False))) == ["weekly:0", "weekly:1"]
    assert ids(retrieve(library, asked, k=2)) == ["weekly:1", "weekly:0"]
    assert ids(retrieve(library, "计算机行业估值为何回落？", k=2)) == ["weekly:0", "weekly:1"]  # no column named

    from rag.answer import answer

    said = answer(asked, library)
    assert said.answerable and said.text.startswith(
        "行业名称 PE(TTM)(倍) 本周 PE 涨跌幅 市盈率分位数 PB(LF)(倍) 本周 PB 涨跌幅 市净率分位数[1]计算机 75.75 -1.00% 50.00% 3.99")
