"""kill -9 at 20 random moments of a real multi-file ingest, then one complete run: the library must equal a
clean run (document ids, chunk ids, chunk texts and pages, counts) and BM25 must agree with Chroma.

Each killed run is a separate OS process executing ``reportqa.cli.main(["ingest", ...])`` (what ``python -m reportqa
ingest`` runs), SIGKILLed at a random moment: either a random time after it starts (start-up, leftover
clean-up, model loading) or a random delay after its n-th per-file progress line (mid-write). The processes
are forked from a driver that has already imported torch, sentence-transformers and chromadb, because a fresh
interpreter spends ~5-15 s on those imports on two cores and twenty of them would not fit the test's time;
the driver itself never opens the model or Chroma, so nothing half-initialised is inherited. Between runs
some files are rewritten, so kills also land in replacements. The final run is a real
``python -m reportqa ingest`` subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from ingest.job import ingest_paths
from rag.index import open_index, terms
from rag.library import Library

KILLS = 20
FILES = 24
CODEWORDS = ("aurora", "basalt", "cobalt", "dynamo", "ember", "fjord", "glacier", "harbor", "indigo",
             "jasper", "kelvin", "lagoon", "meteor", "nebula", "obsidian", "prairie", "quartz", "rapids",
             "sierra", "tundra", "umbra", "vortex", "willow", "xenon")

_DRIVER = r"""
import json, os, random, select, signal, sys, time
os.environ.setdefault("HF_HUB_OFFLINE", "1"); os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
import reportqa.cli, ingest.job, rag.library, rag.store, chromadb, sentence_transformers  # once, before forking
from rag.text import tokenize
tokenize("预热 jieba")  # load jieba's dictionary once too
docs, library, kills, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
rng = random.Random(seed)
sys.path.insert(0, os.path.join(os.getcwd(), "tests"))
from test_crash_loop import rewrite

def run_once(rule):
    read_end, write_end = os.pipe()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:  # the child: the CLI's ingest command, its output to the pipe
        os.close(read_end); os.dup2(write_end, 1); os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
        code = reportqa.cli.main(["ingest", docs, "--library", library])
        sys.stdout.flush(); os._exit(code)
    os.close(write_end)
    lines, buffer, deadline = 0, b"", None
    kind, value = rule
    if kind == "time":
        deadline = started + value
    while True:
        timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
        ready, _, _ = select.select([read_end], [], [], timeout)
        if not ready:  # the moment has come
            os.kill(pid, signal.SIGKILL)
            break
        chunk = os.read(read_end, 4096)
        if not chunk:
            break  # the run finished before its moment
        buffer += chunk
        lines = buffer.count(b"\n")
        if kind == "lines" and deadline is None and lines >= value[0]:
            deadline = time.monotonic() + value[1]
    _, status = os.waitpid(pid, 0)
    os.close(read_end)
    finished = b" files: " in buffer  # the summary was out: a kill in the exit that follows stops no work
    killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL and not finished
    seconds = round(time.monotonic() - started, 2)
    return {"rule": [kind, value], "killed": killed, "lines": lines, "seconds": seconds, "finished": finished}

