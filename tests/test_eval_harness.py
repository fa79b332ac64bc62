"""The evaluation harness end to end: a real run on the reference report in a temporary library, the files it
writes, the regression floors, the comparison of two saved runs, and the plain llama-index baseline."""

from __future__ import annotations

import copy
import json
import subprocess

import pytest
from conftest import REFERENCE_REPORT, ROOT
from pdfmaker import make_pdf

from eval.baseline import Baseline
from eval.compare import compare_runs, load_run, render_comparison
from eval.datasets import Evidence, load_dataset, save_dataset
from eval.harness import (
    BASELINE,
    BASELINES,
    BM25_WINDOWS,
    OURS,
    EvalError,
    below_floors,
    load_floors,
    resolve_scopes,
    run_eval,
    scope_filters,
    text_reciprocal_rank,
)
from eval.metrics import page_hit_at
from eval.report import markdown_report, summary_table, write_run
from eval.results import RunResults
from rag.library import Library
from rag.retrieve import DEFAULT_KINDS
from rag.settings import Settings
from rag.types import Chunk, Hit, Kind

REFERENCE_SET = ROOT / "eval" / "datasets" / "reference_report_zh.jsonl"
FLOORS = ROOT / "eval" / "datasets" / "floors.json"
PICKED = ("ref-zh-007", "ref-zh-043", "ref-zh-057", "ref-zh-058", "ref-zh-u01", "ref-en-003")
# A second report that also talks about Sora, so an unscoped question could land in it.
OTHER_REPORT = [
    ["Sora video model notes", "", "Sora can generate videos of up to 30 seconds in this other report."],
    ["Market notes", "", "Video generation tools were priced at 20 dollars per month in this other report."],
]


@pytest.fixture(scope="module")
def questions():
    picked = {q.id: q for q in load_dataset(REFERENCE_SET) if q.id in PICKED}
    return [picked[i] for i in PICKED]


@pytest.fixture(scope="module")
def other_pdf(tmp_path_factory):
    return make_pdf(tmp_path_factory.mktemp("other") / "other_notes.pdf", OTHER_REPORT, font="Helvetica")


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory, embedder, questions, other_pdf):
    """One library (the reference report and a second PDF), one run of both systems, written to disk."""
    settings = Settings.load(environ={"REPORTQA_LLM_API_KEY": "secret-key"},
                             library=tmp_path_factory.mktemp("lib") / "library")
    library = Library(settings, embedder=embedder)
    events = []
    run = run_eval(questions, library, ingest=[REFERENCE_REPORT, other_pdf], baseline=True,
                   progress=events.append)
    out = tmp_path_factory.mktemp("run") / "ref"
    written = write_run(run, out)
    assert load_run(out) == written  # the typed run survives results.json
    return library, run, events, out, written.to_json()


def test_run_asks_every_question_of_both_systems(evaluated, questions):
    _, run, events, _, _ = evaluated
    assert [s.system for s in run.systems] == [OURS, *BASELINES]
    for system in run.systems:
        assert [row.question.id for row in system.rows] == list(PICKED)
        assert system.summary["questions"] == 6 and system.summary["answerable"] == 5
    assert "2 new" in run.ingest_line
    stages = [e.stage for e in events]
    assert stages[0] == "ingest" and {"ours", "baseline-index", "baseline", "bm25-windows-index",
                                      "bm25-windows", "dense-256-index", "dense-256"} <= set(stages)
    assert [(e.done, e.total, e.current) for e in events if e.stage == OURS] == [
        (i, 6, q) for i, q in enumerate(PICKED, 1)
    ]


def test_scope_and_boilerplate_reach_retrieval(evaluated):
    library, run, _, _, _ = evaluated
    reference = library.store.find(REFERENCE_REPORT.name)
    ours = {row.question.id: row for row in run.system(OURS).rows}
    for qid in PICKED:  # every question names the reference report as its doc
        assert {h.chunk.doc_id for h in ours[qid].answer.hits} == {reference.doc_id}
        for name in BASELINES:
            plain = next(r for r in run.system(name).rows if r.question.id == qid)
            assert {h.chunk.source for h in plain.answer.hits} == {REFERENCE_REPORT.name}, name
    # the rating-definition questions see boilerplate chunks; the others never do
    assert any(h.chunk.kind == Kind.BOILERPLATE for h in ours["ref-zh-057"].answer.hits)
    assert all(h.chunk.kind != Kind.BOILERPLATE for h in ours["ref-zh-007"].answer.hits)


