"""Citation numbers: [1], [2], … in order of first appearance in the answer text, each citation still
pointing at the passage it quotes (``Answer.hits[c.hit - 1]``). Real answers over the demo report, and a
generated answer over loopback that cites its passages out of order."""

from __future__ import annotations

import re

import pytest
from conftest import REFERENCE_REPORT
from openai_stub import OpenAIStub

from ingest.job import ingest_paths
from rag.answer import answer, answer_stream, numbered_by_appearance, renumber_markers
from rag.library import Library
from rag.settings import Settings
from rag.types import Answer

MARKER = re.compile(r"\[(\d+)\]")
PASSAGE = re.compile(r"<<<PASSAGE (\d+) (\w+)>>>\n[^\n]*\n(.*?)\n<<<END \1 \2>>>", re.S)
QUESTIONS = {
    "国联证券给计算机行业的上次建议是什么？": "强于大市",  # the rating passage is the second hit
    "OpenAI 发布的 Sora 能生成多长的视频？": "Sora",  # the second, third and fifth hits
    "Gemini 1.5 Pro 在生产环境里最多能处理多少 token 的上下文？": "100万个 token",
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory, embedder) -> Library:
    folder = tmp_path_factory.mktemp("numbers")
    library = Library(Settings.load(environ={}, library=folder / "library"), embedder=embedder)
    assert ingest_paths(library, [REFERENCE_REPORT]).ok
    return library


def assert_numbered_by_appearance(result: Answer) -> None:
    markers = [int(n) for n in MARKER.findall(result.text)]
    first_seen = list(dict.fromkeys(markers))
    assert first_seen == list(range(1, len(first_seen) + 1))  # [1] first, each new number one higher
    assert sorted({c.n for c in result.citations}) == first_seen
    assert [c.n for c in result.citations] == sorted(c.n for c in result.citations)
    for citation in result.citations:  # each number still leads to the passage and span it quotes
        chunk = result.hits[citation.hit - 1].chunk
        assert chunk.chunk_id == citation.chunk_id
        assert chunk.text[citation.start : citation.end] == citation.quote


@pytest.mark.parametrize("question", list(QUESTIONS))
def test_extractive_answers_number_their_citations_from_one(demo, question):
    result = answer(question, demo)
    assert result.answerable and QUESTIONS[question] in result.text
    assert result.text.index("[1]") == MARKER.search(result.text).start()
    assert_numbered_by_appearance(result)
    assert numbered_by_appearance(result) == result  # numbering twice changes nothing


def test_answers_citing_later_passages_first_are_renumbered(demo):
    rating = answer("国联证券给计算机行业的上次建议是什么？", demo)
    assert [(c.n, c.hit) for c in rating.citations] == [(1, 2)]  # passage 2, shown as [1]
    assert rating.text.endswith("[1]") and "[2]" not in rating.text
    video = answer("OpenAI 发布的 Sora 能生成多长的视频？", demo)
    hits = [c.hit for c in video.citations]
    assert len(hits) >= 2 and hits == sorted(hits) and hits[0] > 1  # later passages, in reading order
    assert [c.n for c in video.citations] == list(range(1, len(hits) + 1))


def test_streamed_extractive_text_is_the_numbered_answer(demo):
    items = list(answer_stream("国联证券给计算机行业的上次建议是什么？", demo))
    assert items[0] == items[-1].text and items[0].endswith("[1]")


def first_sentence(text: str) -> str:
    """The first sentence of the passage's first line of body text (headings skipped)."""
    line = next(line for line in text.splitlines() if len(line.strip()) > 8 and not line.startswith("#"))
    return re.split(r"(?<=[。！？])", line.strip())[0]


def test_generated_answer_citing_passages_out_of_order_is_renumbered(demo, tmp_path):
    def cite_three_then_one(body: dict) -> str:
        passages = {int(n): text for n, _, text in PASSAGE.findall(body["messages"][1]["content"])}
        return f"{first_sentence(passages[3])}[3]{first_sentence(passages[1])}[1]"

    with OpenAIStub(replies=[cite_three_then_one], chunk_chars=3) as stub:
        settings = demo.settings.with_(llm_base_url=stub.base_url, llm_model="stub-model")
        library = Library(settings, demo.embedder, demo.store)
        items = list(answer_stream("Sora 和 Gemini 1.5 有哪些突破？", library, mode="llm"))
    result, streamed = items[-1], "".join(items[:-1])
    assert result.mode == "llm" and result.answerable
    assert MARKER.findall(streamed) == ["3", "1"]  # the model cites passage numbers ...
    assert MARKER.findall(result.text) == ["1", "2"]  # ... the answer reads [1], [2]
    assert [(c.n, c.hit) for c in result.citations] == [(1, 3), (2, 1)]
    assert renumber_markers(streamed) == result.text  # what the app shows while streaming
    assert_numbered_by_appearance(result)


def test_renumber_markers_handles_grouped_and_partial_markers():
    assert renumber_markers("a[4] b[2, 4] c[7-8] d[2") == "a[1] b[2][1] c[3][4] d[2"
    assert renumber_markers("x[3]", {3: 1}) == "x[1]"
