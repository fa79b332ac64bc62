"""Run a question set: ingest what is named (idempotent), ask every question, score every answer.

Steps of :func:`run_eval`: load the set → bring the library up to date → resolve each question's
document scope → ask our pipeline → (optionally) build and ask the plain llama-index baseline over
the same files → one :class:`SystemRun` per system, with per-question rows and the summary.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eval.datasets import Evidence, Question, load_dataset
from eval.metrics import HIT_KS, RECALL_K, EvalRow, score, summarize, text_hit_at
from rag.library import Library
from rag.retrieve import DEFAULT_KINDS, Filters, retrieve
from rag.types import Answer, Document, Hit, Kind

__all__ = [
    "BASELINE", "BASELINES", "BM25_WINDOWS", "DENSE_256", "OURS", "EvalError", "EvalRun", "Progress", "SystemRun", "below_floors", "load_floors",
    "resolve_scopes", "row_scores", "run_eval", "run_system", "scope_filters", "summary_of",
    "text_reciprocal_rank",
]

OURS, BASELINE = "ours", "baseline"
BM25_WINDOWS, DENSE_256 = "bm25-windows", "dense-256"
# The plain pipelines `--baseline` runs beside ours: llama-index's defaults, a plain BM25 over fixed page
# windows (strong on Chinese) and plain dense search at the chunk length the bundled model reads (strong
# on English filings). Our ranking must beat the best of them on every set.
BASELINES = (BASELINE, BM25_WINDOWS, DENSE_256)
TEXT_RANK_DEPTH = 10  # hits every answer carries (rag.answer.HITS_SHOWN)


class EvalError(ValueError):
    """A run that cannot start as asked: a question scoped to a document the library does not hold, ..."""


@dataclass(frozen=True)
class Progress:
    """Reported after each ingested file and each answered question; the CLI draws a bar from it."""

    stage: str  # "ingest" | "ours" | "baseline-index" | "baseline"
    done: int
    total: int
    current: str = ""


@dataclass(frozen=True)
class SystemRun:
    """One system's answers to the whole set: per-question rows and the aggregate summary."""

    system: str
    rows: tuple[EvalRow, ...]
    summary: dict[str, Any]
    seconds: float
    notes: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class EvalRun:
    """Everything a report needs: the set, the library, what ingestion did, and each system's run."""

    dataset: Path
    questions: tuple[Question, ...]
    library: Library
    systems: tuple[SystemRun, ...]
    started_at: str
    ingest_line: str = ""
    use_doc: bool = True

    def system(self, name: str) -> SystemRun | None:
        return next((s for s in self.systems if s.system == name), None)


ProgressFn = Callable[[Progress], None]


def run_eval(
    dataset: Path | str | Sequence[Question],
    library: Library,
    *,
    ingest: Sequence[Path | str] = (),
    baseline: bool = False,
    use_doc: bool = True,
    mode: str = "auto",
    progress: ProgressFn | None = None,
) -> EvalRun:
    """Ingest ``ingest`` into ``library``, ask and score every question of ``dataset`` (and the baseline).

    ``use_doc=False`` ignores the questions' ``doc`` scope (every question asked of the whole library).
    """
    from rag.answer import answer

    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    path, questions = _questions(dataset)
    ingest_line = _ingest(library, ingest, progress)
    documents = library.store.documents()
    if not documents:
        raise EvalError(f"library {library.settings.library} is empty; name the reports with --ingest PATH")
    scopes = resolve_scopes(questions, library, use_doc)

    def ask_ours(question: Question) -> Answer:
        return answer(question.question, library, filters=scope_filters(question, scopes), mode=mode)

    # Untimed first query: loading the model, jieba and the BM25 index is not a question's latency.
    warm = _seconds(lambda: retrieve(library, questions[0].question, k=1)) if questions else 0.0
    systems = [run_system(OURS, questions, ask_ours, progress, {"warm_up_seconds": round(warm, 2)})]
    if baseline:
        for name in BASELINES:
            systems.append(_run_baseline(name, library, questions, documents, scopes, progress))
    return EvalRun(path, tuple(questions), library, tuple(systems), started_at, ingest_line, use_doc)