log = []
# A run that finishes before its moment is not a kill; on a fast machine many do, so allow more runs.
while sum(r["killed"] for r in log) < kills and len(log) < 8 * kills:
    if rng.random() < 0.3 or (log and log[-1]["finished"]):
        rewrite(docs, rng)  # changed files: the next run replaces them (and has work to be killed in)
    # A run with work takes about a second here; a moment past its end kills nothing. Until one run has been
    # killed by time, half the runs from the tenth kill on are timed ones.
    timed = any(r["killed"] and r["rule"][0] == "time" for r in log)
    if rng.random() < (0.25 if timed or sum(r["killed"] for r in log) < kills // 2 else 0.5):
        rule = ("time", round(rng.uniform(0.0, 1.5), 2))
    else:
        rule = ("lines", (rng.randint(1, 3), round(rng.uniform(0.0, 0.3), 2)))
    log.append(run_once(rule))
print(json.dumps(log))
"""


def report(i: int, version: int = 0) -> str:
    """A small report with its own code word, a few paragraphs so it makes several chunks."""
    word = CODEWORDS[i]
    body = "\n\n".join(
        f"## 第{s}节 {word} 业务\n\n{word} 事业部第{s}季度营业收入为{100 + i * 7 + s}.{version}亿元，同比增长{i + s}%。"
        f" Segment {word} revenue in quarter {s} was {1000 + i * 13 + s:,} million, version {version}."
        for s in range(1, 5)
    )
    return f"# 报告 {i}: {word}\n\n{body}\n"


def rewrite(docs: str, rng) -> None:  # random.Random; called by the driver between runs
    """Give four random files new content (their old documents must be replaced, never duplicated)."""
    for i in rng.sample(range(FILES), 4):
        path = Path(docs) / f"report_{i:02d}.md"
        version = int(path.read_text(encoding="utf-8").split("version ")[1].split(".")[0]) + 1
        path.write_text(report(i, version), encoding="utf-8")


def _state(library: Library):
    store = library.store
    docs = sorted((d.doc_id, d.source, d.pages, d.chunks) for d in store.documents())
    chunks = sorted((c.chunk_id, c.doc_id, c.page, c.page_end, c.kind.value, c.text)
                    for c in store.iter_chunks())
    return docs, chunks


@pytest.mark.slow
def test_twenty_kills_then_a_complete_run_equal_a_clean_run(settings, embedder, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(FILES):
        (docs / f"report_{i:02d}.md").write_text(report(i), encoding="utf-8")
    killed_dir, clean_dir = tmp_path / "killed", tmp_path / "clean"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}

    command = [sys.executable, "-c", _DRIVER, str(docs), str(killed_dir), str(KILLS), "20240208"]
    driver = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert driver.returncode == 0, driver.stderr[-3000:]
    log = json.loads(driver.stdout.strip().splitlines()[-1])
    kills = [run for run in log if run["killed"]]
    assert len(kills) == KILLS, log
    assert any(run["rule"][0] == "time" for run in kills) and any(run["lines"] for run in kills)

    final = subprocess.run([sys.executable, "-m", "reportqa", "ingest", str(docs), "--library", str(killed_dir)],
                           cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert final.returncode == 0, final.stdout + final.stderr
    clean_library = Library(settings.with_(library=clean_dir), embedder=embedder)
    assert ingest_paths(clean_library, [docs]).ok
    killed_library = Library(settings.with_(library=killed_dir), embedder=embedder)

    killed_state, clean_state = _state(killed_library), _state(clean_library)
    assert len(killed_state[0]) == FILES
    assert killed_state == clean_state
    store = killed_library.store
    assert store.unfinished() == []
    assert store.chunk_count() == sum(d.chunks for d in store.documents()) == len(clean_state[1])

    _assert_bm25_matches_chroma(killed_library, clean_library)


def _assert_bm25_matches_chroma(killed: Library, clean: Library) -> None:
    """BM25 is derived from Chroma: it indexes exactly the complete documents' chunks, and ranks alike."""
    killed_index = open_index(killed.store, killed.settings.library)
    clean_index = open_index(clean.store, clean.settings.library)
    assert sorted(killed_index.chunk_ids) == sorted(c.chunk_id for c in killed.store.iter_chunks())
    assert killed_index.chunk_ids == clean_index.chunk_ids
    for i, word in enumerate(CODEWORDS):
        query = terms(f"{word} 营业收入")
        hits = killed_index.search(query, k=4)
        assert hits == clean_index.search(query, k=4)
        (doc,) = [d for d in killed.store.documents() if d.source == f"report_{i:02d}.md"]
        assert hits and all(chunk_id.startswith(doc.doc_id) for chunk_id, _ in hits)
