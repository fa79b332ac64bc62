"""Number-safe sentence splitting and Chinese-aware tokenisation."""

from rag.text import cjk_ratio, number_key, numbers, split_sentences, tokenize


def test_chinese_sentences_split_at_full_stops_not_inside_numbers():
    text = "营业收入为1,505.60亿元，同比增长87%。毛利率为23.15%！2024.02.08发布的报告；是否继续？"
    assert split_sentences(text) == [
        "营业收入为1,505.60亿元，同比增长87%。",
        "毛利率为23.15%！",
        "2024.02.08发布的报告；",
        "是否继续？",
    ]


def test_english_sentences_keep_numbers_and_abbreviations_whole():
    text = "Revenue was $1,505.60 million in the U.S. market. Mr. Smith said 87% grew. Done"
    assert split_sentences(text) == [
        "Revenue was $1,505.60 million in the U.S. market. ",
        "Mr. Smith said 87% grew. ",
        "Done",
    ]


def test_pieces_concatenate_back_to_the_text():
    text = "第一句。  第二句！\n\nThird one. Fourth? 1.5 Pro 可以处理 100,000 行代码。"
    assert "".join(split_sentences(text)) == text


def test_closing_quotes_stay_with_their_sentence():
    assert split_sentences("他说“好。”然后走了。") == ["他说“好。”", "然后走了。"]


def test_tokenize_segments_chinese_and_keeps_numbers_whole():
    tokens = tokenize("贵州茅台2023年营业收入为1,505.60亿元")
    assert "1505.60" in tokens and "2023" in tokens
    assert "营业" in tokens and "收入" in tokens and "茅台" in tokens
    assert "1505" not in tokens


def test_tokenize_english_lowercases_and_drops_stopwords():
    assert tokenize("What is the FY2018 capital expenditure of 3M?") == ["fy2018", "capital", "expenditure", "3m"]


def test_numbers_and_number_keys():
    assert numbers("净利润 1,505.60 亿元，增长 87%，共 3 家") == ["1,505.60", "87%", "3"]
    assert number_key("1,577.00") == number_key("1577") == "1577"
    assert number_key("87%") == "87"


def test_cjk_ratio():
    assert cjk_ratio("中文") == 1.0
    assert cjk_ratio("abc") == 0.0
    assert cjk_ratio("Sora 模型") == 2 / 6


def test_dates_with_layout_spaces_are_not_sentence_ends():
    text = "1、《计算机迎 10 年估值底》2024. 02. 08 2、《重仓持股比例环比下降》2024. 02. 03"
    assert split_sentences(text) == [text]