def _questions(dataset: Path | str | Sequence[Question]) -> tuple[Path, list[Question]]:
    if isinstance(dataset, (str, Path)):
        return Path(dataset), load_dataset(dataset)
    return Path("<questions>"), list(dataset)


def _ingest(library: Library, paths: Sequence[Path | str], progress: ProgressFn | None) -> str:
    if not paths:
        return ""
    from ingest.job import FAILED, ingest_paths

    def report(event: Any) -> None:
        if progress:
            progress(Progress("ingest", event.files_done, event.files_total, event.current))

    summary = ingest_paths(library, paths, progress=report)
    if not summary.ok:  # a set scored over a partial library would look worse than it is
        failed = [r.line() for r in summary.results if r.status == FAILED]
        raise EvalError("ingestion failed: " + "; ".join(failed))
    return summary.line()


def resolve_scopes(
    questions: Sequence[Question], library: Library, use_doc: bool = True
) -> dict[str, Document]:
    """The library document each scoped question is about, by question id; EvalError names an unknown one."""
    if not use_doc:
        return {}
    found: dict[str, Document] = {}
    for question in questions:
        if question.doc:
            try:
                found[question.id] = library.store.find(question.doc)
            except LookupError as error:
                raise EvalError(f"question {question.id}: {error}; ingest it with --ingest PATH") from error
    return found


def scope_filters(question: Question, scopes: Mapping[str, Document]) -> Filters | None:
    """Filters for one question: its document, and boilerplate chunks when its evidence lives there."""
    doc = scopes.get(question.id)
    boilerplate = question.kind == Kind.BOILERPLATE.value
    if doc is None and not boilerplate:
        return None
    kinds = (*DEFAULT_KINDS, Kind.BOILERPLATE) if boilerplate else DEFAULT_KINDS
    return Filters(doc_ids=(doc.doc_id,) if doc else (), kinds=kinds)


def run_system(
    name: str, questions: Sequence[Question], ask: Callable[[Question], Answer],
    progress: ProgressFn | None = None, notes: Mapping[str, Any] | None = None,
) -> SystemRun:
    """Ask every question with ``ask`` and score the answers (latency: the answer's own ``total``)."""
    started = time.perf_counter()
    rows = []
    for i, question in enumerate(questions):
        rows.append(score(question, ask(question)))
        if progress:
            progress(Progress(name, i + 1, len(questions), question.id))
    return SystemRun(name, tuple(rows), summary_of(rows), time.perf_counter() - started, dict(notes or {}))


def _run_baseline(
    name: str, library: Library, questions: Sequence[Question], documents: Sequence[Document],
    scopes: Mapping[str, Document], progress: ProgressFn | None,
) -> SystemRun:
    from eval.baseline import Baseline
    from eval.plain_bm25 import WindowBM25

    if progress:
        progress(Progress(f"{name}-index", 0, len(documents)))
    paths = [d.path for d in documents]
    baseline: Baseline | WindowBM25
    if name == BM25_WINDOWS:
        baseline = WindowBM25(top_k=TEXT_RANK_DEPTH)
        started = time.perf_counter()
        windows = baseline.build(paths)
        notes: dict[str, Any] = {"chunks": windows, "index_seconds": round(time.perf_counter() - started, 1)}
    else:
        baseline = Baseline(library.settings, top_k=TEXT_RANK_DEPTH, chunk_size=256 if name == DENSE_256 else None)
        build = baseline.build(paths)
        notes = {"chunks": build.chunks, "index_seconds": round(build.seconds, 1), "index_reused": build.reused}
    if progress:
        progress(Progress(f"{name}-index", len(documents), len(documents)))

    def ask(question: Question) -> Answer:
        doc = scopes.get(question.id)
        return baseline.answer(question.question, files=(doc.source,) if doc else ())

    notes["warm_up_seconds"] = round(_seconds(lambda: baseline.answer(questions[0].question)), 2) if questions else 0.0
    return run_system(name, questions, ask, progress, notes)


