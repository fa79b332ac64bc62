"""What a run leaves behind: ``results.json`` (every row, the settings, the model, the commit), a Markdown
report and the summary table printed at the end.

The Markdown report and the table are rendered from the results dict, so a saved run can be re-rendered.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from eval.datasets import question_to_dict
from eval.harness import EvalRun, SystemRun, row_scores
from eval.metrics import EvalRow, refusal_stats
from eval.results import RunResults, SystemResults
from rag.serialize import answer_to_dict
from rag.settings import Settings

__all__ = [
    "FORMAT", "TABLE_METRICS", "git_commit", "markdown_report", "run_folder", "run_results", "summary_table",
    "write_run",
]

FORMAT = 1
REPORT = "report.md"
SECRET_SETTINGS = ("llm_api_key",)
# (summary key, label) in table order; a metric no system measured is left out of the table.
TABLE_METRICS = (
    ("hit@1", "page hit@1"), ("hit@5", "page hit@5"),
    ("text_hit@1", "text hit@1"), ("text_hit@5", "text hit@5"),
    ("mrr", "MRR (page)"), ("text_mrr", "MRR (text)"), ("evidence_recall@5", "evidence recall@5"),
    ("contains_gold", "contains-gold"), ("numeric_match", "numeric match"),
    ("figure_questions", "figure questions"), ("f1", "F1"), ("citation_precision", "citation precision"),
    ("numbers_supported", "numbers supported"), ("wrong_refusals", "wrong refusals"),
    ("correct_refusals", "correct refusals"), ("latency_p50_ms", "latency p50 ms"),
    ("latency_p95_ms", "latency p95 ms"), ("table_questions", "table questions"),
    ("table_recall", "table recall (reports)"), ("table_precision", "table precision (reports)"),
    ("table_values", "table values correct"), ("table_brokers", "table brokers correct"),
    ("table_citations", "table cells cited on the page"), ("table_latency_p95_ms", "table latency p95 ms"),
)
LOWER_IS_BETTER = frozenset({"wrong_refusals", "latency_p50_ms", "latency_p95_ms", "table_latency_p95_ms"})
ANSWER_CELL = 90  # characters of an answer shown in the per-question table


def git_commit(cwd: Path | None = None) -> str:
    """``git rev-parse HEAD`` of the checkout holding this package; "unknown" outside one."""
    where = cwd or Path(__file__).resolve().parent
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return done.stdout.strip() if done.returncode == 0 and done.stdout.strip() else "unknown"


def settings_dict(settings: Settings) -> dict[str, Any]:
    """The settings as JSON values, without secrets."""
    values = {k: v for k, v in asdict(settings).items() if k not in SECRET_SETTINGS}
    return {k: str(v) if isinstance(v, Path) else v for k, v in values.items()}


def row_to_dict(row: EvalRow) -> dict[str, Any]:
    """One question: its labels, the full answer (citations and hits included) and its scores."""
    return {
        "id": row.question.id,
        "question": question_to_dict(row.question),
        "answer": answer_to_dict(row.answer),
        "scores": row_scores(row),
    }


def system_results(system: SystemRun) -> SystemResults:
    # through JSON once, so a fresh run equals the same run read back from results.json
    rows = json.loads(json.dumps([row_to_dict(row) for row in system.rows], ensure_ascii=False))
    return SystemResults(dict(system.summary), asdict(refusal_stats(system.rows)), round(system.seconds, 2),
                         dict(system.notes), tuple(rows))


def run_results(run: EvalRun) -> RunResults:
    """The whole run as what ``results.json`` holds."""
    settings = run.library.settings
    ours = run.systems[0]
    modes = sorted({row.answer.mode for row in ours.rows})
    return RunResults(
        format=FORMAT,
        dataset={"path": str(run.dataset), "name": run.dataset.name, "questions": len(run.questions),
                 "doc_scope": run.use_doc},
        started_at=run.started_at,
        git_commit=git_commit(),
        settings=settings_dict(settings),
        model={
            "embed_model": run.library.embedder.name,
            "answer_modes": modes,
            "llm_model": settings.llm_model if settings.llm_configured else None,
            "reranker": settings.reranker,
        },
        library={
            "path": str(settings.library),
            "documents": [d.source for d in run.library.store.documents()],
            "ingest": run.ingest_line,
        },
        systems={system.system: system_results(system) for system in run.systems},
    )


def run_folder(parent: Path | str, dataset: Path | str) -> Path:
    """Where a new run is saved, the one naming for the CLI and the app: ``<parent>/<YYYYmmdd-HHMMSS>-<set>``
    (``-2``, ``-3``… when two runs start within one second)."""
    base = Path(parent) / f"{time.strftime('%Y%m%d-%H%M%S')}-{Path(dataset).stem}"
    out, n = base, 1
    while out.exists():
        n += 1
        out = base.with_name(f"{base.name}-{n}")
    return out


def write_run(run: EvalRun, out: Path | str) -> RunResults:
    """Write ``results.json`` and ``report.md`` into ``out`` (created); returns what was written."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    results = run_results(run)
    results.save(out)
    (out / REPORT).write_text(markdown_report(results), encoding="utf-8")
    return results