def test_scope_filters_and_unknown_documents(evaluated, questions):
    library, *_ = evaluated
    scopes = resolve_scopes(questions, library)
    doc_id = library.store.find(REFERENCE_REPORT.name).doc_id
    assert scope_filters(questions[0], scopes).doc_ids == (doc_id,)
    assert scope_filters(questions[0], scopes).kinds == DEFAULT_KINDS
    assert scope_filters(questions[2], scopes).kinds == (*DEFAULT_KINDS, Kind.BOILERPLATE)
    assert scope_filters(questions[0], resolve_scopes(questions, library, use_doc=False)) is None
    stray = [questions[0].__class__(**{**questions[0].__dict__, "doc": "missing.pdf"})]
    with pytest.raises(EvalError, match="question ref-zh-007: no document matches 'missing.pdf'"):
        resolve_scopes(stray, library)


def test_ingest_is_idempotent_across_runs(evaluated, questions, other_pdf):
    library, *_ = evaluated
    again = run_eval(questions[:1], library, ingest=[REFERENCE_REPORT, other_pdf])
    assert "0 new, 2 unchanged" in again.ingest_line and "(0 embedded)" in again.ingest_line
    assert [s.system for s in again.systems] == [OURS]


def test_results_json_holds_rows_settings_model_and_commit(evaluated):
    library, run, _, out, results = evaluated
    saved = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert saved == json.loads(json.dumps(results, ensure_ascii=False))
    git = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    head = git.stdout.strip() if git.returncode == 0 else ""
    assert saved["git_commit"] == (head or "unknown")
    assert saved["settings"]["library"] == str(library.settings.library)
    assert "llm_api_key" not in saved["settings"] and "secret-key" not in json.dumps(saved)
    assert saved["model"] == {"embed_model": "sentence-transformers/all-MiniLM-L6-v2",
                              "answer_modes": ["extractive"], "llm_model": None, "reranker": None}
    assert saved["dataset"]["questions"] == 6
    assert sorted(saved["library"]["documents"]) == sorted([REFERENCE_REPORT.name, "other_notes.pdf"])
    assert set(saved["systems"]) == {OURS, *BASELINES}
    ours = saved["systems"][OURS]
    assert ours["refusals"]["answerable"] == 5 and ours["refusals"]["unanswerable"] == 1
    row = ours["rows"][0]
    assert row["id"] == "ref-zh-007" and row["question"]["answers"] == ["87%"]
    assert set(row["answer"]) >= {"answer", "answerable", "citations", "hits", "timings_ms"}
    assert row["answer"]["hits"][0]["file"] == REFERENCE_REPORT.name
    expected = {f"{m}@{k}" for m in ("hit", "text_hit") for k in (1, 3, 5, 10)} | {
        "mrr", "text_mrr", "evidence_recall@5", "contains_gold", "numeric", "f1", "citation_precision",
        "numbers_supported", "refused", "latency_ms"}
    assert set(row["scores"]) == expected
    unanswerable = next(r for r in ours["rows"] if r["id"] == "ref-zh-u01")
    assert unanswerable["scores"]["contains_gold"] is None and unanswerable["scores"]["hit@5"] is None
    # the saved summary is the run's summary, and every scored row is in it
    assert ours["summary"] == run.system(OURS).summary
    assert ours["summary"]["text_hit@5"] == pytest.approx(
        sum(r["scores"]["text_hit@5"] for r in ours["rows"] if r["scores"]["text_hit@5"] is not None) / 5)
    assert all(saved["systems"][name]["notes"]["chunks"] > 0 for name in BASELINES)
    # numeric match: over the figure questions (87% twice, 10%, 沪深300), not the certificate number
    numeric = {r["id"]: r["scores"]["numeric"] for r in ours["rows"]}
    assert numeric["ref-zh-043"] is None and numeric["ref-zh-u01"] is None
    figures = [v for v in numeric.values() if v is not None]
    assert ours["summary"]["figure_questions"] == len(figures) == 4
    assert ours["summary"]["numeric_match"] == pytest.approx(sum(figures) / 4)


