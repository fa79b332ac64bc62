"""Questions asked while `reportqa ingest` writes the same library from another process."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from conftest import REFERENCE_REPORT, ROOT

from rag.answer import answer
from rag.library import Library
from rag.retrieve import retrieve

REPORT = REFERENCE_REPORT.read_text(encoding="utf-8")[:9000]  # the analysis sections, ~30 chunks
QUESTIONS = ("Gemini 1.5 Pro 在生产环境中可以运行多少 token？", "Sora 可以生成多长的视频？", "第3号周报的编号是多少？")


@pytest.mark.slow
def test_questions_during_an_ingest_see_complete_documents_only(settings, embedder, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(4):
        (docs / f"weekly_{i}.md").write_text(f"# 第{i}号周报\n\n本期编号为{i}号。\n\n{REPORT}", encoding="utf-8")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    library = Library(settings, embedder=embedder)
    library.store  # the library exists before the writer starts, as it would for a running app
    proc = subprocess.Popen(
        [sys.executable, "-m", "reportqa", "ingest", str(docs), "--library", str(settings.library)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    asked, seen_docs = 0, set()
    deadline = time.monotonic() + 300
    while proc.poll() is None and time.monotonic() < deadline:
        for question in QUESTIONS:
            result = retrieve(library, question, k=10)
            reply = answer(question, library, mode="extractive")
            complete = {d.doc_id: d for d in library.store.documents()}  # records only grow during the job
            for hit in result.hits + reply.hits:
                assert hit.chunk.doc_id in complete, f"hit from an incomplete document: {hit.chunk.chunk_id}"
            assert all(c.doc_id in complete for c in reply.citations)
            seen_docs.add(len(complete))
            asked += 1
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    assert asked >= 3
    assert len(seen_docs) >= 2, "the questions never overlapped the ingest"
    final = retrieve(library, "第3号周报的编号是多少？", k=10)
    assert len(library.store.documents()) == 4 and final.hits
