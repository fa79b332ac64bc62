"""The ingestion job end to end: real files, real model, real Chroma in a temp folder."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import REFERENCE_REPORT, ROOT

from ingest.job import (
    FAILED,
    NEW,
    REPLACED,
    UNCHANGED,
    delete_document,
    embedding_text,
    file_doc_id,
    ingest_paths,
)
from rag.embeddings import sample_rows
from rag.library import Library
from rag.retrieve import retrieve

REPORT_TEXT = REFERENCE_REPORT.read_text(encoding="utf-8")


def _state(library: Library) -> tuple[list[tuple[str, str, int]], list[tuple[str, str, int, str, str]]]:
    store = library.store
    docs = [(d.doc_id, d.source, d.chunks) for d in store.documents()]
    chunks = sorted((c.chunk_id, c.doc_id, c.page, c.kind.value, c.text) for c in store.iter_chunks())
    return docs, chunks


def _write_variants(folder: Path, n: int) -> list[Path]:
    """``n`` distinct Markdown reports (the reference report with a distinct first paragraph)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        path = folder / f"report_{i}.md"
        path.write_text(f"# 第{i}号周报\n\n本期编号为{i}号。\n\n{REPORT_TEXT}", encoding="utf-8")
        paths.append(path)
    return paths


def test_reference_report_becomes_chunks_with_pages_sections_and_kinds(library):
    summary = ingest_paths(library, [REFERENCE_REPORT])
    assert summary.ok and summary.count(NEW) == 1
    chunks = list(library.store.iter_chunks())
    assert len(chunks) == summary.chunks == library.store.chunk_count()
    assert {c.page for c in chunks} == {1}
    assert sorted(c.ordinal for c in chunks) == list(range(len(chunks)))
    doc = library.store.documents()[0]
    assert doc.meta["publisher"] == "国联证券"
    assert all(c.meta == doc.meta for c in chunks)
    research = next(c for c in chunks if "过去的研究中" in c.text)
    assert research.section.endswith("1.2 Sora 采用了扩散模型结合 transformer")
    assert all(c.kind.value == "boilerplate" for c in chunks if "一般声明" in c.section)


def test_a_report_the_model_cannot_read_is_embedded_as_far_as_it_reads(library, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "en.md").write_text("# Quarterly note\n\n" + "Revenue grew 12% to $1,505.6 million on cloud demand. " * 40,
                                encoding="utf-8")
    (docs / "zh.md").write_text(REPORT_TEXT, encoding="utf-8")
    assert ingest_paths(library, [docs]).count(NEW) == 2
    embedder = library.embedder
    stored = {c.chunk_id: (c, v) for c, v in library.store.iter_chunks_with_vectors()}
    by_source: dict[str, list] = {}
    for chunk, vector in sorted(stored.values(), key=lambda cv: cv[0].chunk_id):
        by_source.setdefault(chunk.source, []).append((chunk, vector))
    for source, pairs in by_source.items():
        texts = [embedding_text(c) for c, _ in pairs]
        reads = embedder.reads([pairs[i][0].text for i in sample_rows(len(pairs))])
        assert reads == (source == "en.md")  # the bundled model maps most Chinese characters to [UNK]
        expected = embedder.encode(texts if reads else embedder.readable_part(texts))
        assert np.abs(np.stack([v for _, v in pairs]) - expected).max() < 1e-4
    zh_texts = [embedding_text(c) for c, _ in by_source["zh.md"]]
    assert sum(embedder.token_counts(embedder.readable_part(zh_texts))) < sum(embedder.token_counts(zh_texts)) / 2
    hit = retrieve(library, "Sora 可以生成多长的视频？", k=3).hits[0]  # BM25 finds it as before
    assert hit.chunk.source == "zh.md" and "60" in hit.chunk.text


def test_rerun_does_no_embedding_work_and_changes_nothing(library, tmp_path):
    _write_variants(tmp_path / "docs", 2)
    first = ingest_paths(library, [tmp_path / "docs"])
    state = _state(library)
    second = ingest_paths(library, [tmp_path / "docs"])
    assert first.count(NEW) == 2 and first.embedded == first.chunks > 0
    assert second.count(UNCHANGED) == 2 and second.embedded == 0
    assert _state(library) == state


def test_changed_file_replaces_its_old_chunks(library, tmp_path):
    path = _write_variants(tmp_path / "docs", 1)[0]
    ingest_paths(library, [path])
    old_id = library.store.documents()[0].doc_id
    path.write_text("# 更新后的周报\n\n营业收入为1,505.60亿元，同比增长87%。\n", encoding="utf-8")
    summary = ingest_paths(library, [path])
    assert [r.status for r in summary.results] == [REPLACED]
    docs = library.store.documents()
    assert len(docs) == 1 and docs[0].doc_id != old_id
    texts = [c.text for c in library.store.iter_chunks()]
    assert len(texts) == docs[0].chunks and any("1,505.60" in t for t in texts)
    assert all(c.doc_id == docs[0].doc_id for c in library.store.iter_chunks())


def test_prune_and_delete(library, tmp_path):
    a, b, c = _write_variants(tmp_path / "docs", 3)
    ingest_paths(library, [tmp_path / "docs"])
    b.unlink()
    summary = ingest_paths(library, [tmp_path / "docs"], prune=True)
    assert summary.count("deleted") == 1
    assert sorted(d.source for d in library.store.documents()) == ["report_0.md", "report_2.md"]
    removed = delete_document(library, "report_2.md")
    assert removed.source == "report_2.md"
    assert {ch.doc_id for ch in library.store.iter_chunks()} == {library.store.documents()[0].doc_id}
    with pytest.raises(LookupError, match="no document matches"):
        delete_document(library, "report_9.md")


