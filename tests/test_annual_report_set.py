"""The page-labelled question set over 四方科技's 2019 annual report (``eval/datasets/annual_report_zh.jsonl``).

The set's own shape is checked always; its labels (evidence on the stated page, answers stated by the evidence,
derived ratios recomputed from the evidence figures) are checked against the PDF when the shared benchmark is there.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from eval.datasets import load_dataset

ROOT = Path(__file__).resolve().parents[1]
ANNUAL_REPORT_SET = ROOT / "eval" / "datasets" / "annual_report_zh.jsonl"
PDF = ROOT.parent / "shared" / "benchmarks" / "zh-dev" / "docs" / "annual_report_2019_sifang_603339.pdf"
PDF_PAGES = 156

MIN_PER_CATEGORY = {"figure": 20, "derived": 4, "fact": 10, "unanswerable": 5}

# How each derived answer is computed: (formula, (label, n), (label, n)), where (label, n) is the n-th amount
# (a number with a decimal point) after `label` in the first evidence text holding that label.
#   ratio: a / b    margin: (a - b) / a    growth: a / b - 1
DERIVED = {
    "ar-zh-039": ("ratio", ("负债合计", 0), ("资产总计", 0)),  # 资产负债率
    "ar-zh-040": ("margin", ("营业收入", 0), ("营业成本", 0)),  # 母公司毛利率
    "ar-zh-041": ("margin", ("营业收入", 1), ("营业成本", 1)),  # 2018 年毛利率
    "ar-zh-042": ("ratio", ("研发投入合计", 0), ("其中：营业收入", 0)),  # 研发投入占营业收入比例
    "ar-zh-043": ("margin", ("境内", 0), ("境内", 1)),  # 境内主营业务毛利率
    "ar-zh-044": ("ratio", ("2019 年", 2), ("2019 年", 3)),  # 现金分红比例
    "ar-zh-045": ("ratio", ("净利润", 0), ("营业收入", 0)),  # 销售净利率
    "ar-zh-046": ("growth", ("营业收入", 0), ("营业收入", 1)),  # 营业收入同比增长
}

_AMOUNT = re.compile(r"-?\d{1,3}(?:,\d{3})*\.\d+|-?\d+\.\d+")
_PERCENT = re.compile(r"^(-?\d+(?:\.\d+)?)%$")


def _bare(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def questions():
    return load_dataset(ANNUAL_REPORT_SET)


@pytest.fixture(scope="module")
def page_texts(questions):
    """Extracted text of every page that some evidence cites, keyed by 1-based page number."""
    if not PDF.exists():
        pytest.skip(f"benchmark PDF not present: {PDF}")
    pypdfium2 = pytest.importorskip("pypdfium2")
    wanted = {page for q in questions for e in q.evidence for page in e.pages}
    pdf = pypdfium2.PdfDocument(str(PDF))
    try:
        assert len(pdf) == PDF_PAGES
        texts = {}
        for page_number in sorted(wanted):
            textpage = pdf[page_number - 1].get_textpage()
            texts[page_number] = textpage.get_text_range()
            textpage.close()
        return texts
    finally:
        pdf.close()


def test_ids_are_unique_and_categories_are_covered(questions):
    ids = [q.id for q in questions]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"ar-zh-\d{3}", i) for i in ids)
    counts = Counter(q.category for q in questions)
    assert set(counts) <= set(MIN_PER_CATEGORY), counts
    for category, minimum in MIN_PER_CATEGORY.items():
        assert counts[category] >= minimum, (category, counts)
    assert len(questions) >= 40


def test_rows_are_scoped_to_the_report(questions):
    for q in questions:
        assert q.doc == PDF.name and q.lang == "zh", q.id
        if q.category == "unanswerable":
            assert not q.answerable and q.answers == () and q.evidence == (), q.id
            continue
        assert q.answerable and q.answers and q.evidence, q.id
        for evidence in q.evidence:
            assert evidence.file == PDF.name, q.id
            assert len(evidence.pages) == 1 and 1 <= evidence.pages[0] <= PDF_PAGES, q.id
            assert evidence.text and 8 <= len(evidence.text) <= 100, q.id
            assert "\n" not in evidence.text and "\r" not in evidence.text, q.id


def test_questions_are_spread_over_the_report(questions):
    per_page = Counter(page for q in questions for page in {p for e in q.evidence for p in e.pages})
    assert max(per_page.values()) <= 4, per_page.most_common(3)
    assert len(per_page) >= 25
    assert sum(1 for page in per_page if page > 20) >= 15


def test_evidence_is_on_its_page(questions, page_texts):
    for q in questions:
        for evidence in q.evidence:
            page = evidence.pages[0]
            assert _bare(evidence.text) in _bare(page_texts[page]), (q.id, page, evidence.text)


def test_figure_and_fact_evidence_states_an_answer(questions, page_texts):
    for q in questions:
        if q.category in ("figure", "fact"):
            evidence = _bare("".join(e.text for e in q.evidence))
            assert any(_bare(answer) in evidence for answer in q.answers), (q.id, q.answers)


def _amount_after(texts: list[str], label: str, n: int) -> float:
    text = next(t for t in texts if label in t)
    amounts = _AMOUNT.findall(text[text.index(label) + len(label) :])
    return float(amounts[n].replace(",", ""))


def test_derived_answers_follow_from_the_evidence_figures(questions, page_texts):
    derived = [q for q in questions if q.category == "derived"]
    assert {q.id for q in derived} == set(DERIVED)
    for q in derived:
        formula, (label_a, n_a), (label_b, n_b) = DERIVED[q.id]
        texts = [e.text for e in q.evidence]
        a, b = _amount_after(texts, label_a, n_a), _amount_after(texts, label_b, n_b)
        value = 100 * {"ratio": a / b, "margin": (a - b) / a, "growth": a / b - 1}[formula]
        percents = [float(m.group(1)) for m in map(_PERCENT.match, q.answers) if m]
        assert percents, (q.id, q.answers)
        assert percents[0] == round(value, 1), (q.id, value, q.answers)
        for printed in percents[1:]:  # the report's own figure, to two decimals
            assert abs(printed - value) < 0.006, (q.id, value, printed)
            assert any(f"{printed:.2f}" in _bare(t) for t in texts), (q.id, printed)
