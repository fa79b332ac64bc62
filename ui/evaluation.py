"""The evaluation page: run a bundled or uploaded question set against the library (optionally with the
plain pipelines), read a saved run's metrics and per-question table, compare two runs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import streamlit as st

from ingest.uploads import save_uploads
from rag.library import Library
from ui.common import current_library, library_documents, sidebar_library
from ui.markdown import markdown_text

if TYPE_CHECKING:  # eval is imported where a page needs it (the app starts without it)
    from eval.results import RunResults, SystemResults

DATASETS = "datasets"  # uploaded question sets live in <library>/datasets/
RUNS = "eval-runs"  # saved evaluation runs live in <library>/eval-runs/<time>-<set>/results.json


def page() -> None:
    """Run a question set, show a saved run, compare two runs."""
    from eval.compare import load_run

    library = current_library()
    sidebar_library(library, library_documents(library))
    st.title("Evaluation")
    evaluation_form(library)
    folder = Path(library.settings.library) / RUNS
    runs = saved_runs(folder)
    if not runs:
        st.info("No saved runs yet.")
        return
    st.header("Results")
    show_run(load_run(folder / st.selectbox("Saved run", runs, key="run_shown")))
    if len(runs) > 1:
        st.header("Compare two runs")
        show_comparison(folder, runs)


def dataset_files(library_dir: Path) -> dict[str, Path]:
    """Bundled question sets and the ones uploaded into this library, by display name."""
    import eval as eval_package

    bundled = sorted((Path(eval_package.__file__).parent / "datasets").glob("*.jsonl"))
    uploaded = sorted((library_dir / DATASETS).glob("*.jsonl"))
    return {**{f"{p.name} (bundled)": p for p in bundled}, **{f"{p.name} (uploaded)": p for p in uploaded}}


def saved_runs(folder: Path) -> list[str]:
    """Names of the saved runs, newest first."""
    return sorted((p.parent.name for p in folder.glob("*/results.json")), reverse=True)


def run_evaluation(library: Library, dataset: Path, limit: int, use_doc: bool, baseline: bool) -> str | None:
    """Run the harness with a progress bar and save the run; its name, or None when it could not start."""
    from eval.datasets import load_dataset
    from eval.harness import EvalError, run_eval
    from eval.report import run_folder, write_run

    bar = st.progress(0.0, text="Starting…")

    def progress(event: Any) -> None:
        share = min(event.done / event.total, 1.0) if event.total else 1.0
        bar.progress(share, text=f"{event.stage}: {event.done}/{event.total} {markdown_text(event.current)}")

    questions = load_dataset(dataset)
    chosen: Path | list = dataset if limit >= len(questions) else questions[:limit]
    try:
        run = run_eval(chosen, library, use_doc=use_doc, baseline=baseline, progress=progress)
    except EvalError as err:
        st.error(markdown_text(str(err)))
        return None
    out = run_folder(Path(library.settings.library) / RUNS, dataset)
    write_run(run, out)
    return out.name


def metric_rows(systems: Mapping[str, SystemResults]) -> list[dict[str, str]]:
    """The summary table: one row per metric, one column per system (metrics nobody measured left out)."""
    from eval.report import TABLE_METRICS, fmt

    rows = []
    for key, label in TABLE_METRICS:
        values = {name: system.summary.get(key) for name, system in systems.items()}
        if any(v is not None for v in values.values()):
            rows.append({"metric": label, **{name: fmt(v, key) for name, v in values.items()}})
    return rows


def hit_chart(systems: Mapping[str, SystemResults]) -> Any:
    """hit@k for each k, by page and by evidence text, one column per system and kind (a DataFrame)."""
    import pandas as pd

    from eval.metrics import HIT_KS

    columns = {
        f"{name} ({kind})": [system.summary.get(f"{prefix}hit@{k}") for k in HIT_KS]
        for name, system in systems.items()
        for kind, prefix in (("page", ""), ("text", "text_"))
    }
    return pd.DataFrame(columns, index=[f"hit@{k}" for k in HIT_KS]).dropna(axis=1, how="all")


def question_rows(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per question: result, answer, gold, citations, hit@5 (plain-text cells, never Markdown)."""
    out = []
    for row in rows:
        question, answer, scores = row["question"], row["answer"], row["scores"]
        passed = scores["contains_gold"] if question["answerable"] else scores["refused"]
        hit5 = scores.get("text_hit@5") if scores.get("text_hit@5") is not None else scores.get("hit@5")
        citations = "; ".join(f"[{c['n']}] {c['file']} p.{c['page']}" for c in answer["citations"])
        gold = " | ".join(question["answers"]) or "(not in the reports)"
        out.append({"id": row["id"], "result": "pass" if passed else "fail", "question": question["question"],
                    "answer": answer["answer"], "gold": gold, "citations": citations, "hit@5": hit5})
    return out