def _seconds(work: Callable[[], Any]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


# ----- scores per row and in summary -------------------------------------------------------------


def text_reciprocal_rank(hits: Sequence[Hit], evidence: Sequence[Evidence]) -> float | None:
    """1 / rank of the first hit holding an evidence text (as :func:`eval.metrics.text_hit_at` decides it);
    None when the evidence has no text.

    The page-free counterpart of MRR, for sets over files without pages (every Markdown chunk is on page 1).
    """
    if text_hit_at(hits, evidence, 1) is None:
        return None
    for rank, hit in enumerate(hits[:TEXT_RANK_DEPTH], start=1):
        if text_hit_at([hit], evidence, 1):
            return 1.0 / rank
    return 0.0


def row_scores(row: EvalRow) -> dict[str, Any]:
    """One row's scores under the summary's names (``hit@5``, ``text_mrr``, ``contains_gold``, ...); the
    numeric match is ``numeric`` (True, False, or None where the question is not a figure question); a
    question that expects a table also has ``table_recall``, ``table_precision`` and ``table_values``."""
    s = row.scores
    out: dict[str, Any] = {}
    for i, k in enumerate(HIT_KS):
        out[f"hit@{k}"] = s.hit_at[i] if s.hit_at is not None else None
    for i, k in enumerate(HIT_KS):
        out[f"text_hit@{k}"] = s.text_hit_at[i] if s.text_hit_at is not None else None
    out["mrr"] = s.reciprocal_rank
    labelled = row.question.answerable and bool(row.question.evidence)
    out["text_mrr"] = text_reciprocal_rank(row.answer.hits, row.question.evidence) if labelled else None
    out[f"evidence_recall@{RECALL_K}"] = s.evidence_recall
    for name in ("contains_gold", "numeric", "f1", "citation_precision", "numbers_supported", "refused",
                 "latency_ms"):
        out[name] = getattr(s, name)
    if s.table is not None:  # only a cross-report question expects a table
        out["table_recall"] = s.table.recall
        out["table_precision"] = s.table.precision
        out["table_values"] = s.table.values / s.table.expected if s.table.expected else None
    return out


def summary_of(rows: Sequence[EvalRow]) -> dict[str, Any]:
    """:func:`eval.metrics.summarize` plus the text MRR, placed after the page MRR."""
    summary = summarize(rows)
    ranks = [r for r in (row_scores(row)["text_mrr"] for row in rows) if r is not None]
    out: dict[str, Any] = {}
    for key, value in summary.items():
        out[key] = value
        if key == "mrr":
            out["text_mrr"] = sum(ranks) / len(ranks) if ranks else None
    return out


# ----- regression floors -------------------------------------------------------------------------


def load_floors(path: Path | str, dataset: str) -> dict[str, float]:
    """The floors recorded for the set named ``dataset`` (its file name) in a floors JSON file."""
    recorded = json.loads(Path(path).read_text(encoding="utf-8"))
    if dataset not in recorded:
        raise KeyError(f"no floors recorded for {dataset!r} in {path}; known: {sorted(recorded)}")
    return {str(k): float(v) for k, v in recorded[dataset]["floors"].items()}


def below_floors(summary: Mapping[str, Any], floors: Mapping[str, float]) -> list[str]:
    """One line per metric below its floor (or missing from the summary); empty when all hold."""
    failures = []
    for metric, floor in floors.items():
        value = summary.get(metric)
        if value is None:
            failures.append(f"{metric}: not measured (floor {floor:.3f})")
        elif value < floor:
            failures.append(f"{metric}: {value:.3f} is below the floor {floor:.3f}")
    return failures
