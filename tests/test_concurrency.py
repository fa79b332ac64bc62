"""Questions asked while `reportqa ingest` writes the same library from another process.

The writer is a real `reportqa ingest` process that stops at a fixed point of every file — its chunks
written to Chroma, its record not yet — until the test has asked its questions there. So the questions
overlap the ingest at the moment that matters (chunks of an incomplete document in the store) on every
machine, however fast or loaded, instead of when the timing happens to allow it.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import REFERENCE_REPORT, ROOT

from ingest.job import file_doc_id
from rag.answer import answer
from rag.library import Library
from rag.retrieve import retrieve

REPORT = REFERENCE_REPORT.read_text(encoding="utf-8")[:9000]  # the analysis sections, ~30 chunks
QUESTIONS = ("Gemini 1.5 Pro 在生产环境中可以运行多少 token？", "Sora 可以生成多长的视频？", "第3号周报的编号是多少？")
FILES = 4

# `reportqa ingest` that, once a document's chunks are written, says so on stdout and waits for a line
# on stdin before writing the document's record (which makes it visible); each file is its own group.
_WRITER = r"""
import sys
import ingest.job
from rag.store import Store
from reportqa.cli import main

ingest.job.GROUP_CHUNKS = 1
put_documents = Store.put_documents

def put_when_told(self, docs):
    print("written", *(doc.doc_id for doc in docs), flush=True)
    if not sys.stdin.readline():
        raise SystemExit("the test went away")
    put_documents(self, docs)

Store.put_documents = put_when_told
sys.exit(main(sys.argv[1:]))
"""


def _ask(library: Library, pending: str) -> int:
    """Ask every question; no hit or citation may come from an incomplete document. The number of
    complete documents seen."""
    for question in QUESTIONS:
        result = retrieve(library, question, k=10)
        reply = answer(question, library, mode="extractive")
        complete = {d.doc_id for d in library.store.documents()}
        assert pending not in complete
        for hit in result.hits + reply.hits:
            assert hit.chunk.doc_id in complete, f"hit from an incomplete document: {hit.chunk.chunk_id}"
        assert all(c.doc_id in complete for c in reply.citations)
    return len(complete)


@pytest.mark.slow
def test_questions_during_an_ingest_see_complete_documents_only(settings, embedder, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    ids = []
    for i in range(FILES):
        path = docs / f"weekly_{i}.md"
        path.write_text(f"# 第{i}号周报\n\n本期编号为{i}号。\n\n{REPORT}", encoding="utf-8")
        ids.append(file_doc_id(path.read_bytes()))
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    library = Library(settings, embedder=embedder)
    library.store  # noqa: B018 - the property creates the store: the library exists before the writer starts, as it would for a running app
    log = (tmp_path / "writer.log").open("w")
    writer = subprocess.Popen(
        [sys.executable, "-c", _WRITER, "ingest", str(docs), "--library", str(settings.library)],
        cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True,
    )
    assert writer.stdin is not None and writer.stdout is not None
    seen = []
    try:
        for line in writer.stdout:
            if not line.startswith("written "):
                continue  # the job's own result lines
            _, pending = line.split()
            assert pending == ids[len(seen)]  # files are written in order, one at a time
            seen.append(_ask(library, pending))
            writer.stdin.write("\n")
            writer.stdin.flush()
        assert writer.wait(timeout=120) == 0, (tmp_path / "writer.log").read_text()
    finally:
        writer.kill()
        log.close()
    assert seen == list(range(FILES))  # asked at every step of the job: 0, 1, 2 and 3 documents complete
    final = retrieve(library, "第3号周报的编号是多少？", k=10)
    assert len(library.store.documents()) == FILES and final.hits