def test_runs_saved_before_numeric_match_still_load(evaluated, tmp_path):
    _, _, _, _, results = evaluated
    old = copy.deepcopy(results)
    for system in old["systems"].values():
        for key in ("numeric_match", "figure_questions"):
            del system["summary"][key]
        for row in system["rows"]:
            del row["scores"]["numeric"]
    (tmp_path / "results.json").write_text(json.dumps(old, ensure_ascii=False), encoding="utf-8")
    loaded = load_run(tmp_path)
    ours = loaded.systems[OURS]
    assert all(row["scores"]["numeric"] is None for row in ours.rows)
    assert ours.summary["numeric_match"] is None and ours.summary["figure_questions"] is None
    assert "numeric match" not in summary_table({n: s.summary for n, s in loaded.systems.items()})
    assert "| numeric match |" not in markdown_report(loaded) and "| ref-zh-007 |" in markdown_report(loaded)
    assert RunResults.from_json(results).to_json() == results  # a new run reads back unchanged


def test_markdown_report_and_printed_table(evaluated):
    _, run, _, out, results = evaluated
    report = (out / "report.md").read_text(encoding="utf-8")
    assert report == markdown_report(RunResults.from_json(results))
    assert report.startswith("# Evaluation: <questions>\n")
    assert f"commit `{results['git_commit']}`" in report
    assert "| metric | ours | baseline | bm25-windows | dense-256 | Δ |" in report
    summaries = {name: results["systems"][name]["summary"] for name in (OURS, *BASELINES)}
    golds = [summaries[name]["contains_gold"] for name in (OURS, *BASELINES)]
    gold = "| contains-gold | " + " | ".join(f"{g:.3f}" for g in golds) + f" | {golds[0] - max(golds[1:]):.3f} |"
    assert gold in report  # Δ: ours minus the best plain pipeline
    refused = results["systems"][OURS]["refusals"]
    assert (f"- ours: refused {refused['wrong_refusals']} of 5 answerable questions (wrong), "
            f"{refused['correct_refusals']} of 1 unanswerable ones (right)") in report
    assert ("- baseline: refused 0 of 5 answerable questions (wrong), "
            "0 of 1 unanswerable ones (right)") in report
    for qid in PICKED:
        assert report.count(f"| {qid} |") == 4  # one row per system
    assert "## By category" in report and "| boilerplate | 2 |" in report
    table = summary_table({n: s["summary"] for n, s in results["systems"].items()})
    lines = table.splitlines()
    assert lines[0].split() == ["metric", "ours", "baseline", "bm25-windows", "dense-256", "Δ"]
    assert any(line.startswith("latency p95 ms") for line in lines)
    assert any(line.startswith("numeric match") for line in lines)
    assert "| numeric match | " in report and "| id | category | gold | numeric |" in report
    cited = next(line for line in lines if line.startswith("citation precision"))
    assert cited.split()[-2:] == ["–", "–"]  # the baseline cites nothing, so there is no difference either


def test_floor_check():
    floors = {"text_hit@5": 0.8, "contains_gold": 0.5}
    assert below_floors({"text_hit@5": 0.8, "contains_gold": 0.75}, floors) == []
    assert below_floors({"text_hit@5": 0.79, "contains_gold": None}, floors) == [
        "text_hit@5: 0.790 is below the floor 0.800",
        "contains_gold: not measured (floor 0.500)",
    ]


def test_floors_file_records_measured_values_and_the_command():
    recorded = json.loads(FLOORS.read_text(encoding="utf-8"))[REFERENCE_SET.name]
    assert set(recorded["floors"]) == {"text_hit@5", "contains_gold"}
    for metric, floor in recorded["floors"].items():
        assert floor == pytest.approx(recorded["measured"][metric] - recorded["margin"], abs=1e-3)
    assert recorded["command"].startswith("reportqa eval eval/datasets/reference_report_zh.jsonl")
    assert load_floors(FLOORS, REFERENCE_SET.name) == recorded["floors"]
    with pytest.raises(KeyError, match="no floors recorded for 'other.jsonl'"):
        load_floors(FLOORS, "other.jsonl")