# ----- rendering ---------------------------------------------------------------------------------


def fmt(value: Any, metric: str = "") -> str:
    """A score for a table: 3 decimals, whole milliseconds for ``*_ms`` metrics, yes/no, "–" for none."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if metric.endswith("_ms"):
        return f"{value:.0f}"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def summary_table(summaries: Mapping[str, Mapping[str, Any]], markdown: bool = False) -> str:
    """Metrics down, systems across, and a Δ column: the first system (ours) minus the best of the others
    (the highest score; the lowest for wrong refusals and latency), so a negative Δ on a score is a loss."""
    names = list(summaries)
    header = ["metric", *names] + (["Δ"] if len(names) >= 2 else [])
    lines = []
    for key, label in TABLE_METRICS:
        values = [summaries[n].get(key) for n in names]
        if all(v is None for v in values):
            continue
        delta = [_delta(values, key)] if len(names) >= 2 else []
        lines.append([label, *(fmt(v, key) for v in values), *delta])
    return _table(header, lines, markdown)


def _delta(values: Sequence[Any], key: str) -> str:
    others = [v for v in values[1:] if v is not None]
    if values[0] is None or not others:
        return "–"
    best = min(others) if key in LOWER_IS_BETTER else max(others)
    return fmt(values[0] - best, key)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], markdown: bool) -> str:
    if markdown:
        out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        return "\n".join(out + ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows])
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(row: Sequence[str]) -> str:  # labels left, figures right
        cells = (str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(row, widths)))
        return "  ".join(cells)

    return "\n".join([line(header), "  ".join("-" * w for w in widths), *(line(r) for r in rows)])


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown_report(results: RunResults) -> str:
    """The human-readable report of a run: setup, summary table, refusals, categories, questions."""
    systems = results.systems
    summaries = {name: s.summary for name, s in systems.items()}
    parts = [
        *_setup(results),
        "",
        "## Summary",
        "",
        summary_table(summaries, markdown=True),
        "",
        ("Δ = ours − the best other system (lowest for wrong refusals and latency). " if len(systems) >= 2 else "")
        + "Page hit/MRR: a top-k chunk lies on an evidence page of the right file; in files without pages "
        "(Markdown) every chunk is on page 1, so read the text hit/MRR there. Numeric match: share of the "
        "figure questions (the first accepted answer holds a number) whose answer states the gold figure, "
        "units and scale read, within 0.5% or the gold's rounding.",
        "",
        "## Refusals",
        "",
        *[_refusal_line(name, s.refusals) for name, s in systems.items()],
        "",
        "## Runs",
        "",
        *[f"- {name}: {system.seconds:.1f} s for the questions; "
          + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in system.notes.items())
          for name, system in systems.items()],
        *_categories(systems),
        "",
        "## Questions",
        "",
    ]
    for name, system in systems.items():
        parts += [f"### {name}", "", _question_table(system.rows), ""]
    return "\n".join(parts).rstrip() + "\n"


def _setup(results: RunResults) -> list[str]:
    settings, model, dataset = results.settings, results.model, results.dataset
    llm = f" (LLM `{model['llm_model']}`)" if model.get("llm_model") else ""
    scope = "used" if dataset.get("doc_scope", True) else "ignored"
    return [
        f"# Evaluation: {dataset['name']}",
        "",
        f"- run: {results.started_at}, commit `{results.git_commit}`",
        f"- set: `{dataset['path']}`, {dataset['questions']} questions (document scope {scope})",
        f"- library: `{results.library['path']}` ({', '.join(results.library['documents'])})",
        f"- embedding model: `{model['embed_model']}`; answers: {', '.join(model['answer_modes'])}{llm}; "
        f"top_k {settings['top_k']}, chunk_size {settings['chunk_size']}, reranker {settings['reranker']}",
    ]


def _refusal_line(name: str, refusals: Mapping[str, int]) -> str:
    wrong = f"{refusals['wrong_refusals']} of {refusals['answerable']} answerable questions (wrong)"
    right = f"{refusals['correct_refusals']} of {refusals['unanswerable']} unanswerable ones (right)"
    return f"- {name}: refused {wrong}, {right}"


def _categories(systems: Mapping[str, SystemResults]) -> list[str]:
    """Contains-gold and text (else page) hit@5 per question category, one column pair per system."""
    table: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for name, system in systems.items():
        for row in system.rows:
            table[row["question"].get("category") or "–"][name].append(row["scores"])
    if len(table) < 2:
        return []
    header = ["category", "n"]
    for name in systems:
        header += [f"{name} gold", f"{name} hit@5", f"{name} numeric"]
    lines = []
    for category in sorted(table):
        cells = [category, str(len(next(iter(table[category].values()))))]
        for name in systems:
            scores = table[category][name]
            numeric = [bool(s["numeric"]) for s in scores if s.get("numeric") is not None]
            cells += [fmt(_mean(s["contains_gold"] for s in scores)), fmt(_mean(_hit5(s) for s in scores)),
                      f"{sum(numeric)}/{len(numeric)}" if numeric else "–"]
        lines.append(cells)
    note = ("hit@5 is the text hit where the evidence has text, else the page hit; numeric: numeric matches / "
            "questions whose gold holds a figure.")
    return ["", "## By category", "", note, "", _table(header, lines, markdown=True)]


def _hit5(scores: Mapping[str, Any]) -> Any:
    return scores["text_hit@5"] if scores.get("text_hit@5") is not None else scores.get("hit@5")


def _mean(values: Any) -> float | None:
    present = [float(v) for v in values if v is not None]
    return sum(present) / len(present) if present else None


def _question_table(rows: Sequence[Mapping[str, Any]]) -> str:
    header = ["id", "category", "gold", "numeric", "hit@5", "refused", "answer", "cited pages"]
    lines = []
    for row in rows:
        answer, scores = row["answer"], row["scores"]
        text = answer["answer"]
        text = text if len(text) <= ANSWER_CELL else text[:ANSWER_CELL] + "…"
        pages = _cited_pages(answer["citations"])
        lines.append([row["id"], row["question"].get("category") or "", fmt(scores["contains_gold"]),
                      fmt(scores.get("numeric")), fmt(_hit5(scores)), fmt(scores["refused"]), text, pages])
    return _table(header, lines, markdown=True)


def _cited_pages(citations: Sequence[Mapping[str, Any]]) -> str:
    by_file: dict[str, set[int]] = defaultdict(set)
    for citation in citations:
        by_file[citation["file"]].add(citation["page"])
    return "; ".join(f"{name} p.{', '.join(map(str, sorted(pages)))}" for name, pages in sorted(by_file.items()))
