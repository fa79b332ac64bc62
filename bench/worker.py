"""Steps that must run in a fresh process of their own: the llama-index baseline, and query latency.

``python -m bench.worker baseline --library DIR PATH...`` and
``python -m bench.worker query --library DIR --questions Q.jsonl... --n 200``; each prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
from collections import defaultdict
from pathlib import Path

from bench.common import cycled, load_questions, percentile, rss_mib


def baseline(library: Path, paths: list[Path]) -> dict[str, float]:
    """Construct the plain llama-index pipeline (loads its model) and build it over ``paths``."""
    from eval.baseline import Baseline
    from rag.settings import Settings

    started = time.perf_counter()
    pipeline = Baseline(Settings.load(library=library))
    init_s = time.perf_counter() - started
    t0 = time.perf_counter()
    built = pipeline.build(paths)
    build_s = time.perf_counter() - t0
    return {"init_s": round(init_s, 3), "build_s": round(build_s, 3), "nodes": built.chunks,
            "reused": built.reused, "tokens": _node_tokens(pipeline), **rss_mib()}


def _node_tokens(pipeline) -> int:  # noqa: ANN001 - eval.baseline.Baseline
    """Tokens of the node texts the pipeline embedded, cut at the model's limit (metadata header not counted)."""
    from sentence_transformers import SentenceTransformer

    from bench.ingest_bench import embedded_tokens
    from rag.embeddings import resolve_model

    texts = pipeline.client.get_collection(pipeline.collection_name).get(include=["documents"])["documents"]
    model = SentenceTransformer(resolve_model(pipeline.settings.embed_model), device="cpu")
    return embedded_tokens(model.tokenizer, texts, int(model.max_seq_length))


def query(library: Path, questions: list[str], n: int) -> dict[str, object]:
    """Search index (BM25 + vectors + chunks) build and load, then ``n`` questions through ``retrieve()`` and extractive ``answer()``."""
    from rag.answer import answer
    from rag.index import clear_cache, open_index
    from rag.library import Library
    from rag.retrieve import retrieve
    from rag.settings import Settings

    started = time.perf_counter()
    lib = Library(Settings.load(library=library))
    chunks = lib.store.chunk_count()  # opens Chroma; the model loads with the first question that needs it
    open_s = time.perf_counter() - started
    t0 = time.perf_counter()
    built = open_index(lib.store, library).origin  # "built" on a fresh library: tokenise every chunk
    index_build_s = time.perf_counter() - t0
    clear_cache()
    t0 = time.perf_counter()
    loaded = open_index(lib.store, library).origin  # "loaded": what a new process does
    index_load_s = time.perf_counter() - t0
    asked = cycled(questions, n)
    first_retrieve_ms = _seconds(lambda: retrieve(lib, asked[0], k=10)) * 1000
    first_answer_ms = _seconds(lambda: answer(asked[0], lib, mode="extractive")) * 1000
    retrieve_ms, answer_ms, laps = [], [], defaultdict(list)
    retrieve_cpu, answer_cpu = [], []  # process CPU time (all threads): barely moved by other load
    for question in asked:
        t0, c0 = time.perf_counter(), time.process_time()
        got = retrieve(lib, question, k=10)  # answer() retrieves max(top_k, 10) too
        retrieve_ms.append((time.perf_counter() - t0) * 1000)
        retrieve_cpu.append((time.process_time() - c0) * 1000)
        for name, ms in got.timings_ms.items():
            laps[name].append(ms)
    answered = 0
    for question in asked:
        t0, c0 = time.perf_counter(), time.process_time()
        result = answer(question, lib, mode="extractive")
        answer_ms.append((time.perf_counter() - t0) * 1000)
        answer_cpu.append((time.process_time() - c0) * 1000)
        answered += result.answerable
        for name, ms in result.timings_ms.items():
            laps[f"answer.{name}"].append(ms)
    return {
        "chunks": chunks, "documents": len(lib.store.documents()), "questions": len(asked),
        "distinct_questions": len(set(asked)), "answerable": answered, "open_s": round(open_s, 3),
        "index_build_s": round(index_build_s, 3), "index_load_s": round(index_load_s, 3),
        "index_origins": [built, loaded],
        "first_retrieve_ms": round(first_retrieve_ms, 1), "first_answer_ms": round(first_answer_ms, 1),
        "retrieve_p50_ms": percentile(retrieve_ms, 50), "retrieve_p95_ms": percentile(retrieve_ms, 95),
        "answer_p50_ms": percentile(answer_ms, 50), "answer_p95_ms": percentile(answer_ms, 95),
        "retrieve_cpu_p50_ms": percentile(retrieve_cpu, 50),
        "retrieve_cpu_p95_ms": percentile(retrieve_cpu, 95),
        "answer_cpu_p50_ms": percentile(answer_cpu, 50), "answer_cpu_p95_ms": percentile(answer_cpu, 95),
        "steps_mean_ms": {k: round(sum(v) / len(v), 2) for k, v in laps.items()},
        **rss_mib(),
    }


def _seconds(step) -> float:  # noqa: ANN001 - a zero-argument callable
    started = time.perf_counter()
    step()
    return time.perf_counter() - started


def main() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    logging.basicConfig(level=logging.WARNING)
    parser = argparse.ArgumentParser(prog="python -m bench.worker")
    sub = parser.add_subparsers(dest="step", required=True)
    base = sub.add_parser("baseline")
    base.add_argument("--library", type=Path, required=True)
    base.add_argument("paths", nargs="+", type=Path)
    ask = sub.add_parser("query")
    ask.add_argument("--library", type=Path, required=True)
    ask.add_argument("--questions", nargs="+", type=Path, required=True)
    ask.add_argument("--n", type=int, default=200)
    args = parser.parse_args()
    if args.step == "baseline":
        result = baseline(args.library, args.paths)
    else:
        result = query(args.library, load_questions(args.questions), args.n)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
