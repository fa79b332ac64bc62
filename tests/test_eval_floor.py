"""Regression guard: the reference-report set, run in full, must stay at or above the floors recorded in
eval/datasets/floors.json (measured figures minus a small margin; the file names the command that measured
them). Re-measure with that command and update the file when a change moves the figures on purpose."""

from __future__ import annotations

import json

import pytest
from conftest import REFERENCE_REPORT, ROOT

from eval.harness import OURS, below_floors, load_floors, run_eval
from eval.report import summary_table
from rag.library import Library
from rag.settings import Settings

REFERENCE_SET = ROOT / "eval" / "datasets" / "reference_report_zh.jsonl"
FLOORS = ROOT / "eval" / "datasets" / "floors.json"


@pytest.fixture(scope="module")
def summary(tmp_path_factory, embedder):
    """The whole set asked once, in one library, as `reportqa eval` asks it (doc scope, boilerplate kinds)."""
    settings = Settings.load(environ={}, library=tmp_path_factory.mktemp("floor") / "library")
    run = run_eval(REFERENCE_SET, Library(settings, embedder=embedder), ingest=[REFERENCE_REPORT])
    return run.system(OURS).summary


def test_reference_set_stays_above_its_floors(summary):
    floors = load_floors(FLOORS, REFERENCE_SET.name)
    assert set(floors) == {"text_hit@5", "contains_gold"}
    failures = below_floors(summary, floors)
    assert failures == [], "\n".join([*failures, "", summary_table({OURS: summary})])


def test_every_question_was_asked_and_scored(summary):
    assert (summary["questions"], summary["answerable"]) == (75, 65)
    recorded = json.loads(FLOORS.read_text(encoding="utf-8"))[REFERENCE_SET.name]
    assert recorded["measured"]["questions"] == summary["questions"]
