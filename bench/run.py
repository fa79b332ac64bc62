"""Run the benchmark and write its results as JSON (and a Markdown table).

    python -m bench.run --work /tmp/reportqa-bench --out /tmp/reportqa-bench.json --markdown /tmp/table.md

Steps, each after waiting for a quiet machine (1-minute load average below ``--load-threshold``):
bare extraction (pypdf, pypdfium2) → `reportqa ingest` → bare encoding of its chunk texts → the
llama-index baseline → unchanged re-ingest → cold starts → query latency at each ``--sizes``.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python bench/run.py` as well as `python -m bench.run`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import ingest_bench, scale, startup
from bench.common import (
    DEFAULT_PATHS,
    DEFAULT_QUESTIONS,
    ROOT,
    Quiet,
    load_avg,
    load_questions,
    machine,
    run_timed,
    wait_quiet,
)
from bench.report import markdown, targets

log = logging.getLogger("bench")
_MARKER = ".reportqa-bench"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/reportqa-bench"), help="libraries go here")
    parser.add_argument("--out", type=Path, required=True, help="results JSON")
    parser.add_argument("--markdown", type=Path, help="also write the results table as Markdown")
    parser.add_argument("--paths", type=Path, nargs="+", default=list(DEFAULT_PATHS), help="files to ingest")
    parser.add_argument("--questions", type=Path, nargs="+", default=list(DEFAULT_QUESTIONS), help="JSONL")
    parser.add_argument("--sizes", default="1000,10000,100000", help="library sizes in chunks")
    parser.add_argument("--n-questions", type=int, default=200, help="questions per library size (cycled)")
    parser.add_argument("--repeats", type=int, default=5, help="runs per cold-start command")
    parser.add_argument("--ingest-repeats", type=int, default=2,
                        help="ingest + bare encode pairs, alternating (the fastest of each is kept)")
    parser.add_argument("--load-threshold", type=float, default=1.5)
    parser.add_argument("--max-wait", type=float, default=600.0, help="seconds to wait for a quiet machine")
    parser.add_argument("--poll", type=float, default=30.0)
    return parser.parse_args(argv)


def fresh_work_dir(work: Path) -> Path:
    """An empty folder for the libraries; only a folder this script made earlier is ever deleted."""
    work = work.resolve()
    if work == ROOT or ROOT in work.parents:
        raise SystemExit(f"--work {work} is inside the repository; put libraries under /tmp")
    if work.exists():
        if not (work / _MARKER).exists() and any(work.iterdir()):
            raise SystemExit(f"--work {work} exists and was not made by this script; choose another folder")
        shutil.rmtree(work)
    work.mkdir(parents=True)
    (work / _MARKER).write_text("made by bench/run.py\n")
    return work


def step(results: dict, name: str, quiet: Quiet, func: Callable[..., Any], *args: Any) -> Any:
    """Wait for a quiet machine, run one step, record it with the load averages around it."""
    settle = wait_quiet(quiet, name)
    value = func(*args)
    results["load"][name] = {**settle, "load_after": load_avg()}
    results[name] = value
    log.info("%s: %s", name, json.dumps(value, ensure_ascii=False)[:400])
    return value


def run(args: argparse.Namespace) -> dict:
    """All steps in one process run; returns the results (also written to ``--out``)."""
    work = fresh_work_dir(args.work)
    quiet = Quiet(args.load_threshold, args.max_wait, args.poll)
    library = work / "ingest"
    files = ingest_bench.job_files(args.paths)
    results: dict = {"machine": machine(), "command": " ".join(sys.argv), "load": {},
                     "paths": [str(p) for p in args.paths], "files": [str(f) for f in files]}
    started = time.perf_counter()
    step(results, "extract_pypdf", quiet, ingest_bench.extract_pypdf, files)
    step(results, "extract_pypdfium2", quiet, ingest_bench.extract_pdfium, files)
    texts: list[str] = []
    threads = ingest_bench.torch_threads_in_fresh_process()
    for attempt in range(args.ingest_repeats):  # alternating, so that a burst of other load spoils one pair
        suffix = f"_{attempt + 1}" if attempt else ""
        step(results, f"ingest{suffix}", quiet, ingest_bench.ingest_cli, args.paths, work / f"ingest{suffix}")
        texts = texts or ingest_bench.chunk_texts(library)
        step(results, f"encode{suffix}", quiet, ingest_bench.bare_encode, texts, _embed_batch(), threads)
    keep_fastest(results, "ingest", args.ingest_repeats)
    keep_fastest(results, "encode", args.ingest_repeats)
    step(results, "baseline", quiet, ingest_bench.baseline, args.paths, work / "baseline")
    step(results, "reingest", quiet, ingest_bench.ingest_cli, args.paths, library)
    questions = load_questions(args.questions)
    step(results, "startup", quiet, startup.cold_starts, library, questions[0], _unread(questions), args.repeats)
    source = scale.read_source(library)
    results["query"] = {}
    for size in (int(s) for s in args.sizes.split(",")):
        target = work / f"scale-{size}"
        built = scale.build(source, target, size)
        measured = step(results, f"query_{size}", quiet, _query, target, args.questions, args.n_questions)
        results["query"][str(size)] = {**built, **measured}
        del results[f"query_{size}"]
    results["total_s"] = round(time.perf_counter() - started, 1)
    results["targets"] = targets(results)
    return results


def keep_fastest(results: dict, name: str, repeats: int) -> None:
    """Keep the fastest of the repeated runs of ``name`` under ``name``, with every run's wall time."""
    runs = [results.pop(name if i == 0 else f"{name}_{i + 1}") for i in range(repeats)]
    key = "wall_s" if "wall_s" in runs[0] else "seconds"
    results[name] = {**min(runs, key=lambda r: r[key]), "runs_s": [r[key] for r in runs]}


def _unread(questions: list[str]) -> str:
    """The first question retrieval answers without the embedding model (dense weight 0), else the first."""
    from rag.embeddings import Embedder
    from rag.retrieve import MIN_DENSE_WEIGHT
    from rag.settings import Settings

    embedder = Embedder(Settings.load().embed_model)
    return next((q for q in questions if embedder.readable_share(q) ** 4 < MIN_DENSE_WEIGHT), questions[0])


def _embed_batch() -> int:
    from rag.settings import Settings

    return Settings.load().embed_batch


def _query(library: Path, questions: list[Path], n: int) -> dict:
    command = [sys.executable, "-m", "bench.worker", "query", "--library", str(library), "--n", str(n),
               "--questions", *map(str, questions)]
    timed = run_timed(command).checked("query worker")
    return {**json.loads(timed.stdout.strip().splitlines()[-1]), "process_max_rss_mib": timed.max_rss_mib}


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    args = parse_args(argv)
    results = run(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
    table = markdown(results)
    if args.markdown:
        args.markdown.write_text(table, encoding="utf-8")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
