"""The Streamlit app through AppTest: cited answers, refusals, follow-ups, uploads, deletion, companies,
evaluation.

Real components throughout: the bundled model, Chroma in a temp folder holding the reference report,
reportlab PDFs rendered by pypdfium2, and the OpenAI wire format from tests/openai_stub over loopback.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow
import pytest
from conftest import REFERENCE_REPORT, ROOT
from openai_stub import OpenAIStub
from pdfmaker import make_pdf
from streamlit.testing.v1 import AppTest
from test_companies import broker_reports

from ingest.job import ingest_paths
from ingest.uploads import ingest_uploads
from rag.library import Library
from rag.settings import CONFIG_ENV, ENV, Settings
from ui.chat import FLAG_LABELS, scope_text
from ui.evaluation import DATASETS
from ui.library import progress_text, result_markdown
from ui.markdown import answer_markdown, markdown_text, quote_markdown, without_marks
from ui.sources import neighbours

APP = str(ROOT / "app.py")
TIMEOUT = 180  # seconds per script run: the first one loads the embedding model on a busy machine
GEMINI = "Gemini 1.5 Pro 在生产环境里最多能处理多少 token 的上下文？"
REFUSAL_ZH = "资料库中的报告没有提供这个问题的答案。"
REF_TITLE = "Sora 实现文生视频跨越式突破，AIGC 持续正反馈"
OTHER_NOTE = """# Harbour logistics weekly

## Container volumes

