"""The bilingual lexicon: a question's words as the other language writes them (CC-CEDICT, read offline)."""

from __future__ import annotations

from rag.evidence import credited
from rag.lexicon import MAX_SHARED, renderings, said_otherwise


def test_a_chinese_word_renders_as_its_plain_english_senses():
    assert renderings("语音识别") == ("speech recognition",)
    assert {"image", "picture"} <= set(renderings("图像"))
    assert "recommend" in renderings("推荐")  # "to recommend": the infinitive's "to" is dropped


def test_an_english_word_renders_as_the_chinese_words_that_have_it_as_a_sense():
    assert "窗口" in renderings("window")
    assert "上下文" in renderings("context")
    assert "基准" in renderings("benchmarks")  # stemmed: benchmarks = benchmark


def test_general_senses_numbers_and_unknown_words_render_as_nothing():
    assert renderings("standard") == renderings("good") == renderings("increase") == ()  # senses of many words
    assert MAX_SHARED < 20
    assert renderings("2019") == renderings("3M") == renderings("竖屏") == ()


def test_a_passage_says_a_word_in_the_other_language_only_with_every_word_of_a_rendering():
    row = "Audio\tSpeech recognition\t+1.2%\t-5.0%"
    assert said_otherwise(("语音识别", "幅度"), row, "zh") == ("语音识别",)
    assert said_otherwise(("语音识别",), "Speech synthesis", "zh") == ()  # "speech" alone is not enough
    assert said_otherwise(("context", "window"), "上下文窗口容量可以在生产环境中运行", "en") == ("context", "window")
    # a word the passage says as written is not said otherwise
    assert said_otherwise(("window",), "the context window", "en") == ()


def test_a_latin_word_in_a_chinese_question_quotes_the_report_and_is_not_rendered():
    assert said_otherwise(("coding",), "文本、代码、图像", "zh") == ()
    assert said_otherwise(("coding",), "文本、代码、图像", "en") == ("coding",)


def test_a_word_said_in_the_other_language_earns_the_credit_of_its_weight(monkeypatch):
    import rag.evidence

    terms, row = ("语音识别", "幅度"), "Speech recognition +1.2% -5.0%"
    weights = {"语音识别": 3.0, "幅度": 1.0}
    assert credited(terms, row, "zh", weights) == 0.75
    monkeypatch.setattr(rag.evidence, "RENDERED", 0.5)
    assert credited(terms, row, "zh", weights) == 0.375
    assert credited(terms, "语音识别的幅度", "zh", weights) == 1.0  # said as written: full weight


def test_the_parsed_dictionary_is_kept_in_the_user_cache_and_a_broken_copy_is_parsed_again(tmp_path, monkeypatch):
    from rag import lexicon

    parsed = lexicon._tables()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    lexicon._tables.cache_clear()
    try:
        cached = lexicon._cache_path()
        assert cached.is_relative_to(tmp_path) and not cached.exists()
        stale = cached.with_name("lexicon-0000000000000000.pickle")  # an earlier version's
        stale.parent.mkdir(parents=True)
        stale.write_bytes(b"old")
        assert lexicon._tables() == parsed and cached.exists()  # parsed, then written
        assert not stale.exists()
        lexicon._tables.cache_clear()
        monkeypatch.setattr(lexicon, "_parse", lambda: ({}, {}))  # a read must not parse
        assert lexicon._tables() == parsed
        lexicon._tables.cache_clear()
        cached.write_bytes(b"not a pickle")
        assert lexicon._tables() == ({}, {})  # unreadable: parsed again (here: the stand-in) and rewritten
        assert list(cached.parent.iterdir()) == [cached]  # no partial file left behind
    finally:
        lexicon._tables.cache_clear()
