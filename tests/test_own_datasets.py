"""The project's off-topic, broker-report and held-out question sets: format, counts, and evidence verbatim
in the PDFs."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from eval.datasets import load_dataset
from eval.metrics import contains_gold

DATASETS = Path(__file__).resolve().parents[1] / "eval" / "datasets"
OFFTOPIC = DATASETS / "offtopic.jsonl"
BROKER = DATASETS / "broker_reports.jsonl"
HELDOUT = DATASETS / "broker_heldout.jsonl"
HELDOUT2 = DATASETS / "broker_heldout2.jsonl"
HELDOUT3 = DATASETS / "broker_heldout3.jsonl"
HELDOUT4 = DATASETS / "broker_heldout4.jsonl"
HELDOUT5 = DATASETS / "broker_heldout5.jsonl"
HELDOUT6 = DATASETS / "broker_heldout6.jsonl"
HELDOUT7 = DATASETS / "broker_heldout7.jsonl"
HELDOUT8 = DATASETS / "broker_heldout8.jsonl"
BROKER_REPORTS = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks" / "broker-reports"

BROKER_CATEGORIES = {"rating", "target_price", "forecast", "fact", "analyst", "unanswerable"}


def squash(text: str) -> str:
    """PDF text layers carry stray spaces and line breaks: compare with all whitespace removed."""
    return re.sub(r"\s+", "", text)


def test_offtopic_set_is_unanswerable_and_mixes_three_kinds():
    questions = load_dataset(OFFTOPIC)
    assert len({q.id for q in questions}) == len(questions)
    assert len(questions) >= 36
    kinds = Counter(q.id.split("-")[1] for q in questions)
    assert set(kinds) == {"gen", "absent", "unreported"}
    assert all(count >= 10 for count in kinds.values()), kinds
    for q in questions:
        assert not q.answerable and q.answers == () and q.evidence == (), q.id
        assert q.doc is None, f"{q.id}: off-topic questions are asked of the whole library"
        assert q.category == "offtopic"
    langs = Counter(q.lang for q in questions)
    assert langs["en"] >= 10 and langs["zh"] >= 10, langs


def test_broker_set_shape():
    questions = load_dataset(BROKER)
    assert len({q.id for q in questions}) == len(questions)
    assert len(questions) >= 45
    assert all(q.id.startswith("brk-") for q in questions)
    assert {q.category for q in questions} <= BROKER_CATEGORIES
    unanswerable = [q for q in questions if not q.answerable]
    assert len(unanswerable) >= 6
    assert all(q.category == "unanswerable" and not q.evidence for q in unanswerable)
    assert len({q.doc for q in questions}) >= 20
    assert any(q.lang == "en" for q in questions)
    for q in questions:
        assert q.doc and q.doc.endswith(".pdf"), q.id
        if not q.answerable:
            continue
        assert 1 <= len(q.answers) <= 3, q.id
        for evidence in q.evidence:
            assert evidence.file == q.doc, q.id
            assert evidence.pages and all(p >= 1 for p in evidence.pages), q.id
            assert evidence.text and 10 <= len(evidence.text) <= 80, q.id
            for answer in q.answers:
                assert squash(answer) in squash(evidence.text), f"{q.id}: {answer!r} not in its evidence"
            assert contains_gold(evidence.text, q.answers), q.id


@pytest.mark.parametrize(("dataset", "prefix", "answerable", "count", "langs"), [
    (HELDOUT, "held-", "answer_type", 28, {"zh"}),
    (HELDOUT2, "held2-", "answerable", 24, {"zh"}),
    (HELDOUT3, "held3-", "answerable", 32, {"zh", "en"}),
    (HELDOUT4, "held4-", "answerable", 32, {"zh", "en"}),
    (HELDOUT5, "held5-", "answerable", 32, {"zh", "en"}),
    (HELDOUT6, "held6-", "answerable", 32, {"zh", "en"}),
    (HELDOUT7, "held7-", "answerable", 32, {"zh", "en"}),
    (HELDOUT8, "held8-", "answerable", 32, {"zh", "en"}),
], ids=["heldout", "heldout2", "heldout3", "heldout4", "heldout5", "heldout6", "heldout7", "heldout8"])
def test_heldout_set_shape(dataset, prefix, answerable, count, langs):
    questions = load_dataset(dataset)
    assert len({q.id for q in questions}) == len(questions) == count
    assert all(q.id.startswith(prefix) for q in questions)
    assert {q.lang for q in questions} == langs
    assert Counter(q.category for q in questions) == {answerable: count // 2, "unanswerable": count // 2}
    for lang in langs:
        split = Counter(q.category for q in questions if q.lang == lang)
        assert split[answerable] == split["unanswerable"], (lang, split)
    assert len({q.doc for q in questions}) >= 6
    seen = {
        q.question
        for path in (BROKER, HELDOUT, HELDOUT2, HELDOUT3, HELDOUT4, HELDOUT5, HELDOUT6, HELDOUT7, HELDOUT8)
        if path != dataset
        for q in load_dataset(path)
    }
    for q in questions:
        assert q.doc and q.doc.endswith(".pdf"), q.id
        assert q.question not in seen, q.id
        assert q.answerable == (q.category == answerable) == bool(q.evidence), q.id
        for evidence in q.evidence:
            assert evidence.file == q.doc and evidence.pages, q.id
            assert contains_gold(evidence.text, q.answers), q.id


@pytest.mark.parametrize(
    "dataset", [BROKER, HELDOUT, HELDOUT2, HELDOUT3, HELDOUT4, HELDOUT5, HELDOUT6, HELDOUT7, HELDOUT8],
    ids=["broker", "heldout", "heldout2", "heldout3", "heldout4", "heldout5", "heldout6", "heldout7", "heldout8"]
)
def test_broker_evidence_is_verbatim_on_its_pages(dataset):
    if not BROKER_REPORTS.is_dir():
        pytest.skip(f"{BROKER_REPORTS} is not available")
    pdfium = pytest.importorskip("pypdfium2")
    pdfs = {path.name: path for path in BROKER_REPORTS.rglob("*.pdf")}
    questions = load_dataset(dataset)
    for q in questions:
        assert q.doc in pdfs, f"{q.id}: no report named {q.doc!r}"
    pages: dict[tuple[str, int], str] = {}
    needed = {(e.file, p) for q in questions for e in q.evidence for p in e.pages}
    for name in sorted({file for file, _ in needed}):
        document = pdfium.PdfDocument(str(pdfs[name]))
        try:
            for file, page in needed:
                if file == name:
                    assert page <= len(document), f"{name} has no page {page}"
                    textpage = document[page - 1].get_textpage()
                    pages[(file, page)] = squash(textpage.get_text_range())
        finally:
            document.close()
    for q in questions:
        for evidence in q.evidence:
            for page in evidence.pages:
                assert squash(evidence.text) in pages[(evidence.file, page)], (
                    f"{q.id}: evidence not on page {page} of {evidence.file}: {evidence.text!r}"
                )
