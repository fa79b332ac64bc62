"""Question-set format and loaders: our JSONL, FinanceBench and FinGLM rows, and the reference-report set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import REFERENCE_REPORT, SHARED

from eval.datasets import DatasetError, Evidence, Question, load_dataset, save_dataset
from eval.metrics import contains_gold

REFERENCE_SET = Path(__file__).resolve().parents[1] / "eval" / "datasets" / "reference_report_zh.jsonl"
FINANCEBENCH = SHARED / "benchmarks" / "financebench-dev" / "questions.jsonl"
ZH_DEV = SHARED / "benchmarks" / "zh-dev" / "questions.jsonl"


def write_rows(path: Path, *rows: object) -> Path:
    path.write_text(
        "".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in rows),
        encoding="utf-8",
    )
    return path


def test_save_and_load_round_trip(tmp_path):
    questions = [
        Question(
            id="a",
            question="Sora 最长能生成多长的视频？",
            answers=("60s", "一分钟"),
            answerable=True,
            evidence=(
                Evidence(file="r.md", doc=None, pages=(1,), text="生成长达 60s 的视频"),
                Evidence(file=None, doc="sha", pages=(2, 3)),
            ),
            doc="r.md",
            lang="zh",
            section="1.1 Sora",
            kind="boilerplate",
            category="number",
        ),
        Question(id="b", question="Price?", answers=(), answerable=False, evidence=()),
    ]
    path = tmp_path / "set.jsonl"
    save_dataset(questions, path)
    assert load_dataset(path) == questions
    first = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    assert first["evidence"][0] == {"file": "r.md", "pages": [1], "text": "生成长达 60s 的视频"}
    assert "Sora" in path.read_text(encoding="utf-8") and "\\u" not in path.read_text(encoding="utf-8")
    assert "doc" not in json.loads(path.read_text(encoding="utf-8").splitlines()[1])


@pytest.mark.parametrize(
    "row, message",
    [
        ('{"id": "x", "question": "q"', "not valid JSON"),
        ('["a list"]', "must be a JSON object"),
        (
            {"id": "x", "question": "q", "answerable": True, "answers": []},
            "needs at least one accepted answer",
        ),
        ({"id": "x", "question": "q", "answerable": False, "answers": ["a"]}, "must have empty 'answers'"),
        ({"id": "x", "question": "q", "answers": ["a"], "anwser": 1}, "unknown field(s) ['anwser']"),
        (
            {"id": "x", "question": "q", "answers": ["a"], "evidence": [{"pages": [1]}]},
            "needs a 'file' or a 'doc'",
        ),
        (
            {"id": "x", "question": "q", "answers": ["a"], "evidence": [{"file": "f", "pages": [0]}]},
            "1-based",
        ),
        ({"id": "x", "answers": ["a"]}, "missing or empty 'question'"),
        ({"id": "x", "question": "q", "answers": "a"}, "must be a list of non-empty strings"),
        ({"id": "x", "question": "q", "doc_name": "D", "answer": "1", "evidence_page_num": [-1]}, "0-based"),
    ],
)
def test_bad_rows_name_file_and_line(tmp_path, row, message):
    good = {"id": "ok", "question": "q", "answers": ["a"]}
    path = write_rows(tmp_path / "bad.jsonl", good, "", row)
    with pytest.raises(DatasetError) as error:
        load_dataset(path)
    assert str(error.value).startswith(f"{path}:3: ")
    assert message in str(error.value)


def test_repeated_id_names_both_lines(tmp_path):
    path = write_rows(
        tmp_path / "dup.jsonl",
        {"id": "q1", "question": "a", "answers": ["x"]},
        {"id": "q1", "question": "b", "answers": ["y"]},
    )
    with pytest.raises(DatasetError, match=r"dup.jsonl:2: id 'q1' already used on line 1"):
        load_dataset(path)


def test_financebench_row_pages_become_one_based(tmp_path):
    row = {
        "id": "financebench_id_1",
        "question": "Capex?",
        "answer": "$1577.00",
        "doc_name": "3M_2018_10K",
        "pdf": "pdfs/3M_2018_10K.pdf",
        "question_type": "metrics-generated",
        "evidence_page_num": [59],
        "evidence_text": "Purchases of PP&E (1,577)",
        "evidence": [{"evidence_text": "Purchases of PP&E (1,577)", "evidence_page_num": 59}],
    }
    bare = {k: v for k, v in row.items() if k != "evidence"} | {"id": "financebench_id_2"}
    for question in load_dataset(write_rows(tmp_path / "fb.jsonl", row, bare)):
        assert question.answers == ("$1577.00",) and question.answerable and question.lang == "en"
        assert question.evidence == (
            Evidence(
                file="3M_2018_10K.pdf", doc="3M_2018_10K", pages=(60,), text="Purchases of PP&E (1,577)"
            ),
        )
        assert question.category == "metrics-generated" and question.doc is None


def test_finglm_row_puts_the_short_answer_first(tmp_path):
    row = {
        "id": "finglm-A-789",
        "question": "毛利率？",
        "answer": "毛利率是23.15%。",
        "answers": ["毛利率是23.15%。"],
        "doc_id": "annual_report",
        "doc_file": "docs/annual_report.pdf",
        "evidence_text": None,
        "evidence_page_index": [10, 62],
        "metadata": {"prompt": {"prom_answer": "23.15%"}},
    }
    (question,) = load_dataset(write_rows(tmp_path / "zh.jsonl", row))
    assert question.answers == ("23.15%", "毛利率是23.15%。") and question.lang == "zh"
    assert question.evidence == (Evidence(file="annual_report.pdf", doc="annual_report", pages=(11, 63)),)


@pytest.mark.skipif(not FINANCEBENCH.exists(), reason="benchmark files absent")
def test_real_financebench_dev():
    questions = load_dataset(FINANCEBENCH)
    assert len(questions) == 21 and len({q.id for q in questions}) == 21
    first = questions[0]
    assert first.id == "financebench_id_03029" and first.answers == ("$1577.00",)
    assert first.evidence[0].file == "3M_2018_10K.pdf" and first.evidence[0].pages == (60,)  # 0-based 59
    assert "Purchases of property, plant and equipment" in first.evidence[0].text
    by_id = {q.id: q for q in questions}
    assert [e.pages for e in by_id["financebench_id_01009"].evidence] == [(4,), (5,)]
    assert by_id["financebench_id_00476"].evidence[0].pages == (1,)
    assert contains_gold("Purchases of PP&E were (1,577) in 2018", first.answers)


@pytest.mark.skipif(not ZH_DEV.exists(), reason="benchmark files absent")
def test_real_zh_dev():
    questions = {q.id: q for q in load_dataset(ZH_DEV)}
    assert list(questions) == ["finglm-A-2", "finglm-A-789", "finglm-C-457"]
    assert questions["finglm-A-2"].answers[0] == "zqb@ntsquare.com"
    assert questions["finglm-A-2"].evidence[0].pages == (4,)
    assert questions["finglm-A-789"].evidence[0].pages == (11, 63, 121)
    assert questions["finglm-A-789"].evidence[0].file == "annual_report_2019_sifang_603339.pdf"
    assert contains_gold("毛利率为23.15%", questions["finglm-A-789"].answers)


# ----- the project's own reference-report set ---------------------------------------------------------------


@pytest.fixture(scope="module")
def reference_set() -> list[Question]:
    return load_dataset(REFERENCE_SET)


def test_reference_set_size_and_mix(reference_set):
    chinese = [q for q in reference_set if q.lang == "zh"]
    assert len(chinese) >= 45
    assert sum(not q.answerable for q in chinese) >= 6
    assert len({q.id for q in reference_set}) == len(reference_set)
    categories = {q.category for q in chinese}
    assert {
        "number",
        "table",
        "figure",
        "analyst",
        "rating",
        "related",
        "risk",
        "companies",
        "multi",
    } <= categories
    assert 2 <= sum(q.kind == "boilerplate" for q in reference_set) <= 4


def test_reference_evidence_is_verbatim_in_the_report(reference_set):
    report = REFERENCE_REPORT.read_text(encoding="utf-8")
    for question in reference_set:
        assert question.answerable == bool(question.evidence), question.id
        for evidence in question.evidence:
            assert evidence.file == REFERENCE_REPORT.name and evidence.pages == (1,), question.id
            assert evidence.text and evidence.text in report, question.id


def test_reference_evidence_states_the_answer(reference_set):
    """Each evidence text states an accepted answer: an extractive answer quoting it scores contains-gold."""
    for question in (q for q in reference_set if q.answerable):
        assert contains_gold(" ".join(e.text for e in question.evidence), question.answers), question.id


def test_boilerplate_questions_point_into_the_disclaimer_part(reference_set):
    report = REFERENCE_REPORT.read_text(encoding="utf-8")
    disclaimers = report.index("## 分析师声明")
    for question in (q for q in reference_set if q.kind == "boilerplate"):
        assert all(report.index(e.text) > disclaimers for e in question.evidence), question.id
