"""`reportqa ingest` against bare extraction + bare encoding, the llama-index pipeline, an unchanged
re-ingest, and the ingest's peak memory."""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from bench.common import ROOT, cpu_seconds, reportqa, run_timed

_SUMMARY = re.compile(r"(\d+) files: .*?; (\d+) pages, (\d+) chunks \((\d+) embedded\) in ([\d.]+) s")


def job_files(paths: Sequence[Path]) -> list[Path]:
    """Exactly the files the ingestion job picks up from ``paths``."""
    from ingest.job import discover

    files, _ = discover(paths)
    return files


def extract_pypdf(files: Sequence[Path]) -> dict[str, float]:
    """Bare pypdf: ``PdfReader(...).pages[i].extract_text()`` for every page; other files are read as text."""
    import pypdf

    def page_texts(path: Path) -> Iterator[str]:
        for page in pypdf.PdfReader(path).pages:
            yield page.extract_text() or ""

    return _extract(files, page_texts)


def extract_pdfium(files: Sequence[Path]) -> dict[str, float]:
    """Bare pypdfium2: ``get_textpage().get_text_range()`` for every page (the job's own text reader)."""
    import pypdfium2 as pdfium

    def page_texts(path: Path) -> Iterator[str]:
        document = pdfium.PdfDocument(str(path))
        for index in range(len(document)):
            page = document[index]
            textpage = page.get_textpage()
            yield textpage.get_text_range()
            textpage.close()
            page.close()
        document.close()

    return _extract(files, page_texts)


def _extract(files: Sequence[Path], page_texts: Callable[[Path], Iterator[str]]) -> dict[str, float]:
    """Time ``page_texts`` over every PDF (other files are read as text): pages and characters read."""
    pages = chars = 0
    started, cpu = time.perf_counter(), cpu_seconds()
    for path in files:
        if path.suffix.lower() != ".pdf":
            chars += len(path.read_text(encoding="utf-8", errors="replace"))
            continue
        for text in page_texts(path):
            chars += len(text)
            pages += 1
    return {"seconds": round(time.perf_counter() - started, 3), "cpu_s": round(cpu_seconds() - cpu, 2),
            "pdf_pages": pages, "chars": chars}


def ingest_cli(paths: Sequence[Path], library: Path) -> dict[str, object]:
    """`reportqa ingest PATH... --library DIR` as a user runs it: wall time, the job's own time, peak RSS."""
    command = [*reportqa(), "ingest", *map(str, paths), "--library", str(library)]
    timed = run_timed(command).checked("reportqa ingest")
    match = _SUMMARY.search(timed.stdout)
    if match is None:
        raise RuntimeError(f"no job summary in the ingest output:\n{timed.stdout[-2000:]}")
    files, pages, chunks, embedded, job_s = match.groups()
    return {
        "wall_s": timed.seconds, "cpu_s": timed.cpu_s, "job_s": float(job_s),
        "startup_s": round(timed.seconds - float(job_s), 3),
        "files": int(files), "pages": int(pages), "chunks": int(chunks), "embedded": int(embedded),
        "max_rss_mib": timed.max_rss_mib, "summary": match.group(0),
    }


def chunk_texts(library: Path) -> list[str]:
    """``embedding_text(chunk)`` of every chunk the job stored: what its model encoded."""
    from ingest.job import embedding_text
    from rag.library import Library
    from rag.settings import Settings

    store = Library(Settings.load(library=library)).store
    return [embedding_text(c) for c in store.iter_chunks()]


def bare_encode(texts: list[str], batch_size: int, threads: int) -> dict[str, float]:
    """``SentenceTransformer.encode`` of ``texts`` in one call, same model, batch size and torch threads."""
    import torch
    from sentence_transformers import SentenceTransformer

    from rag.embeddings import resolve_model
    from rag.settings import DEFAULT_EMBED_MODEL

    torch.set_num_threads(threads)
    started = time.perf_counter()
    model = SentenceTransformer(resolve_model(DEFAULT_EMBED_MODEL), device="cpu")
    loaded, cpu = time.perf_counter(), cpu_seconds()
    model.encode(texts, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False)
    seconds, cpu = round(time.perf_counter() - loaded, 3), round(cpu_seconds() - cpu, 2)
    return {
        "seconds": seconds, "cpu_s": cpu, "model_load_s": round(loaded - started, 3),
        "tokens": embedded_tokens(model.tokenizer, texts, int(model.max_seq_length)),
        "texts": len(texts), "batch_size": batch_size, "torch_threads": torch.get_num_threads(),
        "max_seq_length": int(model.max_seq_length),
    }


def embedded_tokens(tokenizer, texts: list[str], limit: int) -> int:  # noqa: ANN001 - a HF tokenizer
    """Tokens the model reads: each text's token count (special tokens included), cut at ``limit``."""
    lengths = tokenizer(texts, add_special_tokens=True, truncation=False)["input_ids"]
    return sum(min(len(ids), limit) for ids in lengths)


def baseline(paths: Sequence[Path], library: Path) -> dict[str, object]:
    """``eval.baseline.Baseline(settings).build(paths)`` in its own process (imports, model load included)."""
    command = [sys.executable, "-m", "bench.worker", "baseline", "--library", str(library), *map(str, paths)]
    timed = run_timed(command).checked("baseline")
    inner = json.loads(timed.stdout.strip().splitlines()[-1])
    return {"wall_s": timed.seconds, "cpu_s": timed.cpu_s, **inner, "max_rss_mib": timed.max_rss_mib}


def torch_threads_in_fresh_process() -> int:
    """What ``torch.get_num_threads()`` is in a new process: the thread count the CLI's encoding uses."""
    timed = run_timed([sys.executable, "-c", "import torch; print(torch.get_num_threads())"], cwd=ROOT)
    return int(timed.stdout.strip())
