"""PDF pages as pictures: a reportlab PDF rendered by pypdfium2, quotes found on it and boxed."""

from __future__ import annotations

import io

import pypdfium2 as pdfium
from pdfmaker import make_pdf
from PIL import Image

from ingest.pdfpages import OUTLINE, line_boxes, page_pixels, page_png, quote_char_indices

QUOTE = "Widget revenue reached 4.2 billion in 2023."


def _outline_pixels(png: bytes) -> list[tuple[int, int]]:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    pixels = image.load()
    return [(x, y) for y in range(image.height) for x in range(image.width) if pixels[x, y] == OUTLINE[:3]]


def test_page_png_boxes_the_quote_on_the_rendered_page(tmp_path):
    pdf = make_pdf(tmp_path / "r.pdf", [["Cover page."], ["Intro line.", QUOTE]])
    png = page_png(pdf, 2, (QUOTE,), scale=1.0)
    assert Image.open(io.BytesIO(png)).size == (596, 842)  # A4 (595.3 x 841.9 pt) at 72 dpi, rounded up
    outline = _outline_pixels(png)
    # make_pdf draws line 2 of a page at baseline 842 - 56 - 32 = 754 pt, i.e. 88 px from the top
    assert outline and min(y for _, y in outline) >= 70 and max(y for _, y in outline) <= 96
    assert min(x for x, _ in outline) >= 50  # starts at the left margin (56 pt)
    assert _outline_pixels(page_png(pdf, 2, ("A sentence that is not on the page at all.",), scale=1.0)) == []
    assert _outline_pixels(page_png(pdf, 1, (QUOTE,), scale=1.0)) == []  # the quote is on page 2 only


def test_page_pixels_renders_for_ocr(tmp_path):
    pdf = pdfium.PdfDocument(str(make_pdf(tmp_path / "r.pdf", [["Cover page."]])))
    try:
        gray, colour = page_pixels(pdf[0], 1.0, grayscale=True), page_pixels(pdf[0], 2.0)
    finally:
        pdf.close()
    assert gray.shape == (842, 596) and colour.shape == (1684, 1191, 3)
    assert gray.min() < 128 < gray.max()  # black text on a white page


def test_quote_is_found_across_spacing_width_and_line_breaks():
    page = list("营业收入 为１５０５.60\r\n亿元，同比增长 12%。")
    found = quote_char_indices(page, "营业收入为1505.60亿元")
    assert "".join(page[i] for i in found) == "营业收入为１５０５.60亿元"
    # a quote not on the page as a whole is matched clause by clause (clauses under 4 characters ignored)
    partial = quote_char_indices(page, "营业收入为1505.60亿元，毛利率大幅下降，同比增长12%")
    assert "".join(page[i] for i in partial) == "营业收入为１５０５.60亿元同比增长12%"
    assert quote_char_indices(page, "净利润") == []


def test_character_boxes_merge_into_one_box_per_line():
    boxes = [(10, 700, 16, 712), (16, 700, 22, 712), (22, 0, 22, 0), (10, 680, 16, 692), (16, 680, 22, 692)]
    assert line_boxes(boxes) == [[10, 700, 22, 712], [10, 680, 22, 692]]