def show_run(results: RunResults) -> None:
    """The summary table, the hit@k chart and the per-question tables of one saved run."""
    systems, dataset = results.systems, results.dataset
    about = f"{dataset['name']} · {dataset['questions']} questions · {results.started_at}"
    st.caption(markdown_text(f"{about} · commit {results.git_commit[:10]}"))
    st.dataframe(metric_rows(systems), hide_index=True, height="content")
    st.markdown("**hit@k**: share of questions with the evidence among the top k passages")
    st.bar_chart(hit_chart(systems), stack=False, sort=False, height=260)
    for name, system in systems.items():
        st.markdown(f"**Questions: {markdown_text(name)}**")
        st.dataframe(question_rows(system.rows), hide_index=True)


def show_comparison(folder: Path, runs: Sequence[str]) -> None:
    """Two saved runs side by side: metrics with Δ and verdict, then the questions that moved."""
    from eval.compare import compare_runs, load_run
    from eval.report import fmt

    left, right = st.columns(2)
    a = left.selectbox("Run A", runs, index=1, key="compare_a")
    b = right.selectbox("Run B", runs, index=0, key="compare_b")
    comparison = compare_runs(load_run(folder / a), load_run(folder / b), names=(a, b))
    st.dataframe([{"metric": m.metric, "A": fmt(m.before, m.metric), "B": fmt(m.after, m.metric),
                   "Δ": fmt(m.delta, m.metric), "B is": m.verdict} for m in comparison.metrics],
                 hide_index=True, height="content")
    moved = [
        {"id": q.id, "question": q.question, "better": ", ".join(m for m, _, _ in q.better),
         "worse": ", ".join(m for m, _, _ in q.worse), "answer A": q.answer_before,
         "answer B": q.answer_after}
        for q in comparison.questions
    ]
    st.caption(f"{len(moved)} questions changed")
    if moved:
        st.dataframe(moved, hide_index=True)


def evaluation_form(library: Library) -> None:
    """Pick a question set (bundled or uploaded), choose how to run it, run it."""
    from eval.datasets import DatasetError, load_dataset

    library_dir = Path(library.settings.library)
    upload = st.file_uploader("Add a question set (JSON Lines)", type=["jsonl"])
    if upload is not None:
        limit = library.settings.max_upload_mb
        save_uploads(library_dir / DATASETS, [(upload.name, upload.getvalue())], limit, allowed={".jsonl"})
    files = dataset_files(library_dir)
    if not files:
        return
    name = st.selectbox("Question set", list(files), key="dataset")
    try:
        questions = load_dataset(files[name])
    except DatasetError as err:
        st.error(markdown_text(str(err)))
        return
    answerable = sum(q.answerable for q in questions)
    st.caption(f"{len(questions)} questions ({answerable} answerable, {len(questions) - answerable} not)")
    left, mid, right = st.columns(3, vertical_alignment="bottom")
    limit = left.number_input("Questions to ask", 1, len(questions), len(questions), key="eval_limit")
    use_doc = mid.toggle("Ask each question within its document", True, key="eval_use_doc")
    baseline = right.toggle("Also run the plain llama-index baseline", False, key="eval_baseline")
    if st.button("Run evaluation", type="primary", key="run_eval"):
        finished = run_evaluation(library, files[name], int(limit), use_doc, baseline)
        if finished:
            st.session_state.run_shown = finished  # show the new run (its selectbox comes below)
