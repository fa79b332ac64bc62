"""Compare two saved runs (``results.json``): per metric and per question, what got better or worse."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eval.report import TABLE_METRICS, fmt
from eval.results import RunResults

__all__ = ["Comparison", "MetricChange", "QuestionChange", "compare_runs", "load_run", "render_comparison"]

LOWER_IS_BETTER = frozenset({"wrong_refusals", "latency_p50_ms", "latency_p95_ms", "latency_ms"})
# Per-question scores compared (latency is left out: one question's timing is noise).
QUESTION_METRICS = (
    "hit@1", "hit@5", "text_hit@1", "text_hit@5", "mrr", "text_mrr", "evidence_recall@5", "contains_gold",
    "f1", "citation_precision", "numbers_supported", "refused",
)
TOLERANCE = 1e-9


@dataclass(frozen=True)
class MetricChange:
    """One summary metric in run A and run B; ``verdict`` is "better", "worse" or "same" for B."""

    metric: str
    before: float | None
    after: float | None
    verdict: str

    @property
    def delta(self) -> float | None:
        return None if self.before is None or self.after is None else self.after - self.before


@dataclass(frozen=True)
class QuestionChange:
    """A question whose scores moved between the runs: which got better and which worse, with both answers."""

    id: str
    question: str
    better: tuple[tuple[str, Any, Any], ...]  # (metric, before, after)
    worse: tuple[tuple[str, Any, Any], ...]
    answer_before: str
    answer_after: str


@dataclass(frozen=True)
class Comparison:
    """Run B against run A for one system (``ours`` or ``baseline``)."""

    run_a: str
    run_b: str
    system: str
    metrics: tuple[MetricChange, ...]
    questions: tuple[QuestionChange, ...]
    only_a: tuple[str, ...]
    only_b: tuple[str, ...]


def load_run(path: Path | str) -> RunResults:
    """A saved run: its folder or its ``results.json``."""
    return RunResults.load(path)


def verdict(metric: str, before: Any, after: Any, answerable: bool = True) -> str:
    """Whether ``after`` is better, worse or the same; a refusal is worse only on an answerable question."""
    if before is None or after is None or abs(float(after) - float(before)) <= TOLERANCE:
        return "same"
    higher = float(after) > float(before)
    lower_better = metric in LOWER_IS_BETTER or (metric == "refused" and answerable)
    return "worse" if higher == lower_better else "better"


def compare_runs(a: RunResults, b: RunResults, system: str = "ours",
                 names: Sequence[str] = ("A", "B")) -> Comparison:
    """Summary metrics and per-question scores of ``system`` in run ``b`` against run ``a``."""
    if system not in a.systems or system not in b.systems:
        have = f"{sorted(a.systems)} / {sorted(b.systems)}"
        raise KeyError(f"system {system!r} is not in both runs ({have})")
    sa, sb = a.systems[system].summary, b.systems[system].summary
    metrics = tuple(
        MetricChange(key, sa.get(key), sb.get(key), verdict(key, sa.get(key), sb.get(key)))
        for key, _ in TABLE_METRICS
        if sa.get(key) is not None or sb.get(key) is not None
    )
    rows_a = {row["id"]: row for row in a.systems[system].rows}
    rows_b = {row["id"]: row for row in b.systems[system].rows}
    changes = tuple(c for c in (_question_change(rows_a[i], rows_b[i]) for i in rows_a if i in rows_b) if c)
    return Comparison(
        names[0], names[1], system, metrics, changes,
        only_a=tuple(i for i in rows_a if i not in rows_b),
        only_b=tuple(i for i in rows_b if i not in rows_a),
    )


def _question_change(a: Mapping[str, Any], b: Mapping[str, Any]) -> QuestionChange | None:
    answerable = bool(a["question"].get("answerable", True))
    moved: dict[str, list[tuple[str, Any, Any]]] = {"better": [], "worse": []}
    for metric in QUESTION_METRICS:
        before, after = a["scores"].get(metric), b["scores"].get(metric)
        judged = verdict(metric, before, after, answerable)
        if judged != "same":
            moved[judged].append((metric, before, after))
    if not moved["better"] and not moved["worse"]:
        return None
    return QuestionChange(a["id"], a["question"]["question"], tuple(moved["better"]), tuple(moved["worse"]),
                          a["answer"]["answer"], b["answer"]["answer"])


def render_comparison(comparison: Comparison) -> str:
    """Markdown: the metric table with Δ and verdicts, then the questions that got better and worse."""
    c = comparison
    lines = [f"# {c.system}: {c.run_b} against {c.run_a}", "", f"| metric | {c.run_a} | {c.run_b} | Δ | |",
             "|---|---|---|---|---|"]
    for m in c.metrics:
        delta = fmt(m.delta, m.metric) if m.delta is not None else "–"
        mark = {"better": "better", "worse": "WORSE", "same": ""}[m.verdict]
        before, after = fmt(m.before, m.metric), fmt(m.after, m.metric)
        lines.append(f"| {m.metric} | {before} | {after} | {delta} | {mark} |")
    groups = (("Better", lambda q: q.better and not q.worse), ("Worse", lambda q: q.worse and not q.better),
              ("Mixed", lambda q: q.better and q.worse))
    for title, pick in groups:
        chosen = [q for q in c.questions if pick(q)]
        lines += ["", f"## {title} ({len(chosen)})", ""]
        lines += [line for q in chosen for line in _question_lines(q)] or ["none"]
    for name, ids in ((c.run_a, c.only_a), (c.run_b, c.only_b)):
        if ids:
            lines += ["", f"Only in {name}: {', '.join(ids)}"]
    return "\n".join(lines) + "\n"


def _question_lines(q: QuestionChange) -> list[str]:
    moves = [f"{m} {fmt(x, m)} → {fmt(y, m)}" for m, x, y in (*q.better, *q.worse)]
    lines = [f"- **{q.id}** {q.question} — {'; '.join(moves)}"]
    if q.answer_before != q.answer_after:
        lines += [f"  - before: {_short(q.answer_before)}", f"  - after: {_short(q.answer_after)}"]
    return lines


def _short(text: str, limit: int = 160) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= limit else text[:limit] + "…"