Container volumes at the northern harbour fell to 310 thousand boxes as storms closed two berths.
"""


@pytest.fixture(scope="module")
def shared_library(tmp_path_factory, embedder) -> Library:
    """The reference report and a short unrelated note, ingested once for the chat tests."""
    folder = tmp_path_factory.mktemp("app")
    note = folder / "harbour_weekly.md"
    note.write_text(OTHER_NOTE, encoding="utf-8")
    library = Library(Settings.load(environ={}, library=folder / "library"), embedder=embedder)
    summary = ingest_paths(library, [REFERENCE_REPORT, note])
    assert summary.ok and summary.count("new") == 2
    return library


def _app(monkeypatch: pytest.MonkeyPatch, library: Library, page: str = "", **settings: str) -> AppTest:
    """The app on ``library`` (through REPORTQA_LIBRARY, as `reportqa app` starts it), run once."""
    for variable in (*ENV.values(), CONFIG_ENV):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv(ENV["library"], str(library.settings.library))
    for name, value in settings.items():
        monkeypatch.setenv(ENV[name], value)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    if page:
        at.query_params["page"] = page
    return _checked(at.run())


def _checked(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def _ask(at: AppTest, question: str) -> AppTest:
    return _checked(at.chat_input[0].set_value(question).run())


def _doc_id(library: Library, source: str) -> str:
    return next(d.doc_id for d in library.store.documents() if d.source == source)


def _captions(at: AppTest) -> list[str]:
    return [c.value for c in at.caption]


# --- pure helpers -----------------------------------------------------------------------------------
def test_markdown_text_escapes_everything_a_report_could_inject():
    hostile = "![t](https://e.x/p.png) [a](b) <img src=x onerror=alert(1)> **b** $x$ :red[y] # h"
    assert markdown_text(hostile) == (
        "\\!\\[t\\]\\(https\u2060\\:\\/\\/e\\.x\\/p\\.png\\) \\[a\\]\\(b\\) "
        "\\<img src\\=x onerror\\=alert\\(1\\)\\> \\*\\*b\\*\\* \\$x\\$ \\:red\\[y\\] \\# h"
    )
    # bare URLs, www names and e-mail addresses get an invisible word joiner so GFM cannot link them
    assert markdown_text("www.e.x a@b.cn") == "www\u2060\\.e\\.x a\u2060\\@b\\.cn"


def test_markdown_text_highlights_quotes_line_by_line():
    expected = "ab :orange-background[**cd**]  \n:orange-background[**ef**] gh"
    assert markdown_text("  ab cd\nef gh", [(5, 10)]) == expected
    assert markdown_text("x [y] z w", [(6, 9), (2, 6)]) == (
        "x :orange-background[**\\[y\\]**] :orange-background[**z w**]"
    )
    assert markdown_text("one\n\ntwo\nthree") == "one\n\ntwo  \nthree"  # paragraphs and line breaks


def test_answer_markers_link_to_their_sources():
    assert answer_markdown("Revenue rose 12%.[1] Margin fell.[2]", 3) == (
        "Revenue rose 12\\%\\.[**\\[1\\]**](#source-3-1) Margin fell\\.[**\\[2\\]**](#source-3-2)"
    )


def test_quotes_lose_the_reports_markdown_marks_and_keep_their_highlights():
    text = "## 2.1 Outlook\n\n> - **Revenue** rose 12%.\n- Margin fell.\n2 * 3 stays"
    plain, spans = without_marks(text, [(text.index("Revenue"), text.index(" rose")), (0, 6)])
    assert plain == "2.1 Outlook\n\nRevenue rose 12%.\nMargin fell.\n2 * 3 stays"
    assert [plain[a:b] for a, b in spans] == ["Revenue", "2.1"]
    assert quote_markdown("#### ► 投资建议\n\n**建议关注：**(1)", [(13, 22)]) == (
        "► 投资建议\n\n:orange-background[**建议关注：**]\\(1\\)"
    )


# --- chat -------------------------------------------------------------------------------------------
def test_question_gets_an_answer_with_linked_citations(monkeypatch, shared_library):
    at = _ask(_app(monkeypatch, shared_library), GEMINI)
    answer = at.session_state.turns[0].answer
    assert answer.answerable and answer.citations
    assert {c.doc_id for c in answer.citations} == {_doc_id(shared_library, REFERENCE_REPORT.name)}
    bodies = [m.value for m in at.main.markdown]
    shown = next(b for b in bodies if "(#source-0-1)" in b)
    assert "100万个 token" in shown and shown == answer_markdown(answer.text, 0)
    first = answer.citations[0]
    assert at.subheader[0].value == f":small[\\[1\\] {markdown_text(REF_TITLE)}]"
    assert at.subheader[0].proto.anchor == "source-0-1"
    assert any(c.startswith(f"page {first.page} · ") for c in _captions(at))
    chunk = next(h.chunk for h in answer.hits if h.chunk.chunk_id == first.chunk_id)
    highlighted = quote_markdown(chunk.text, [(c.start, c.end) for c in answer.citations if c.n == 1])
    assert highlighted in bodies and ":orange-background[**" in highlighted  # the quotes, in their passage

    # a Markdown report has no page image: the toggle shows the passages around the quote
    _checked(at.toggle(key="show-0-1").set_value(True).run())
    before, after = neighbours(shared_library.store, chunk)
    assert before is None or (before.doc_id, before.ordinal) == (chunk.doc_id, chunk.ordinal - 1)
    assert after is None or (after.doc_id, after.ordinal) == (chunk.doc_id, chunk.ordinal + 1)
    around = [c for c in (before, after) if c is not None]
    assert around and all(quote_markdown(c.text) in _captions(at) for c in around)


def test_sources_are_numbered_from_one_and_show_no_markdown_marks(monkeypatch, shared_library):
    at = _ask(_app(monkeypatch, shared_library), "国联证券给计算机行业的上次建议是什么？")
    answer = at.session_state.turns[0].answer
    assert answer.text.endswith("[1]") and [c.n for c in answer.citations] == [1]
    assert [h.proto.anchor for h in at.main.subheader] == ["source-0-1"]
    passage = next(h.chunk for h in answer.hits if h.chunk.chunk_id == answer.citations[0].chunk_id)
    assert passage.text.startswith("#### ") and "**建议关注：**" in passage.text  # the report's own marks
    shown = quote_markdown(passage.text, [(c.start, c.end) for c in answer.citations])
    assert shown in [m.value for m in at.main.markdown]
    assert shown.startswith("► 投资建议") and "\\#" not in shown and "\\*\\*" not in shown
    assert "建议关注：\\(1\\) 国产算力基础设施：海光信息" in shown


def test_refusal_shows_reason_and_scope_and_clear_scope_asks_again(monkeypatch, shared_library):
    at = _app(monkeypatch, shared_library)
    note = _doc_id(shared_library, "harbour_weekly.md")
    _ask(_checked(at.sidebar.multiselect(key="filter_docs").set_value([note]).run()), GEMINI)
    refused = at.session_state.turns[0].answer
    assert not refused.answerable and refused.citations == ()
    assert refused.text.startswith(REFUSAL_ZH) and "原因" in refused.text
    assert at.warning[0].value == markdown_text(refused.text)
    assert f"**Scope:** {markdown_text('filters: Harbour logistics weekly')}" in _captions(at)

    _checked(at.button(key="clear-0").click().run())
    assert at.sidebar.multiselect(key="filter_docs").value == []
    again = at.session_state.turns[1]
    assert again.question == GEMINI and again.filters == "" and again.answer.answerable
    assert {c.doc_id for c in again.answer.citations} == {_doc_id(shared_library, REFERENCE_REPORT.name)}


def test_unanswerable_question_is_refused_without_a_scope_to_clear(monkeypatch, shared_library):
    at = _ask(_app(monkeypatch, shared_library), "苹果公司2023年在欧洲的营收是多少？")
    answer = at.session_state.turns[0].answer
    assert not answer.answerable and answer.text.startswith(REFUSAL_ZH)
    assert "**Scope:** the whole library" in _captions(at)
    assert [b.label for b in at.main.button] == []


def test_follow_up_question_uses_the_conversation(monkeypatch, shared_library):
    at = _ask(_app(monkeypatch, shared_library), "国联证券给计算机行业的上次建议是什么？")
    assert at.session_state.turns[0].answer.scope["matched"] == "国联证券"
    _ask(at, "它的投资建议是什么？")  # names no report: its scope can only come from the conversation
    follow = at.session_state.turns[1].answer
    assert follow.answerable and "强于大市" in follow.text
    assert follow.scope["doc_ids"] == [_doc_id(shared_library, REFERENCE_REPORT.name)]
    assert len(at.session_state.conversation.turns) == 2
    scope = markdown_text(scope_text(follow, ""))
    assert any(c.endswith(f"**scope:** {scope}") and "国联证券" in c for c in _captions(at))

    _checked(at.sidebar.button[0].click().run())  # "New conversation"
    assert at.session_state.turns == [] and at.session_state.conversation.turns == []


def test_empty_library_points_to_the_library_page(monkeypatch, tmp_path, embedder):
    library = Library(Settings.load(environ={}, library=tmp_path / "empty"), embedder=embedder)
    at = _app(monkeypatch, library)
    assert at.info[0].value == "The library is empty. Add reports on the Library page first."
    assert at.chat_input[0].proto.disabled
    assert "0 documents · 0 pages · 0 chunks · " in at.sidebar.caption[-1].value


def test_llm_answer_streams_and_shows_verification_flags(monkeypatch, shared_library):
    reply = "Gemini 1.5 Pro 可以在生产环境中运行多达100万个 token。[1]它还能处理987万小时的视频。[1]"
    with OpenAIStub(replies=[reply], chunk_chars=5) as stub:
        at = _app(monkeypatch, shared_library, llm_base_url=stub.base_url, llm_model="stub-model")
        assert at.sidebar.radio(key="mode").value == "llm"
        status = f"LLM `stub-model` at `{stub.base_url}`: answers (1 models)"
        assert status in [c.value for c in at.sidebar.caption]
        _ask(at, GEMINI)
        assert len(stub.requests) == 1 and stub.requests[0].body["stream"] is True
    answer = at.session_state.turns[0].answer
    assert answer.mode == "llm" and answer.answerable and answer.text.startswith(reply.split("[1]")[0])
    assert any(f.kind == "number_not_found" and "987" in f.detail for f in answer.flags)
    shown = [f"**{FLAG_LABELS[f.kind]}:** {markdown_text(f.detail)}" for f in answer.flags]
    assert [w.value for w in at.warning] == shown
    assert any(w.startswith("**Number not found in the cited passage:** 987") for w in shown)


def test_pdf_citation_shows_the_page_image(monkeypatch, tmp_path, embedder):
    revenue = "Widget revenue reached 4.2 billion dollars in 2023, up 15% on the year before."
    pages = [["Widgets Inc. annual review", "Overview of the year."], ["Segment results", revenue]]
    pdf = make_pdf(tmp_path / "widgets_2023.pdf", pages, font="Helvetica")
    library = Library(Settings.load(environ={}, library=tmp_path / "library"), embedder=embedder)
    assert ingest_paths(library, [pdf]).ok
    at = _ask(_app(monkeypatch, library), "How much widget revenue was reached in 2023?")
    answer = at.session_state.turns[0].answer
    assert answer.answerable and answer.citations[0].page == 2
    _checked(at.toggle(key="show-0-1").set_value(True).run())
    assert [image.captions for image in at.image] == [["widgets_2023.pdf, page 2"]]


# --- library page -----------------------------------------------------------------------------------
def test_uploaded_report_is_ingested_listed_and_deleted(monkeypatch, tmp_path, embedder):
    library = Library(Settings.load(environ={}, library=tmp_path / "library"), embedder=embedder)
    data, events = OTHER_NOTE.encode(), []
    summary = ingest_uploads(library, [("../Harbour week<1>.md", data)], progress=events.append)
    stored = tmp_path / "library" / "uploads" / "Harbour_week_1.md"
    assert [(r.status, r.path) for r in summary.results] == [("new", str(stored))]
    assert stored.read_bytes() == data and events[-1].files_done == 1
    # the bar names the file in work, then the search index built at the end (an event without a file)
    assert progress_text(events[0]) == "0/1 files · 0 chunks embedded · Harbour\\_week\\_1\\.md"
    assert progress_text(events[-1]).startswith("1/1 files · ")
    assert progress_text(events[-1]).endswith(" chunks embedded · building the search index")
    again = ingest_uploads(library, [("Harbour week<1>.md", data)])
    assert [r.status for r in again.results] == ["unchanged"]
    changed = ingest_uploads(library, [("Harbour week<1>.md", data + b"\nVolumes rose later.\n")])
    assert [r.status for r in changed.results] == ["replaced"]
    line = result_markdown(changed.results[0])
    assert line.startswith(":blue[**replaced**] Harbour\\_week\\_1\\.md (1 pages, ")

    at = _app(monkeypatch, library, page="library")
    assert at.title[0].value == "Report library"
    table = at.dataframe[0].value
    assert list(table["title"]) == ["Harbour logistics weekly"]
    assert list(table["file"]) == ["Harbour_week_1.md"]
    _checked(at.selectbox(key="delete_doc").set_value(list(table["id"])[0]).run())
    _checked(at.button(key="delete").click().run())
    assert at.success[0].value.startswith("Deleted Harbour logistics weekly \\(Harbour\\_week\\_1\\.md")
    assert at.subheader[0].value == "0 documents" and len(at.dataframe) == 0
    assert library.store.documents() == [] and not stored.exists()


# --- companies page ---------------------------------------------------------------------------------
def test_companies_page_lists_companies_and_charts_target_prices_by_broker(monkeypatch, tmp_path, embedder):
    library = Library(Settings.load(environ={}, library=tmp_path / "library"), embedder=embedder)
    assert ingest_paths(library, [broker_reports(tmp_path / "reports")]).count("new") == 5
    at = _app(monkeypatch, library, page="companies")
    assert at.title[0].value == "Companies"
    assert "2 companies · 4 of 5 reports cover one" in _captions(at)
    overview = at.dataframe[0].value
    assert list(overview["company"]) == ["腾讯控股", "阳光电源"] and list(overview["reports"]) == [2, 2]
    assert list(overview["latest target"]) == ["666.00 HKD", "170.00 CNY"]
    assert at.selectbox(key="company").value == "0700.HK"  # the most covered first

    at = _checked(at.selectbox(key="company").set_value("300274.SZ").run())
    assert at.header[0].value == markdown_text("阳光电源 300274.SZ")
    assert [(m.label, m.value) for m in at.metric] == [("Reports", "2"), ("Latest rating", "增持（首次）"),
                                                        ("Latest target price", "170.00 CNY")]
    reports = at.dataframe[1].value
    assert list(reports["broker"]) == ["国金证券", "华泰证券"] and list(reports["date"]) == ["2026-03-31", "2026-04-02"]
    assert list(reports["rating"]) == ["买入（维持）", "增持（首次）"] and list(reports["target price"]) == [155.0, 170.0]
    assert list(reports["title"]) == ["储能放量", "海外储能再超预期"]
    [chart] = at.get("vega_lite_chart")  # target prices over time, one line per broker
    spec = json.loads(chart.proto.spec)
    revisions, targets = spec["layer"]  # the dashed revision from 220 to 155, then the lines of targets
    for layer in spec["layer"]:
        assert layer["encoding"]["color"]["field"] == "broker" and layer["encoding"]["x"]["field"] == "date"
    assert (revisions["encoding"]["y"]["field"], revisions["encoding"]["y2"]["field"]) == ("previous target",
                                                                                        "target price")
    assert targets["encoding"]["y"]["title"] == "target price (CNY)"
    points = pyarrow.ipc.open_stream(chart.proto.datasets[0].data.data).read_pandas()
    assert list(zip(points["broker"], points["date"], points["target price"])) == [
        ("国金证券", "2026-03-31", 155.0), ("华泰证券", "2026-04-02", 170.0)]
    assert points["previous target"][0] == 220.0 and points["previous target"].isna()[1]


# --- evaluation page --------------------------------------------------------------------------------
MINI_SET = [
    {"id": "gemini-context", "question": GEMINI, "answers": ["100万个 token"], "answerable": True,
     "evidence": [{"file": REFERENCE_REPORT.name, "pages": [1],
                   "text": "Gemini 1.5 Pro 可以在生产环境中运行多达100万个 token"}],
     "doc": REFERENCE_REPORT.name, "lang": "zh"},
    {"id": "apple-europe", "question": "苹果公司2023年在欧洲的营收是多少？", "answers": [], "answerable": False,
     "evidence": [], "lang": "zh"},
]


def test_small_evaluation_runs_shows_results_and_compares_runs(monkeypatch, shared_library):
    folder = Path(shared_library.settings.library) / DATASETS
    folder.mkdir(exist_ok=True)
    (folder / "mini.jsonl").write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in MINI_SET))
    at = _app(monkeypatch, shared_library, page="evaluation")
    _checked(at.selectbox(key="dataset").set_value("mini.jsonl (uploaded)").run())
    assert "2 questions (1 answerable, 1 not)" in _captions(at)
    _checked(at.button(key="run_eval").click().run())

    metrics = {row["metric"]: row["ours"] for _, row in at.dataframe[0].value.iterrows()}
    assert metrics["contains-gold"] == "1.000" and metrics["text hit@5"] == "1.000"
    assert metrics["correct refusals"] == "1.000" and metrics["wrong refusals"] == "0.000"
    questions = at.dataframe[1].value
    assert list(questions["id"]) == ["gemini-context", "apple-europe"]
    assert list(questions["result"]) == ["pass", "pass"]
    assert "100万个 token" in questions["answer"][0]
    assert questions["citations"][0].startswith(f"[1] {REFERENCE_REPORT.name} p.1")
    assert questions["gold"][1] == "(not in the reports)"

    _checked(at.button(key="run_eval").click().run())  # a second run to compare with
    assert len(at.selectbox(key="run_shown").options) == 2
    verdicts = {row["metric"]: row["B is"] for _, row in at.dataframe[2].value.iterrows()}
    assert verdicts["contains_gold"] == "same" and verdicts["hit@5"] == "same"
    assert "0 questions changed" in _captions(at)
