"""The Chroma store: our own vectors, complete-only visibility, model checks."""

import numpy as np
import pytest

from rag.store import ModelMismatchError, Store, manifest_path, read_manifest
from rag.tables import Cell, Row, Table
from rag.types import Chunk, Document, Kind


def _chunk(doc_id: str, i: int, text: str, page: int = 1) -> Chunk:
    return Chunk(
        chunk_id=f"{doc_id}:{i:05d}", doc_id=doc_id, ordinal=i, text=text, source=f"{doc_id}.md", page=page,
        page_end=page + 1, section="1. 概览", kind=Kind.TABLE, page_starts=((0, page), (5, page + 1)),
        meta={"publisher": "国联证券", "title": "标题"},
    )


def _doc(doc_id: str, chunks: int) -> Document:
    return Document(doc_id, f"{doc_id}.md", f"/x/{doc_id}.md", 2, chunks, "2026-01-01T00:00:00+00:00", "md",
                    meta={"publisher": "国联证券"})


def test_chunks_round_trip_and_visibility(library):
    store = library.store
    chunks = [_chunk("d1", 0, "第一段文字内容"), _chunk("d1", 1, "第二段文字内容")]
    store.begin_document("d1")
    store.add_chunks(chunks, library.embedder.encode([c.text for c in chunks]))
    assert store.documents() == [] and store.unfinished() == ["d1"]
    store.put_document(_doc("d1", 2))
    assert [d.doc_id for d in store.documents()] == ["d1"] and store.unfinished() == []
    got = store.get_chunks(["d1:00001", "d1:00000"])
    assert got == [chunks[1], chunks[0]]
    assert got[0].meta == {"publisher": "国联证券", "title": "标题"}
    assert got[0].page_at(0) == 1 and got[0].page_at(7) == 2
    stored = dict((c.chunk_id, v) for c, v in store.iter_chunks_with_vectors())
    assert stored["d1:00000"] @ library.embedder.encode_one("第一段文字内容") == pytest.approx(1.0, abs=1e-4)


def test_chunks_at_reads_the_ordinals_of_one_document_in_the_order_asked(library):
    store = library.store
    texts = {doc_id: [f"{doc_id} passage {i}" for i in range(4)] for doc_id in ("d1", "d2")}
    for doc_id, parts in texts.items():  # the same ordinals in two documents: only the one asked comes back
        store.begin_document(doc_id)
        chunks = [_chunk(doc_id, i, text) for i, text in enumerate(parts)]
        store.add_chunks(chunks, library.embedder.encode(parts))
        store.put_document(_doc(doc_id, len(parts)))
    got = store.chunks_at("d2", [3, 1, 1, 7, -1])  # repeats once; ordinals the document lacks are left out
    assert [(c.doc_id, c.ordinal, c.text) for c in got] == [("d2", 3, "d2 passage 3"),
                                                            ("d2", 1, "d2 passage 1")]
    assert got[0] == _chunk("d2", 3, "d2 passage 3")  # the whole chunk, metadata included
    assert store.chunks_at("d1", []) == [] and store.chunks_at("missing", [0]) == []


def test_delete_document_removes_chunks_and_changes_fingerprint(library):
    store = library.store
    for doc_id in ("a1", "b2"):
        store.add_chunks([_chunk(doc_id, 0, f"text of {doc_id}")], library.embedder.encode([f"text of {doc_id}"]))
        store.put_document(_doc(doc_id, 1))
    before = store.fingerprint()
    store.delete_document("a1")
    assert store.fingerprint() != before
    assert [c.doc_id for c in store.iter_chunks()] == ["b2"]
    assert store.document("a1") is None and store.unfinished() == []


def test_opening_with_another_model_is_a_clear_error(library, settings):
    library.store.add_chunks([_chunk("a1", 0, "x")], np.ones((1, 384), dtype=np.float32) / np.sqrt(384))
    with pytest.raises(ModelMismatchError, match="--rebuild") as err:
        Store(settings, "BAAI/bge-small-zh-v1.5")
    assert "all-MiniLM-L6-v2" in str(err.value) and "bge-small-zh" in str(err.value)


