"""Chroma server mode: a real ``chroma run`` on 127.0.0.1 holds the library; ingest, retrieve (BM25 included)
and answer against it, restart the server, and ask again."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import REFERENCE_REPORT

from ingest.job import NEW, UNCHANGED, ingest_paths
from rag.library import Library
from rag.retrieve import retrieve
from rag.store import NoLibraryError, require_library

FILING = ("# Northwind Tools 10-K 2024\n\nItem 7. Management's Discussion and Analysis\n\n"
          "Net sales were $8,412 million in fiscal 2024. Purchases of property, plant and equipment were "
          "$1,577 million. The effective tax rate was 19.8%.\n")
QUESTION = "美国时间哪一天 OpenAI 发布了 Sora？"
DATE = "2024年2月15日"  # the report writes "2024 年 2 月 15 日"; cleaning closes the layout spaces


def _chroma_command() -> str:
    beside = Path(sys.executable).with_name("chroma")
    found = str(beside) if beside.exists() else shutil.which("chroma")
    if not found:
        pytest.skip("the chroma CLI (from the chromadb package) is not on PATH")
    return found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start(data: Path, port: int) -> subprocess.Popen:
    """Start ``chroma run`` and wait for its heartbeat (it answers in about a second)."""
    server = subprocess.Popen([_chroma_command(), "run", "--path", str(data), "--host", "127.0.0.1", "--port",
                               str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"chroma run exited: {server.stderr.read().decode()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1) as response:
                if response.status == 200:
                    return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise AssertionError("chroma run did not answer its heartbeat within 60 s")


def _stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def _ask(library: Library):
    """Retrieval (dense + BM25) and, where the answering module exists, the cited answer."""
    found = retrieve(library, QUESTION, k=5)
    top = [(hit.chunk.chunk_id, hit.ranks.get("bm25")) for hit in found.hits]
    try:
        from rag.answer import answer
    except ImportError:
        return top, None
    result = answer(QUESTION, library, mode="extractive")
    return top, (result.text, tuple((c.chunk_id, c.page, c.quote) for c in result.citations))


@pytest.mark.slow
def test_ingest_and_ask_against_a_chroma_server_across_a_restart(settings, embedder, tmp_path):
    data, port = tmp_path / "chroma-server", _free_port()
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(REFERENCE_REPORT, docs / REFERENCE_REPORT.name)
    (docs / "northwind_10k.md").write_text(FILING, encoding="utf-8")
    url = f"http://127.0.0.1:{port}"
    served = settings.with_(chroma_url=url)
    server = _start(data, port)
    try:
        with pytest.raises(NoLibraryError, match=f"`reportqa ingest PATH --chroma-url {url}`"):
            require_library(served)  # a server without the library: only ingest creates it
        library = Library(served, embedder=embedder)
        summary = ingest_paths(library, [docs])
        assert summary.ok and summary.count(NEW) == 2
        assert not (settings.library / "chroma").exists()  # nothing went to an embedded store
        top, answered = _ask(library)
        best = library.store.get_chunks([top[0][0]])[0]
        assert DATE in best.text and top[0][1] is not None  # the date's passage comes first, BM25 took part
        if answered is not None:
            assert DATE in "".join(answered[0].split()) and answered[1]

        _stop(server)
        server = _start(data, port)
        again = Library(served, embedder=embedder)  # a new client, as a new process would make
        assert _ask(again) == (top, answered)
        rerun = ingest_paths(again, [docs])
        assert rerun.count(UNCHANGED) == 2 and rerun.embedded == 0
        assert again.store.chunk_count() == summary.chunks
        require_library(served)
    finally:
        _stop(server)
