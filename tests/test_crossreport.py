"""Cross-report answers end to end: broker reports made as real PDFs and ingested, questions across them
answered with a table whose every cell cites the line of its report that prints it; filters, "—" for what a
report does not state, the revisions sentence, the JSON shape, the terminal table and the question model."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from eval.crossreport import cell_matches, score_table, table_summary
from eval.datasets import ExpectedRow, ExpectedTable, load_dataset
from eval.metrics import contains_gold
from ingest.job import ingest_paths
from rag.answer import answer, numbered_by_appearance
from rag.companies import companies
from rag.crossquestion import cross_question, rating_matches
from rag.retrieve import Filters
from rag.serialize import answer_to_dict
from rag.types import Answer, AnswerTable, Citation, Document, TableCell, TableRow
from reportqa.render import format_answer
from tests.pdfmaker import make_pdf

HUAYUAN = "华远电气（600999.SH）"
ZH_REPORTS = {
    "20260320-国金证券-华远电气（600999.SH）：储能高增，盈利能力提升.pdf": [[
        HUAYUAN, "储能高增，盈利能力提升", "国金证券研究所 公司点评", "2026年03月20日", "投资评级：买入（维持）",
        "目标价：52.00元", "盈利预测与估值 2024A 2025A 2026E 2027E", "营业收入（百万元） 5,210 6,020 7,110 8,230",
        "归母净利润（百万元） 612 701 845 990", "EPS（元/股） 0.51 0.58 0.70 0.82", "投资要点：公司储能业务高增，维持买入评级。",
        "分析师：张明（执业 S1130520010001）", "分析师：李华（执业 S1130520010002）"]],
    "20260325-东吴证券-华远电气（600999.SH）：海外订单饱满，首次覆盖.pdf": [
        [HUAYUAN, "海外订单饱满，首次覆盖", "东吴证券研究所 公司深度", "2026年03月25日", "投资评级：增持（首次）",
         "投资要点：海外订单饱满，首次覆盖给予增持评级。"],
        ["盈利预测与估值 2025A 2026E 2027E 2028E", "营业总收入（百万元） 6,020 7,300 8,500 9,700",
         "归母净利润（百万元） 701 880 1,020 1,180", "市盈率（倍） 30 24 21 18"]],
    "20260402-交银国际-华远电气（600999.SH）：四季度承压，下调目标价.pdf": [[
        HUAYUAN, "四季度承压，下调目标价", "交银国际 公司点评", "2026年04月02日", "评级：买入（维持）",
        "下调目标价至45.00元人民币（原60.00元）", "财务数据一览 2024A 2025A 2026E 2027E",
        "收入（百万人民币） 5,210 6,020 6,900 7,800", "归母净利润（百万元） 612 701 820 950"]],
    "20260401-国金证券-宏观点评：衰退交易.pdf": [[
        "宏观点评：衰退交易", "国金证券研究所 宏观经济点评", "2026年04月01日", "美国经济数据走弱，衰退交易升温。"]],
}
EN_REPORTS = {
    "NOMURA-9999.pdf": [[
        "Nomura Global Markets Research", "19 March 2026", "Dragon Games Holdings (9999 HK)",
        "Rating: Buy (maintained)", "Target price: HK$720.00 (from HK$680.00)",
        "Financial summary 2024A 2025A 2026E 2027E", "Net profit (RMB mn) 10,000 12,000 14,000 16,000",
        "Revenue (RMB mn) 50,000 56,000 62,000 68,000", "Dragon Games keeps growing its mobile titles overseas."]],
    "UBS-9999.pdf": [[
        "UBS Global Research", "12 March 2026", "Dragon Games Holdings (9999 HK)", "12-month rating Neutral",
        "12m price target HK$560.00", "We stay on the sidelines as new titles face tougher competition."]],
}


@pytest.fixture(scope="module")
def library(tmp_path_factory, embedder):
    from rag.library import Library
    from rag.settings import Settings

    folder = tmp_path_factory.mktemp("crossreport")
    paths = [make_pdf(folder / name, pages) for name, pages in ZH_REPORTS.items()]
    paths += [make_pdf(folder / name, pages, font="Helvetica") for name, pages in EN_REPORTS.items()]
    lib = Library(Settings.load(environ={}, library=folder / "library"), embedder=embedder)
    assert ingest_paths(lib, paths).ok
    return lib


def column(result, field):
    index = result.table.fields.index(field)
    return [row.cells[index] for row in result.table.rows]


def citation(result, n):
    return next(c for c in result.citations if c.n == n)


def assert_cited(result):
    """Every stated cell cites a quote of its own report that prints its value; "—" cites nothing."""
    for row in result.table.rows:
        for field, cell in zip(result.table.fields, row.cells, strict=True):
            if cell.value == "—":
                assert cell.citation is None
                continue
            cited = citation(result, cell.citation)
            assert cited.doc_id == row.doc_id, (field, cell)
            if field == "date":  # printed as 2026年03月20日 or 19 March 2026
                assert cited.page == 1 and cell.value[:4] in cited.quote
                continue
            printed = re.split(r"[（( ]", cell.value.removeprefix("HK$"))[0].removesuffix("元")
            assert printed.replace(" ", "") in cited.quote.replace(" ", ""), (field, cell, cited.quote)
            hit = result.hits[cited.hit - 1].chunk
            assert hit.chunk_id == cited.chunk_id and hit.text[cited.start:cited.end] == cited.quote


def test_a_rating_question_lists_the_brokers_that_give_it_each_cell_cited(library):
    result = answer("哪些券商给了华远电气买入评级？", library, mode="extractive")
    assert result.kind == "table" and result.answerable
    assert result.table.columns == ("券商", "日期", "评级", "目标价")
    assert [c.value for c in column(result, "broker")] == ["国金证券", "交银国际"]  # by date; 东吴 rates 增持
    assert [c.value for c in column(result, "rating")] == ["买入（维持）", "买入（维持）"]
    assert [c.value for c in column(result, "target_price")] == ["52.00元", "45.00元（原60.00元）"]
    assert_cited(result)
    rating = citation(result, column(result, "rating")[0].citation)
    assert (rating.page, rating.quote) == (1, "投资评级：买入（维持）")
    assert numbered_by_appearance(result) == result  # [1], [2], … in reading order already


def test_a_forecast_question_reads_each_reports_row_and_shows_a_dash_where_none_is_stated(library):
    result = answer("各家对华远电气2026年归母净利润的预测分别是多少？", library, mode="extractive")
    assert result.kind == "table"
    assert result.table.columns[-1] == "2026E归母净利润（百万元）"
    assert [c.value for c in column(result, "broker")] == ["国金证券", "东吴证券", "交银国际"]
    assert [c.value for c in column(result, "forecast")] == ["845 百万元", "880 百万元", "820 百万元"]
    assert column(result, "target_price")[1].value == "—"  # 东吴 states no target price
    assert_cited(result)
    dongwu = citation(result, column(result, "forecast")[1].citation)
    assert (dongwu.page, dongwu.quote) == (2, "归母净利润（百万元） 701 880 1,020 1,180")
    assert "华远电气" not in {r.source for r in result.table.rows if "宏观" in r.source}


def test_a_row_labelled_by_a_shorter_name_of_the_metric_is_read(library):
    result = answer("各券商对华远电气2026年营业收入的预测是多少？", library, mode="extractive")
    assert [c.value for c in column(result, "forecast")] == ["7,110 百万元", "7,300 百万元", "6,900 百万人民币"]
    assert_cited(result)
    jiaoyin = citation(result, column(result, "forecast")[2].citation)
    assert jiaoyin.quote == "收入（百万人民币） 5,210 6,020 6,900 7,800"


def test_who_wrote_a_report_named_by_broker_and_title_is_read_off_its_card(library):
    result = answer("国金证券那篇《储能高增，盈利能力提升》是哪位分析师写的？", library, mode="extractive")
    assert result.kind == "card" and result.answerable
    assert result.text == ("国金证券《储能高增，盈利能力提升》（2026-03-20）的分析师：张明（执业证书编号 S1130520010001）[1]、"
                           "李华（执业证书编号 S1130520010002）[2]。")
    for citation, name in zip(result.citations, ("张明", "李华"), strict=True):
        assert name in citation.quote and citation.page == 1 and "国金证券" in citation.source
        assert result.hits[citation.hit - 1].chunk.text[citation.start:citation.end] == citation.quote
    said_otherwise = answer("国金证券《储能高增，盈利能力提升》的分析员有哪些？", library, mode="extractive")  # CICC's word
    assert said_otherwise.kind == "card" and said_otherwise.text == result.text
    first = answer("国金证券《储能高增，盈利能力提升》的第一作者是谁？", library, mode="extractive")
    assert first.kind == "card" and "张明" in first.text and "李华" not in first.text
    assert answer("哪些券商给了华远电气买入评级？", library, mode="extractive").kind == "table"  # no author asked
    expects = answer("国金证券《储能高增，盈利能力提升》中分析师预计2026年归母净利润是多少？", library, mode="extractive")
    assert expects.kind != "card"  # what its analysts expect, not who they are
    rated = answer("国金证券《储能高增，盈利能力提升》给了什么评级？", library, mode="extractive")
    assert rated.kind == "card" and "“买入（维持）”评级[1]" in rated.text
    assert rated.citations[0].quote == "投资评级：买入（维持）"
    # a company report's card is taken at its word, whatever name the question gives its company
    other_name = answer("国金证券《储能高增，盈利能力提升》给Huayuan Electric的投资评级是什么？", library, mode="extractive")
    assert other_name.kind == "card" and "“买入（维持）”评级[1]" in other_name.text


def test_the_sentence_gives_the_as_of_date_the_ranges_and_the_revisions(library):
    result = answer("华远电气的目标价", library, mode="extractive")
    summary = result.table.summary
    target = column(result, "target_price")
    assert summary.startswith("截至2026-04-02，华远电气共3份报告（3家券商）")
    assert f"目标价45.00元[{target[2].citation}]–52.00元[{target[0].citation}]" in summary
    assert f"交银国际下调目标价至45.00元（原60.00元）[{target[2].citation}]" in summary
    assert "东吴证券首次覆盖，评级增持" in summary
    assert result.text.endswith(summary) and "| 国金证券[1] |" in result.text


def test_english_questions_filter_by_a_bound_on_the_target_in_hk_dollars(library):
    result = answer("Which brokers have a target price on Dragon Games above HK$600?", library, mode="extractive")
    assert result.kind == "table" and result.table.columns == ("Broker", "Date", "Rating", "Target price")
    (row,) = result.table.rows
    assert [c.value for c in row.cells] == ["Nomura", "2026-03-19", "Buy (maintained)", "HK$720.00 (from HK$680.00)"]
    assert_cited(result)
    assert "Nomura raised its target to HK$720.00 from HK$680.00[4]" in result.table.summary
    below = answer("Which brokers have a target price on Dragon Games below HK$600?", library, mode="extractive")
    assert [r.cells[0].value for r in below.table.rows] == ["UBS"]


def test_english_forecasts_keep_the_row_unit_and_a_dash_for_a_report_without_a_table(library):
    result = answer("What are the brokers' 2026 net profit forecasts for Dragon Games?", library, mode="extractive")
    assert result.table.columns[-1] == "2026E net profit (RMB mn)"
    assert [(r.cells[0].value, r.cells[-1].value) for r in result.table.rows] == [
        ("UBS", "—"), ("Nomura", "14,000 RMB mn")]
    assert "(1 of 2 state one)" in result.table.summary and result.table.summary.startswith("As of 2026-03-19")
    assert_cited(result)


def test_a_question_naming_one_broker_gets_its_row_and_one_scoped_to_a_report_goes_the_usual_way(library):
    one = answer("国金证券给华远电气的目标价是多少？", library, mode="extractive")
    assert one.kind == "table" and [row.cells[0].value for row in one.table.rows] == ["国金证券"]
    nomura = answer("What is Nomura's target price on Dragon Games?", library, mode="extractive")
    assert nomura.kind == "table" and [row.cells[0].value for row in nomura.table.rows] == ["Nomura"]
    doc = next(d for d in library.store.documents() if d.source.startswith("20260402"))
    scoped = answer("华远电气的目标价是多少？", library, filters=Filters(doc_ids=(doc.doc_id,)), mode="extractive")
    assert scoped.kind != "table"


def test_a_field_no_report_states_is_refused_not_guessed(library):
    result = answer("各家对华远电气2030年营业收入的预测是多少？", library, mode="extractive")
    assert not result.answerable and result.kind == "refusal"
    assert "3份报告都没有给出2030年营业收入预测" in result.text


def test_a_previous_target_is_the_one_the_card_gives_or_refused_naming_the_broker(library):
    nomura = answer("What was Nomura's previous target price on Dragon Games?", library, mode="extractive")
    assert nomura.kind == "table" and "HK$720.00 (from HK$680.00)" in nomura.text
    ubs = answer("What was UBS's price target on Dragon Games before the current one?", library, mode="extractive")
    assert not ubs.answerable and ubs.kind == "refusal"
    assert ubs.text == "UBS's report on Dragon Games Holdings in the library states no previous target price."


def test_no_matching_report_is_said_without_an_empty_table_and_one_brokers_past_target_goes_to_its_pages(library):
    none = answer("Which brokers cut their target price on Dragon Games?", library, mode="extractive")
    assert none.kind == "table" and none.answerable and none.table.rows == ()
    assert none.text == none.table.summary == "None of the 2 reports on Dragon Games Holdings (as of 2026-03-19) " \
        "matches the question."
    past = answer("What target price did UBS set on Dragon Games when it changed its target in August 2025?", library,
                  mode="extractive")
    assert past.kind != "table"  # its card gives today's target; the history its pages print answers this


def test_the_json_answer_has_the_table_with_each_cells_citation(library):
    data = answer_to_dict(answer("哪些券商给了华远电气买入评级？", library, mode="extractive"))
    assert data["answer_kind"] == "table" and data["figure"] is None
    table = data["table"]
    assert table["columns"] == ["券商", "日期", "评级", "目标价"]
    assert table["rows"][0]["cells"][2] == {"value": "买入（维持）", "citation": 3}
    assert table["rows"][0]["file"].startswith("20260320-国金证券")
    numbers = {c["n"] for c in data["citations"]}
    assert {c["citation"] for r in table["rows"] for c in r["cells"] if c["citation"]} == numbers
    assert answer_to_dict(answer("华远电气做什么业务？", library, mode="extractive"))["table"] is None


def test_the_terminal_draws_the_table_with_its_markers_and_sources(library):
    text = format_answer(answer("哪些券商给了华远电气买入评级？", library, mode="extractive"))
    assert "┃ 券商" in text and "买入（维持）[3]" in text and "52.00元[4]" in text
    assert "[3] 储能高增，盈利能力提升 — p.1" in text and "“投资评级：买入（维持）”" in text


# --- the question model, without a library -------------------------------------------------------------------


def doc(doc_id: str, **meta: str) -> Document:
    return Document(doc_id, f"{doc_id}.pdf", f"/x/{doc_id}.pdf", 1, 1, "", "pdf", meta=meta)


DOCS = [doc("a", publisher="中金公司", company="腾讯控股", ticker="0700.HK", rating="跑赢行业", date="2026-03-19"),
        doc("b", publisher="J.P. Morgan", company="Tencent", ticker="0700.HK", rating="Overweight", date="2026-03-19"),
        doc("c", publisher="国金证券", company="阳光电源", ticker="300274.SZ", rating="买入", date="2026-03-31")]
FOUND = companies(DOCS)
PUBLISHERS = ["中金公司", "J.P. Morgan", "国金证券"]


@pytest.mark.parametrize(("question", "fields"), [
    ("哪些券商给了阳光电源买入评级？", ("rating",)),
    ("阳光电源的目标价", ("target_price",)),
    ("各家对阳光电源2026年归母净利润的预测分别是多少？", ("forecast",)),
    ("Which brokers have a target price on Tencent above HK$700?", ("target_price",)),
    ("rating changes on Tencent", ("rating",)),
    ("What is the latest view on 腾讯?", ("rating", "target_price")),
    ("多少家券商覆盖阳光电源？", ("rating", "target_price")), ("How many brokers cover Tencent?", ("rating", "target_price")),
    ("How do brokers rate Tencent?", ("rating",)), ("Which of the brokers covering Tencent rate it a Buy?", ("rating",)),
    ("Which brokers have buy ratings on Tencent?", ("rating",)), ("Who has Tencent at Add?", ("rating",)),
    ("What is J.P. Morgan's call on Tencent?", ("rating",)), ("What Calls do brokers make on Tencent?", ("rating",)),
])
def test_cross_report_questions_name_a_company_and_a_field(question, fields):
    asked = cross_question(question, FOUND, PUBLISHERS)
    assert asked is not None and asked.fields == fields


@pytest.mark.parametrize(("question", "broker"), [
    ("国金对阳光电源的评级是什么？", "国金证券"), ("What is JPMorgan's price target on Tencent?", "J.P. Morgan"),
    ("小摩对腾讯的评级", "J.P. Morgan"), ("中金给腾讯的目标价", "中金公司"),
])
def test_a_broker_named_with_a_card_field_keeps_that_brokers_row(question, broker):
    asked = cross_question(question, FOUND, PUBLISHERS)
    assert asked is not None and asked.brokers == (broker,)


@pytest.mark.parametrize("question", [
    "国金预测阳光电源2026年的归母净利润",  # one broker's forecast: a figure answer cites its cell
    "阳光电源的主营业务是什么？", "宁德时代的目标价", "What does Tencent do?",
    "东吴证券的报告里，阳光电源的员工总数是多少？",  # a fact of a report, no card field
    "阳光电源深度报告提到的储能市场份额是多少？",
    "What is the 2035 price target for Tencent?",  # reports state 12-month targets, no such year's
    "Which titles drove the growth of Tencent's domestic games revenue in 4Q25?",  # which titles, not brokers
    "What discount rate does J.P. Morgan use in its DCF of Tencent?",  # the noun "rate", not the verb
    "How many GPUs does Tencent plan to add in 2026?",  # the verb "add", not the rating
    "Will Tencent buy back more shares this year?",
    "In J.P. Morgan's Key Call note on Tencent, what grossing is estimated for Honor of Kings: World?",  # a title
    # what a target rests on is the report's valuation passage, not the target
    "In J.P. Morgan's note on Tencent, what valuation multiple is the HK$690 price target based on?",
    "CICC cut its Tencent target price to HK$666 - what multiple does that target correspond to?",
    "中金给腾讯的目标价对应多少倍市盈率？",
])
def test_one_brokers_forecast_no_field_or_an_unknown_company_is_not_cross_report(question):
    assert cross_question(question, FOUND, PUBLISHERS) is None


def test_filters_are_read_from_the_question():
    asked = cross_question("Which brokers have a target price on Tencent above HK$700?", FOUND, PUBLISHERS)
    assert asked.bound == (">", 700.0) and asked.lang == "en" and asked.revision == ""
    assert cross_question("腾讯目标价不低于650港元的券商", FOUND, PUBLISHERS).bound == (">=", 650.0)
    assert cross_question("目标价在700港元以下的腾讯报告", FOUND, PUBLISHERS).bound == ("<=", 700.0)
    assert cross_question("Which brokers cut their target on Tencent?", FOUND, PUBLISHERS).revision == "down"
    assert cross_question("哪些券商上调了腾讯的目标价？", FOUND, PUBLISHERS).revision == "up"
    assert cross_question("Who rates Tencent Overweight?", FOUND, PUBLISHERS).ratings == ("增持",)
    assert cross_question("中金此前给腾讯的目标价是多少？", FOUND, PUBLISHERS).previous
    assert not cross_question("中金给腾讯的目标价是多少？", FOUND, PUBLISHERS).previous
    forecast = cross_question("Tencent 2027 revenue estimates by broker", FOUND, PUBLISHERS)
    assert (forecast.metric, forecast.year, forecast.metric_label) == ("revenue", "2027", "revenue")
    assert cross_question("各家对阳光电源明年净利润的预测", FOUND, PUBLISHERS).year == "2027"


def test_ratings_match_across_languages():
    assert rating_matches("Buy", ("买入",)) and rating_matches("买入", ("买入",))
    assert rating_matches("High Conviction Outperform", ("跑赢行业",)) and rating_matches("跑赢行业", ("跑赢行业",))
    assert not rating_matches("Overweight", ("买入",)) and not rating_matches("", ("买入",))


# --- the question set and the harness's table scores ----------------------------------------------------------

CROSS_SET = Path(__file__).resolve().parents[1] / "eval" / "datasets" / "broker_cross.jsonl"
BROKER_REPORTS = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks" / "broker-reports"


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_the_cross_report_set_has_tables_single_report_facts_and_unanswerable_questions():
    questions = load_dataset(CROSS_SET)
    assert len(questions) >= 40 and len({q.id for q in questions}) == len(questions)
    tables = [q for q in questions if q.table is not None]
    assert len(tables) >= 20 and sum(not q.answerable for q in questions) >= 5
    assert sum(q.table is None and q.answerable for q in questions) >= 8  # single-report facts
    assert {q.lang for q in tables} == {"zh", "en"}
    assert {q.table.field for q in tables} == {"rating", "target_price", "forecast"}
    for q in tables:
        for row in q.table.rows:
            assert row.broker and row.value and row.file.endswith(".pdf"), q.id
            if row.value == "—":
                assert not row.pages and row.text is None, q.id
                continue
            assert row.pages and row.text and len(row.text) <= 80, q.id
            printed = squash(row.text).replace(",", "").casefold()  # a figure or a rating, as its line prints it
            assert squash(row.value).replace(",", "").removesuffix(".00").casefold() in printed, q.id
    for q in questions:
        if q.answerable and q.table is None:
            assert all(contains_gold(e.text, q.answers) for e in q.evidence), q.id


def test_the_cross_report_sets_lines_are_on_their_pages_of_the_reports():
    if not BROKER_REPORTS.is_dir():
        pytest.skip(f"{BROKER_REPORTS} is not available")
    pdfium = pytest.importorskip("pypdfium2")
    pdfs = {path.name: path for path in BROKER_REPORTS.rglob("*.pdf")}
    texts: dict[str, list[str]] = {}

    def pages_of(name: str) -> list[str]:
        if name not in texts:
            document = pdfium.PdfDocument(str(pdfs[name]))
            try:
                texts[name] = [squash(page.get_textpage().get_text_range()) for page in document]
            finally:
                document.close()
        return texts[name]

    for q in load_dataset(CROSS_SET):
        for evidence in q.evidence:
            for page in evidence.pages:
                assert squash(evidence.text) in pages_of(evidence.file)[page - 1], (q.id, evidence.file, page)
        for row in (q.table.rows if q.table else ()):
            assert row.file in pdfs, (q.id, row.file)
            pages = pages_of(row.file)
            if row.text:  # the line on one of its pages; the value (a repeated row) on each
                assert any(squash(row.text) in pages[p - 1] for p in row.pages), (q.id, row.file)
                digits = squash(row.value).replace(",", "")
                assert all(digits in pages[p - 1].replace(",", "") for p in row.pages if digits[0].isdigit()), q.id


def test_table_scores_count_reports_brokers_values_and_cited_pages():
    expected = ExpectedTable("target_price", (
        ExpectedRow("a.pdf", "国金证券", "52.00", (1,), "目标价：52.00元"),
        ExpectedRow("b.pdf", "东吴证券", "—"),
        ExpectedRow("c.pdf", "交银国际", "45", (1,), "下调目标价至45.00元"),
        ExpectedRow("d.pdf", "开源证券", "60.00", (1,), "目标价60.00元")))
    cited = [Citation(n, "x", "d", file, "t", page, "", "q", 0, 1)
             for n, file, page in [(1, "a.pdf", 1), (2, "c.pdf", 2)]]
    rows = (TableRow((TableCell("国金证券"), TableCell("52.00元（原60.00元）", 1)), "d", "a.pdf"),
            TableRow((TableCell("东吴"), TableCell("—")), "d", "b.pdf"),
            TableRow((TableCell("交银国际"), TableCell("45.00元", 2)), "d", "C.PDF"),
            TableRow((TableCell("华泰证券"), TableCell("70.00元")), "d", "e.pdf"))
    table = AnswerTable(("券商", "目标价"), ("broker", "target_price"), rows)
    score = score_table(expected, Answer("q", "t", True, tuple(cited), kind="table", table=table))
    assert (score.found, score.brokers, score.values, score.cited, score.stated, score.extra) == (3, 2, 3, 1, 2, 1)
    assert score.recall == 0.75 and score.precision == 0.75
    refused = score_table(expected, Answer("q", "no", False, kind="refusal"))
    assert refused.found == refused.values == 0 and refused.precision is None
    summary = table_summary([score, refused], [120.0, 80.0])
    assert summary["table_recall"] == 3 / 8 and summary["table_values"] == 3 / 8
    assert summary["table_precision"] == 3 / 4 and summary["table_citations"] == 1 / 2


def test_cell_values_match_by_number_or_by_word():
    assert cell_matches("155.00元（原220.00元）", "155") and not cell_matches("155.00元（原220.00元）", "220")
    assert cell_matches("HK$690.00 (from HK$750.00)", "690.00") and cell_matches("15,009 百万元", "15009")
    assert cell_matches("High Conviction Outperform (maintained)", "High Conviction Outperform")
    assert cell_matches("—", "—") and not cell_matches("—", "780.00") and not cell_matches("Buy", "—")


def test_the_chat_page_shows_the_table_with_linked_markers_and_its_sentence(library, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from rag.settings import CONFIG_ENV, ENV

    for variable in (*ENV.values(), CONFIG_ENV):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv(ENV["library"], str(library.settings.library))
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=180).run()
    at = at.chat_input[0].set_value("哪些券商给了华远电气买入评级？").run()
    assert not at.exception, [e.value for e in at.exception]
    shown = "\n".join(m.value for m in at.markdown)
    assert "| 券商 | 日期 | 评级 | 目标价 |" in shown
    assert "买入（维持）[**\\[3\\]**](#source-0-3)" in shown  # a cell's marker links to its source
    assert "截至2026\\-04\\-02" in shown and "\\| 国金证券" not in shown  # the sentence, not the text table