def test_compare_reports_what_got_better_and_worse(evaluated, tmp_path):
    _, _, _, out, results = evaluated
    edited = copy.deepcopy(results)
    ours = edited["systems"][OURS]
    rows = {row["id"]: row for row in ours["rows"]}
    rows["ref-zh-043"]["scores"].update(contains_gold=not rows["ref-zh-043"]["scores"]["contains_gold"])
    rows["ref-zh-u01"]["scores"].update(refused=not rows["ref-zh-u01"]["scores"]["refused"])
    rows["ref-zh-007"]["answer"]["answer"] = "changed answer"
    ours["summary"]["latency_p95_ms"] = results["systems"][OURS]["summary"]["latency_p95_ms"] + 100
    ours["summary"]["contains_gold"] = results["systems"][OURS]["summary"]["contains_gold"] + 0.2
    (tmp_path / "results.json").write_text(json.dumps(edited, ensure_ascii=False), encoding="utf-8")

    comparison = compare_runs(load_run(out), load_run(tmp_path), names=("old", "new"))
    verdicts = {m.metric: m.verdict for m in comparison.metrics}
    assert verdicts["contains_gold"] == "better" and verdicts["latency_p95_ms"] == "worse"
    assert verdicts["text_hit@5"] == "same"
    gold_before = results["systems"][OURS]["rows"][1]["scores"]["contains_gold"]
    refused_before = results["systems"][OURS]["rows"][4]["scores"]["refused"]
    moved = {q.id: q for q in comparison.questions}
    assert set(moved) == {"ref-zh-043", "ref-zh-u01"}  # a new answer text alone is no score change
    gold_move = ("contains_gold", gold_before, not gold_before)
    assert (moved["ref-zh-043"].better if not gold_before else moved["ref-zh-043"].worse) == (gold_move,)
    # on an unanswerable question, refusing is right: stopping to refuse is worse
    refusal_move = ("refused", refused_before, not refused_before)
    u01 = moved["ref-zh-u01"]
    assert (u01.better if not refused_before else u01.worse) == (refusal_move,)
    text = render_comparison(comparison)
    assert text.startswith("# ours: new against old")
    assert "| latency_p95_ms |" in text and "WORSE" in text and "- **ref-zh-043**" in text
    assert comparison.only_a == () and comparison.only_b == ()


def test_text_reciprocal_rank():
    evidence = (Evidence(file="r.md", doc=None, pages=(1,), text="Sora 能够生成长达 60s 的视频"),)

    def hit(text: str) -> Hit:
        return Hit(Chunk(text, "d", 0, text, "r.md", 1, 1), 1.0)

    hits = [hit("完全无关的段落，讲的是算力。"), hit("据报道，Sora 能够生成长达 60s 的视频，画面连贯。")]
    assert text_reciprocal_rank(hits, evidence) == 0.5
    assert text_reciprocal_rank(hits[:1], evidence) == 0.0
    assert text_reciprocal_rank(hits, (Evidence(file="r.md", doc=None, pages=(1,)),)) is None


def test_baseline_indexes_pdf_pages_and_reuses_its_index(tmp_path, other_pdf):
    settings = Settings.load(environ={}, library=tmp_path / "library")
    pdf = make_pdf(tmp_path / "filing.pdf", [
        ["Annual report 2023", "", "Table of contents and forward-looking statements."],
        ["Revenue grew to 1,577 million dollars, driven by strong demand for cloud services."],
        ["The company employs 12,000 people in 40 countries across three continents."],
    ], font="Helvetica")
    baseline = Baseline(settings, top_k=3)
    built = baseline.build([pdf, other_pdf])
    assert (built.files, built.reused) == (2, False) and built.chunks == 5  # one chunk per short page
    answer = baseline.answer("How many people does the company employ?")
    assert answer.mode == "baseline" and answer.answerable and len(answer.hits) == 3
    top = answer.hits[0].chunk
    assert (top.source, top.page, top.page_end) == ("filing.pdf", 3, 3)
    assert answer.text == top.text and "12,000 people" in top.text
    evidence = (Evidence(file="filing.pdf", doc=None, pages=(3,)),)
    assert page_hit_at(answer.hits, evidence, 1)
    only = baseline.answer("Sora video length", files=("other_notes.pdf",))
    assert {h.chunk.source for h in only.hits} == {"other_notes.pdf"} and len(only.hits) == 2
    again = Baseline(settings, top_k=3).build([pdf, other_pdf])
    assert (again.reused, again.chunks) == (True, 5)
    assert Baseline(settings, top_k=3).build([pdf]).reused is False


def test_baseline_on_the_reference_report(evaluated):
    _, run, _, _, _ = evaluated
    rows = run.system(BASELINE).rows
    assert all(row.answer.hits and row.answer.answerable for row in rows)
    assert all(h.chunk.page == 1 for row in rows for h in row.answer.hits)  # Markdown: one page
    seven = rows[0]
    assert seven.answer.text == seven.answer.hits[0].chunk.text
    assert seven.scores.hit_at[2]  # page hit@5 on the right file


