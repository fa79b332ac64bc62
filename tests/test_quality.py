"""Per-page text quality verdicts on real garbling patterns (pure functions, no PDFs)."""

from __future__ import annotations

import pytest

from ingest.quality import (
    BLANK,
    EMPTY,
    GARBLED,
    MAX_PAGE_CHARS,
    OK,
    OVERSIZED,
    SPARSE,
    assess,
    garbled_signals,
    mojibake_runs,
    page_ranges,
    readable_chars,
    strip_garbled,
    summarize,
)

ZH = "国联证券计算机行业周报：公司经营情况良好，营业收入为1,505.60亿元，同比增长87%。"
EN = "Revenue grew 12.5% to $1,505.60 million in fiscal 2024, driven by data-center demand."


@pytest.mark.parametrize("text", [ZH, EN, ZH + "\n" + EN])
def test_clean_report_text_is_ok(text):
    quality = assess(text * 2)
    assert quality.verdict == OK and quality.garbled == {} and not quality.needs_ocr


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("(cid:12)(cid:345)(cid:7) (cid:88)(cid:1023)" * 4 + " 2024", "garbled text layer ((cid:NN) runs)"),
        ("\ufffd\ufffd\ufffd \ufffd\ufffd公司\ufffd\ufffd",
         "garbled text layer (U+FFFD replacement characters)"),
        ("\ue001\ue002\ue003\ue004\ue005 公司 \ue006", "garbled text layer (private-use characters)"),
        ("\x01\x04\x05\x06\x07\x08\x0b\x0e\nRevenue 2024", "garbled text layer (control characters)"),
        (ZH.encode("utf-8").decode("latin-1"), "garbled text layer (mojibake)"),  # UTF-8 read as Latin-1
        (ZH.encode("gbk").decode("latin-1"), "garbled text layer (mojibake)"),  # GBK read as Latin-1
    ],
)
def test_garbled_layers_are_named_by_their_signal(text, reason):
    quality = assess(text)
    assert (quality.verdict, quality.reason) == (GARBLED, reason)
    assert quality.needs_ocr


def test_utf8_read_as_cp1252_loses_bytes_and_is_still_mojibake():
    text = ZH.encode("utf-8").decode("cp1252", errors="replace")  # 0x81/0x8d/0x8f/0x90/0x9d become U+FFFD
    quality = assess(text)
    assert quality.verdict == GARBLED
    assert set(quality.garbled) == {"mojibake", "replacement"}


@pytest.mark.parametrize(
    "text",
    [
        "La Société Générale a publié ses résultats à Zürich — « déjà » ; ações naïve £100 ±5% 30°C",
        "“Revenue”—grew… ‘strongly’ © ® ™ €5 §7 ¶2 ÄÖÜß",
        "约翰·史密斯——————国联证券",
    ],
)
def test_accented_latin_and_punctuation_are_not_mojibake(text):
    assert mojibake_runs(text) == []
    assert assess(text * 3).verdict == OK


def test_symbol_font_bullets_and_a_stray_symbol_are_not_garbled():
    bullets = "\uf0b7 营业收入增长\n\uf0b7 净利润增长\n\uf06c 毛利率提升\n" * 3  # Wingdings/Symbol bullets
    assert garbled_signals(bullets) == {}
    assert assess(EN + "\ufffd").verdict == OK  # one replacement character in a page of text


def test_a_few_garbled_characters_among_much_text_are_ok_but_a_page_of_them_is_not():
    assert assess(ZH * 10 + "(cid:3)(cid:4)(cid:5)(cid:6)").verdict == OK
    assert assess("\x01\x02\x03").verdict == GARBLED  # nothing readable at all: the whole layer is garbage


def test_empty_and_sparse_pages_depend_on_how_much_an_image_covers():
    assert assess("", lambda: 0.0).verdict == BLANK
    assert assess("", lambda: 0.02).verdict == BLANK  # a logo on an otherwise empty page
    assert assess(" \n ", lambda: 0.95).verdict == EMPTY
    sparse = assess("国联证券 3/12", lambda: 0.9)
    assert (sparse.verdict, sparse.chars) == (SPARSE, 7)
    assert sparse.reason == "only 7 characters of text on a page 90% covered by images"
    assert assess("国联证券 3/12", lambda: 0.3).verdict == OK  # a short page with a small figure
    assert assess(EN, lambda: 1.0).verdict == OK  # a full text layer over a scan: the layer is used


def test_image_cover_is_asked_only_for_short_text():
    def cover():
        raise AssertionError("image cover computed for a page with plenty of text")

    assert assess(EN * 3, cover).verdict == OK


def test_oversized_page_is_cut_not_ocrd():
    quality = assess("x" * (MAX_PAGE_CHARS + 1))
    assert quality.verdict == OVERSIZED and not quality.needs_ocr
    assert quality.reason == "text layer of 50,001 characters, more than a page holds"


def test_strip_garbled_keeps_the_readable_text():
    assert strip_garbled("\x01\x04\x05 Revenue (cid:7)2024\ufffd\ue001") == " Revenue 2024"
    assert strip_garbled("(cid:1)(cid:2)\x03") == ""
    assert readable_chars("(cid:12) 公司 2024") == 6


def test_findings_are_summarised_per_message_with_page_ranges():
    findings = [(1, "no text layer; OCR'd"), (2, "no text layer; OCR'd"), (3, "no text layer; OCR'd"),
                (7, "no text layer; OCR'd"), (5, "garbled text layer (mojibake); OCR'd")]
    assert summarize(findings) == ("pages 1-3, 7: no text layer; OCR'd",
                                   "page 5: garbled text layer (mojibake); OCR'd")
    assert page_ranges([9, 10, 1, 2, 3, 5]) == "1-3, 5, 9-10"