def test_document_list_is_read_again_only_after_a_change(library, settings):
    store = library.store
    store.put_document(_doc("a1", 1))
    first = store.version()
    assert first and [d.doc_id for d in store.documents()] == ["a1"]
    assert store.documents() == store.documents() and store.version() == first  # reading changes nothing

    other = Store(settings, store.model)  # another writer of the same library
    other.put_document(_doc("b2", 1))
    assert store.version() != first and [d.doc_id for d in store.documents()] == ["a1", "b2"]
    other.delete_document("a1")
    assert [d.doc_id for d in store.documents()] == ["b2"] and store.fingerprint() == store.version()
    store.begin_document("c3")  # a half-written document changes nothing visible
    assert store.unfinished() == ["c3"] and [d.doc_id for d in store.documents()] == ["b2"]


def test_one_version_reads_the_version_once_and_sees_changes_after_the_block(library, settings):
    store = library.store
    store.put_document(_doc("a1", 1))
    reads = []
    chroma_get = store.docs.get
    store.docs.get = lambda **kw: reads.append(kw.get("ids")) or chroma_get(**kw)
    other = Store(settings, store.model)  # another writer of the same library
    with store.one_version():
        pinned = store.version()
        with store.one_version():  # nested: the outer block's version holds
            assert [d.doc_id for d in store.documents()] == ["a1"]
        other.put_document(_doc("b2", 1))
        assert store.version() == store.fingerprint() == pinned
    assert sum(ids == ["__version__"] for ids in reads) == 1
    assert store.version() != pinned and [d.doc_id for d in store.documents()] == ["a1", "b2"]


def test_manifest_lists_the_complete_documents_for_listings(library, settings):
    store = library.store
    assert read_manifest(settings) is None  # nothing written yet: listings open Chroma
    store.put_document(_doc("a1", 1))
    store.put_document(_doc("b2", 3))
    store.begin_document("c3")
    assert read_manifest(settings) == store.documents()
    assert read_manifest(settings)[0].meta == {"publisher": "国联证券"}
    store.delete_document("a1")
    assert [d.doc_id for d in read_manifest(settings)] == ["b2"]
    assert read_manifest(settings.with_(chroma_url="http://127.0.0.1:9")) is None  # others write a server
    manifest_path(settings).write_text("{not json", encoding="utf-8")
    assert read_manifest(settings) is None
    store.reset()
    assert not manifest_path(settings).exists()


def test_reset_empties_the_library_and_keeps_working(library, settings):
    store = library.store
    store.add_chunks([_chunk("a1", 0, "x")], library.embedder.encode(["x"]))
    store.put_document(_doc("a1", 1))
    store.reset()
    assert store.documents() == [] and store.chunk_count() == 0 and not manifest_path(settings).exists()
    store.add_chunks([_chunk("b2", 0, "y")], library.embedder.encode(["y"]))  # the new collections
    store.put_document(_doc("b2", 1))
    assert [d.doc_id for d in Store(settings, store.model).documents()] == ["b2"]


def test_reset_on_open_re_indexes_a_library_built_with_another_model(library, settings):
    library.store.add_chunks([_chunk("a1", 0, "x")], library.embedder.encode(["x"]))
    library.store.put_document(_doc("a1", 1))
    other = Store(settings, "BAAI/bge-small-zh-v1.5", reset=True)
    assert other.documents() == [] and other.chunks.metadata["embed_model"] == "BAAI/bge-small-zh-v1.5"
    with pytest.raises(ModelMismatchError):
        Store(settings, library.store.model)



def test_tables_of_several_documents_written_at_once_stay_each_documents(library):
    def table(doc_id: str, page: int) -> Table:
        row = Row("营业收入", (Cell("1,505.60", 1505.6, "2024A", "2024A"),), "营业收入 1,505.60")
        return Table(doc_id, f"{doc_id}.pdf", page, f"第{page}页的表", "", "亿元", 1e8, ("2024A",), ("2024A",), (row,))

    store = library.store
    store.add_tables([table("a", 3), table("b", 1), table("a", 7)])
    assert [t.page for t in store.tables("a")] == [3, 7]
    assert [t.page for t in store.tables("b")] == [1]
    assert store.tables("a")[1].rows[0].cells[0].value == 1505.6