def test_library_listing_reads_the_manifest_without_chromadb(library, tmp_path):
    _write_variants(tmp_path / "docs", 2)
    ingest_paths(library, [tmp_path / "docs"])
    delete_document(library, "report_0.md")
    listing = ("from reportqa.cli import main; import json, sys; "
               "main(['library', '--json', '--library', sys.argv[1]]); "
               "print(json.dumps('chromadb' in sys.modules))")
    done = subprocess.run([sys.executable, "-c", listing, str(library.settings.library)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    *rows, imported = done.stdout.strip().splitlines()
    listed = [json.loads(row) for row in rows]
    assert [d["source"] for d in listed] == ["report_1.md"] and imported == "false"
    assert listed[0]["doc_id"] == library.store.documents()[0].doc_id


def test_bad_files_get_one_line_each_and_the_job_goes_on(library, tmp_path):
    good = _write_variants(tmp_path / "docs", 1)[0]
    (tmp_path / "docs" / "empty.pdf").write_bytes(b"")
    (tmp_path / "docs" / "binary.pdf").write_bytes(os.urandom(4096))
    (tmp_path / "docs" / "notes.docx").write_bytes(b"PK\x03\x04")
    summary = ingest_paths(library, [tmp_path / "docs", tmp_path / "missing", tmp_path / "docs" / "notes.docx"])
    failed = {Path(r.path).name: r.reason for r in summary.results if r.status == FAILED}
    assert set(failed) == {"empty.pdf", "binary.pdf", "missing", "notes.docx"}
    assert all(reason and "\n" not in reason for reason in failed.values())
    assert not summary.ok and summary.count(NEW) == 1
    assert [d.source for d in library.store.documents()] == [good.name]


def _run_cli(*args: str) -> subprocess.Popen:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "reportqa", *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True,
    )


# A real `reportqa ingest` process that SIGKILLs itself at a chosen moment, the same on every machine: each
# file its own group, the first file complete, the second file's chunks and tables written, its record not.
_KILLED_MID_WRITE = r"""
import os, signal, sys
import ingest.job
from rag.store import Store
from reportqa.cli import main

ingest.job.GROUP_CHUNKS = 1
put_documents = Store.put_documents

def die_before_the_second_record(self, docs):
    if self.documents():
        os.kill(os.getpid(), signal.SIGKILL)
    put_documents(self, docs)

Store.put_documents = die_before_the_second_record
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.slow
def test_kill_9_mid_ingest_then_rerun_equals_a_clean_run(settings, embedder, tmp_path):
    docs = tmp_path / "docs"
    first, second, *_ = _write_variants(docs, 6)
    killed_lib, clean_lib = tmp_path / "killed", tmp_path / "clean"

    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    killed = subprocess.run([sys.executable, "-c", _KILLED_MID_WRITE, "ingest", str(docs), "--library",
                             str(killed_lib)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    interrupted = Library(settings.with_(library=killed_lib), embedder=embedder).store
    assert [d.source for d in interrupted.documents()] == [first.name]
    assert interrupted.unfinished() == [file_doc_id(second.read_bytes())]
    assert interrupted.chunk_count() > interrupted.documents()[0].chunks  # the half-written document's chunks
    del interrupted

    rerun = _run_cli("ingest", str(docs), "--library", str(killed_lib))
    out, _ = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, out
    clean = _run_cli("ingest", str(docs), "--library", str(clean_lib))
    out, _ = clean.communicate(timeout=300)
    assert clean.returncode == 0, out

    killed_state = _state(Library(settings.with_(library=killed_lib), embedder=embedder))
    clean_state = _state(Library(settings.with_(library=clean_lib), embedder=embedder))
    assert len(killed_state[0]) == 6
    assert killed_state == clean_state


def test_a_job_that_changes_the_library_builds_its_search_index(library, tmp_path):
    import shutil

    from rag.index import clear_cache, index_dir

    def built() -> bool:
        path = index_dir(library.settings.library, library.settings.collection, library.store.fingerprint())
        return (path / "chunks.json").is_file()

    first, second = _write_variants(tmp_path / "docs", 2)
    ingest_paths(library, [first])
    assert built()  # on disk: a new process's first question loads it instead of building it
    shutil.rmtree(library.settings.library / "bm25")
    clear_cache()
    ingest_paths(library, [first])  # nothing changed: no index work
    assert not built()
    ingest_paths(library, [second], build_index=False)
    assert not built()
    ingest_paths(library, [first, second], prune=True)  # nothing changed either
    assert not built()
    delete_document(library, second.name)
    ingest_paths(library, [second])
    assert built()


def test_progress_events_tell_file_pages_and_chunks(library, tmp_path):
    paths = _write_variants(tmp_path / "docs", 2)
    events = []
    summary = ingest_paths(library, [tmp_path / "docs"], progress=events.append)
    stages = [(e.stage, Path(e.current).name, e.result.status if e.result else "") for e in events]
    assert stages[0] == ("reading", "report_0.md", "") and stages[-1] == ("indexing", "", "")
    assert ("", "report_1.md", "new") in stages
    # two short reports are embedded together: the events name the first and count both reports' chunks
    batches = [e for e in events if e.stage == "embedding"]
    chunks = summary.results[0].chunks + summary.results[1].chunks
    assert {e.current for e in batches} == {f"{paths[0]} + 1 more"}
    assert batches[0].file_chunks_done == 0 and batches[-1].file_chunks_done == chunks
    assert all(e.pages == 2 and e.file_chunks == chunks and e.files_done == 0 for e in batches)
    assert batches[-1].chunks_embedded == summary.embedded  # the whole job's count
    done = [(e.files_done, Path(e.current).name) for e in events if e.result is not None]
    assert done == [(1, "report_0.md"), (2, "report_1.md")]
