"""The Chroma store: our own vectors, complete-only visibility, model checks."""

import numpy as np
import pytest

from rag.store import ModelMismatchError, Store
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
    best, score = store.query(library.embedder.encode_one("第一段文字内容"), 1)[0]
    assert best.chunk_id == "d1:00000" and score == pytest.approx(1.0, abs=1e-4)


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
        Store(settings, "BAAI/bge-small-zh-v1.5", 512)
    assert "all-MiniLM-L6-v2" in str(err.value) and "bge-small-zh" in str(err.value)
