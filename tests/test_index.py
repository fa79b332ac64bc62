"""The search index derived from a real Chroma library: Chinese tokens, numbers, exact dense search,
staleness, persistence."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rag import index as search_index
from rag.index import TOKENIZER_VERSION, open_index, terms, top_k
from rag.library import Library
from rag.types import Chunk, Document, Kind


def add_document(library: Library, doc_id: str, texts: list[str], kinds: list[Kind] | None = None,
                 record: bool = True) -> None:
    """Chunks first, then the record that makes the document complete (as the ingestion job does)."""
    kinds = kinds or [Kind.BODY] * len(texts)
    chunks = [
        Chunk(chunk_id=f"{doc_id}:{i}", doc_id=doc_id, ordinal=i, text=text, source=f"{doc_id}.pdf",
              page=i + 1, page_end=i + 1, section="", kind=kind)
        for i, (text, kind) in enumerate(zip(texts, kinds))
    ]
    library.store.add_chunks(chunks, library.embedder.encode(texts))
    if record:
        library.store.put_document(Document(doc_id=doc_id, source=f"{doc_id}.pdf", path=f"{doc_id}.pdf",
                                            pages=len(texts), chunks=len(texts),
                                            ingested_at="2024-04-01T00:00:00+00:00", fmt="pdf"))


@pytest.fixture(autouse=True)
def fresh_cache():
    search_index.clear_cache()
    yield
    search_index.clear_cache()


def index_of(library: Library) -> search_index.SearchIndex:
    return open_index(library.store, library.settings.library)


def search(library: Library, question: str, **kwargs) -> list[str]:
    return [cid for cid, _ in index_of(library).search(terms(question), 10, **kwargs)]


def test_chinese_question_without_spaces_finds_its_chunk(library):
    add_document(library, "a", [
        "贵州茅台2023年实现营业收入1,505.60亿元，同比增长18.04%。",
        "五粮液2023年实现营业收入832.72亿元。",
        "贵州茅台净利润747.34亿元。",
    ])
    assert search(library, "茅台营业收入") == ["a:0", "a:1", "a:2"]  # a:1 shares two terms, a:2 one
    assert search(library, "贵州茅台2023年营业收入是多少")[0] == "a:0"
    assert search(library, "五粮液收入")[0] == "a:1"
    index = index_of(library)
    assert [index.doc_freq(t) for t in ("茅台", "营业", "五粮液", "1505.6", "目标价")] == [2, 2, 1, 1, 0]


def test_a_word_jieba_cuts_in_the_question_but_not_in_the_report_is_searched_whole(library):
    add_document(library, "a", ["库存周期的典型时长约3–5年。", "库存周期的范围很宽，典型的库存周期研究很多。", "朱格拉周期对应设备更新。"])
    question = "库存周期的典型时长范围是多少年？"
    assert "时长" not in terms(question)  # cut 时/长 here, whole in the report
    index = index_of(library)
    assert index.rejoined(question) == ["时长"]
    assert index.rejoined("典型范围") == []  # no single characters in a row
    from rag.retrieve import retrieve

    assert retrieve(library, question).hits[0].chunk.chunk_id == "a:0"


def test_postings_are_a_terms_chunks_in_row_order_with_its_scores(library):
    add_document(library, "a", ["营业收入同比增长。", "净利润下降。", "营业收入和净利润。", "营业成本。"])
    index = index_of(library)
    rows, values = index.postings("营业")
    assert list(rows) == [0, 2, 3] and np.array_equal(values, index.scores(["营业"])[rows])
    assert index.doc_freq("营业") == 3 and [len(a) for a in index.postings("目标价")] == [0, 0]


def test_phrase_scores_count_chunks_holding_every_word_of_a_phrase(library):
    from rag.retrieve import _phrase_scores

    add_document(library, "a", ["Purchases of property, plant and equipment were $1.6 billion.",
                                "The plant produced equipment for property developers.",
                                "Purchases of inventory rose.", "Capital spending on equipment."])
    index = index_of(library)
    got = _phrase_scores(index, ["purchases of property, plant and equipment", "capital spending"])
    words = [index.scores([w]) for w in terms("purchases of property, plant and equipment")]
    assert got[0] == pytest.approx(np.mean([w[0] for w in words]))  # all words: their mean score
    assert got[1] == 0 and got[2] == 0  # some of the words only
    assert got[3] == pytest.approx(np.mean([index.scores([w])[3] for w in terms("capital spending")]))


def test_numbers_match_whole_whatever_their_separators(library):
    add_document(library, "n", ["营业收入为1505.60亿元", "营业收入为1,505.60亿元", "合计1,505.6亿元", "单价1505元",
                                "增长15.05%", "1,505,600 units"])
    assert terms("1,505.60 1505 1,505,600 15.05%") == ["1505.6", "1505", "1505600", "15.05"]
    assert sorted(search(library, "1,505.60")) == ["n:0", "n:1", "n:2"]  # the same value, however written
    assert search(library, "1505") == ["n:3"]


def test_index_is_loaded_when_unchanged_and_rebuilt_when_a_document_is_added(library):
    add_document(library, "a", ["Net sales rose 3.5 percent."])
    first = index_of(library)
    assert first.origin == "built" and first.chunk_ids == ("a:0",)
    assert index_of(library) is first  # cached in-process

    meta_file = first.path / "chunks.json"
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
    assert meta["fingerprint"] == library.store.fingerprint()
    assert (meta["tokenizer"], meta["chunk_ids"]) == (TOKENIZER_VERSION, ["a:0"])
    written = meta_file.stat().st_mtime_ns

    search_index.clear_cache()
    again = index_of(library)
    assert again.origin == "loaded" and again.chunk_ids == ("a:0",)
    assert meta_file.stat().st_mtime_ns == written  # read, not rewritten

    add_document(library, "b", ["Operating margin was 21 percent."])
    grown = index_of(library)
    assert grown.origin == "built" and grown.fingerprint != first.fingerprint
    assert set(grown.chunk_ids) == {"a:0", "b:0"}
    assert not first.path.exists()  # the stale folder is pruned
    assert search(library, "operating margin") == ["b:0"]


def test_deleted_document_is_gone_from_the_index(library):
    add_document(library, "a", ["Sora generates videos up to 60 seconds long."])
    add_document(library, "b", ["Gemini 1.5 Pro handles one million tokens."])
    assert search(library, "sora videos") == ["a:0"]
    library.store.delete_document("a")
    assert index_of(library).chunk_ids == ("b:0",)
    assert search(library, "sora videos") == []

    search_index.clear_cache()  # also from disk: the folder for the old fingerprint is not reused
    assert index_of(library).chunk_ids == ("b:0",)


def test_half_written_document_stays_out_until_its_record_exists(library):
    add_document(library, "done", ["Free cash flow was $5.4 billion."])
    add_document(library, "half", ["Capital expenditures were $1.6 billion."], record=False)
    assert index_of(library).chunk_ids == ("done:0",)
    assert search(library, "capital expenditures") == []
    library.store.put_document(Document(doc_id="half", source="half.pdf", path="half.pdf", pages=1, chunks=1,
                                        ingested_at="2024-04-01T00:00:00+00:00", fmt="pdf"))
    assert search(library, "capital expenditures") == ["half:0"]


def test_mask_filters_by_document_and_kind_without_chroma(library):
    add_document(library, "a", ["营业收入增长", "免责声明 营业收入"], [Kind.BODY, Kind.BOILERPLATE])
    add_document(library, "b", ["营业收入下降"])
    index = index_of(library)
    body = (Kind.BODY, Kind.FIGURE, Kind.TABLE)
    assert index.mask(None, body).tolist() == [True, False, True]
    assert index.mask({"b"}, tuple(Kind)).tolist() == [False, False, True]
    assert search(library, "营业收入", mask=index.mask({"a"}, body)) == ["a:0"]


def test_damaged_index_folder_is_rebuilt(library):
    add_document(library, "a", ["Dividends paid were $3.2 billion."])
    path = index_of(library).path
    for npy in path.glob("*.npy"):
        npy.unlink()
    search_index.clear_cache()
    rebuilt = index_of(library)
    assert rebuilt.origin == "built" and search(library, "dividends") == ["a:0"]


def test_empty_library_has_an_empty_index(library):
    index = index_of(library)
    assert len(index) == 0 and index.search(["revenue"], 10) == []


def test_dense_search_is_exact_cosine_under_the_same_mask(library):
    texts = ["Net sales rose 3.5 percent to $32.8 billion.", "The board declared a quarterly dividend.",
             "Capital expenditures were $1.6 billion in 2018.", "Sora generates videos up to 60 seconds long."]
    add_document(library, "a", texts[:2])
    add_document(library, "b", texts[2:], [Kind.BODY, Kind.BOILERPLATE])
    index = index_of(library)
    question = library.embedder.encode_one("How much did the company spend on capital expenditures?")
    stored = dict((c.chunk_id, v) for c, v in library.store.iter_chunks_with_vectors())
    expected = sorted(stored, key=lambda cid: -float(stored[cid] @ question))
    got = index.nearest(question, 4)
    assert [cid for cid, _ in got] == expected and expected[0] == "b:0"
    assert [s for _, s in got] == pytest.approx([float(stored[c] @ question) for c in expected], abs=1e-5)
    body = (Kind.BODY, Kind.FIGURE, Kind.TABLE)
    assert [cid for cid, _ in index.nearest(question, 4, index.mask(None, body))] == \
        [c for c in expected if c != "b:1"]
    assert [cid for cid, _ in index.nearest(question, 4, index.mask({"a"}, body))] == \
        [c for c in expected if c.startswith("a:")]
    assert index.nearest(question, 4, index.mask({"nobody"}, body)) == []


def test_hits_come_from_the_index_as_chroma_stores_them(library):
    add_document(library, "a", ["毛利率为35.2%。", "Dividends paid were $3.2 billion."], [Kind.TABLE, Kind.BODY])
    index = index_of(library)
    from_chroma = library.store.get_chunks(["a:1", "a:0"])
    assert index.chunks(["a:1", "missing", "a:0"]) == from_chroma
    search_index.clear_cache()
    assert index_of(library).origin == "loaded" and index_of(library).chunks(["a:1", "a:0"]) == from_chroma


def test_top_k_keeps_the_best_and_orders_ties_by_position():
    scores = np.array([0.5, 0.9, 0.5, 0.1, 0.9, 0.5], dtype=np.float32)
    assert top_k(scores, 3).tolist() == [1, 4, 0]
    assert top_k(scores, 4).tolist() == [1, 4, 0, 2]
    assert top_k(scores, 10).tolist() == [1, 4, 0, 2, 5, 3]
    assert top_k(scores, 0).tolist() == [] and top_k(np.zeros(0, dtype=np.float32), 3).tolist() == []


def test_folder_of_an_older_format_is_rebuilt(library):
    add_document(library, "a", ["Dividends paid were $3.2 billion."])
    path = index_of(library).path
    meta = json.loads((path / "chunks.json").read_text(encoding="utf-8"))
    (path / "chunks.json").write_text(json.dumps({**meta, "format": "bm25s/1"}), encoding="utf-8")
    search_index.clear_cache()
    assert index_of(library).origin == "built"