def test_cli_eval_writes_a_run_and_compares_two(evaluated, questions, tmp_path, capsys):
    from reportqa import cli

    library, *_ = evaluated
    subset = tmp_path / "subset.jsonl"
    save_dataset(questions[:2], subset)
    common = ["--library", str(library.settings.library), "--ingest", str(REFERENCE_REPORT)]
    for name in ("a", "b"):
        assert cli.main(["eval", str(subset), *common, "--out", str(tmp_path / name)]) == 0
    printed = capsys.readouterr().out
    assert printed.splitlines()[0].split() == ["metric", "ours"]
    assert f"2 questions; wrote {tmp_path / 'b' / 'results.json'} and {tmp_path / 'b' / 'report.md'}" in printed
    assert load_run(tmp_path / "a").library["ingest"].startswith("1 files: 0 new, 1 unchanged")

    assert cli.main(["eval", "--compare", str(tmp_path / "a"), str(tmp_path / "b")]) == 0
    compared = capsys.readouterr().out
    assert compared.startswith(f"# ours: {tmp_path / 'b'} against {tmp_path / 'a'}")
    # the same questions on the same library: the answers and their scores do not move
    assert "## Better (0)" in compared and "## Worse (0)" in compared and "## Mixed (0)" in compared

    assert cli.main(["eval"]) == 2
    assert "give DATASET.jsonl, or --compare RUN_A RUN_B" in capsys.readouterr().err


def test_window_bm25_baseline_ranks_page_windows(tmp_path, other_pdf):
    from eval.plain_bm25 import WINDOW, WindowBM25

    long_page = "Revenue grew strongly. " * 30  # 690 characters: three windows of one page
    pdf = make_pdf(tmp_path / "windows.pdf", [["Overview", "", long_page],
                                              ["Staff", "", "The company employs 1,234 people in Nantong."]],
                   font="Helvetica")
    baseline = WindowBM25(top_k=5)
    windows = baseline.build([pdf, other_pdf])
    assert windows >= 3 + 1 + 2
    answer = baseline.answer("How many people does the company employ?")
    assert answer.mode == "baseline" and answer.answerable
    assert (answer.hits[0].chunk.source, answer.hits[0].chunk.page) == ("windows.pdf", 2)
    assert answer.hits[0].ranks == {"bm25": 1} and len(answer.hits[0].chunk.text) <= WINDOW
    only = baseline.answer("Sora video", files=("other_notes.pdf",))
    assert {h.chunk.source for h in only.hits} == {"other_notes.pdf"}
    assert baseline.answer("zebra xylophone").hits == ()  # no shared word, no hit
    assert BM25_WINDOWS == "bm25-windows"


def test_run_folders_are_named_one_way(tmp_path, monkeypatch):
    import time

    from eval.report import run_folder

    monkeypatch.setattr(time, "strftime", lambda fmt: "20261206-101500")  # two runs within one second
    first = run_folder(tmp_path / "eval-runs", "sets/broker_reports.jsonl")
    assert first == tmp_path / "eval-runs" / "20261206-101500-broker_reports"
    first.mkdir(parents=True)
    assert run_folder(tmp_path / "eval-runs", "broker_reports.jsonl").name == "20261206-101500-broker_reports-2"


def test_the_gate_fit_answers_the_most_while_refusing_nine_in_ten_unanswerable():
    from eval.fit_gate import REFUSE_FLOOR, Measured, fit_gate, shares
    from rag.evidence import Strength, Thresholds

    answerable = [0.35, 0.45, 0.6, 0.7]  # best coverage of each question's evidence
    unanswerable = [0.1, 0.2, 0.3, 0.32, 0.38, 0.4, 0.42, 0.44, 0.46, 0.5]
    items = [Measured("s", f"a{i}", True, True, Strength(c)) for i, c in enumerate(answerable)]
    items += [Measured("s", f"u{i}", False, True, Strength(c)) for i, c in enumerate(unanswerable)]
    report = fit_gate(items)
    # the mean of the two shares would pick 0.45 (3/4 answered, 8/10 refused): below the floor
    assert report["thresholds"]["evidence"] == 0.6  # 2/4 answered, 10/10 refused; 0.5 and 0.55 tie, stricter wins
    assert shares(items, Thresholds(**report["thresholds"]))[1] >= REFUSE_FLOOR
    assert shares(items, Thresholds(0.45, 0.2, 0.4)) == (0.75, 0.8)
