"""OCR fallback on real PDFs: scanned pages (a rendered page of Chinese and English wrapped in a PDF by
reportlab), a font whose ToUnicode map is missing, an invisible ``(cid:NN)`` text layer over a scan, a scan
with a stamped header, and text drawn as outlines. Pages are small so that OCR stays quick on two cores."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pypdf
import pytest
from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from ingest.job import ingest_paths
from ingest.loaders import BadFile, load
from ingest.ocr import read_image, reading_order

PAGE = (420.0, 210.0)  # points: a strip of a report page, enough for four lines
SCALE = 2  # image pixels per point (144 dpi), the resolution the OCR renders at
SCAN_PAGES = [
    ["国联证券计算机行业周报", "Sora 实现文生视频跨越式突破", "Revenue grew 12.5% in 2024"],
    ["独角兽公司估值同比增长", "Gemini 1.5 Pro launched in February", "营业收入为 1,505.60 亿元"],
]


def cjk_font() -> Path:
    """A CJK TrueType font (Debian's fonts-wqy-zenhei, from .ci/system-deps); skip when there is none."""
    try:
        listed = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True, check=False)
        files = sorted(line.split(":")[0] for line in listed.stdout.splitlines() if line.strip())
    except OSError:
        files = []
    known = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
    files = ([str(known)] if known.exists() else []) + files
    if not files:
        pytest.skip("no CJK font installed (.ci/system-deps installs fonts-wqy-zenhei)")
    return Path(files[0])


def scan_image(lines: list[str], size: tuple[float, float] = PAGE) -> Image.Image:
    """A page of text as a grayscale raster, like a scanner makes it."""
    width, height = int(size[0] * SCALE), int(size[1] * SCALE)
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(cjk_font()), 26)
    for row, line in enumerate(lines):
        draw.text((40, 50 + row * 56), line, font=font, fill=0)
    return image


def make_scan_pdf(path: Path, pages: list[list[str]], *, hidden_text: str = "", header: str = "") -> Path:
    """An image-only PDF: each page one raster image; optionally an invisible text layer (render mode 3,
    as OCR tools add) holding ``hidden_text``, or a visible ``header`` line above the image."""
    pdf = canvas.Canvas(str(path), pagesize=PAGE, invariant=1)
    width, height = PAGE
    for lines in pages:
        pdf.drawImage(ImageReader(scan_image(lines).convert("RGB")), 0, 0, width=width, height=height - 16)
        if header:
            pdf.setFont("Helvetica", 9)
            pdf.drawString(20, height - 12, header)
        if hidden_text:
            text = pdf.beginText(40, height - 50)
            text.setTextRenderMode(3)
            text.setFont("Helvetica", 11)
            text.textLine(hidden_text)
            pdf.drawText(text)
        pdf.showPage()
    pdf.save()
    return Path(path)


def make_broken_tounicode_pdf(path: Path, pages: list[list[str]]) -> Path:
    """Real text in an embedded CJK TrueType subset, its /ToUnicode maps then removed (broken exporters):
    the page renders right but its text layer reads as control characters."""
    if "ZenHei" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("ZenHei", str(cjk_font()), subfontIndex=0))
    pdf = canvas.Canvas(str(path.with_suffix(".tmp.pdf")), pagesize=PAGE, invariant=1)
    for lines in pages:
        pdf.setFont("ZenHei", 13)
        for row, line in enumerate(lines):
            pdf.drawString(20, PAGE[1] - 40 - row * 28, line)
        pdf.showPage()
    pdf.save()
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(path.with_suffix(".tmp.pdf")))
    for page in writer.pages:
        for font in page["/Resources"]["/Font"].values():
            font.get_object().pop("/ToUnicode", None)
    writer.write(path)
    return path


def make_outlined_text_pdf(path: Path, lines: list[str]) -> Path:
    """Text drawn as vector shapes only (one filled rectangle per run of dark pixels): no text, no image."""
    pixels = np.asarray(scan_image(lines)) < 128
    pdf = canvas.Canvas(str(path), pagesize=PAGE, invariant=1)
    for y, row in enumerate(pixels):
        edges = np.flatnonzero(np.diff(np.concatenate(([0], row.astype(np.int8), [0]))))
        for start, end in zip(edges[::2], edges[1::2]):
            x, top, width = start / SCALE, PAGE[1] - (y + 1) / SCALE, (end - start) / SCALE
            pdf.rect(x, top, width, 1 / SCALE, stroke=0, fill=1)
    pdf.showPage()
    pdf.save()
    return path


def squeeze(text: str) -> str:
    """OCR drops the space between Chinese and Latin ("Sora实现"): compare without spaces."""
    return "".join(text.split())


def test_image_only_pdf_is_read_by_ocr(tmp_path):
    loaded = load(make_scan_pdf(tmp_path / "scan.pdf", SCAN_PAGES))
    assert loaded.ocr_pages == (1, 2) and loaded.blank_pages == ()
    assert loaded.quality == ("pages 1-2: no text layer (image-only page); OCR'd",)
    assert squeeze(loaded.pages[0]) == squeeze("".join(SCAN_PAGES[0]))
    assert squeeze(loaded.pages[1]) == squeeze("".join(SCAN_PAGES[1]))
    assert loaded.pages[0].split("\n")[0] == "国联证券计算机行业周报"  # lines stay lines, in reading order


def test_image_only_pdf_with_ocr_off_is_a_bad_file(tmp_path):
    with pytest.raises(BadFile) as caught:
        load(make_scan_pdf(tmp_path / "scan.pdf", SCAN_PAGES[:1]), ocr=False)
    assert str(caught.value) == (
        "image-only/scanned PDF: no text layer on any of its 1 pages; turn OCR on (REPORTQA_OCR=1) "
        "or OCR it (e.g. ocrmypdf) and ingest the result")


def test_broken_tounicode_map_is_detected_and_ocrd(tmp_path):
    path = make_broken_tounicode_pdf(tmp_path / "broken.pdf", [["国联证券计算机行业周报", "独角兽公司估值同比增长"]])
    assert pypdf.PdfReader(path).pages[0].extract_text().strip()[:1] < " "  # the layer really is garbage
    loaded = load(path)
    assert loaded.quality == ("page 1: garbled text layer (control characters); OCR'd",)
    assert loaded.ocr_pages == (1,)
    assert loaded.pages == ("国联证券计算机行业周报\n独角兽公司估值同比增长",)


def test_broken_tounicode_map_with_ocr_off_keeps_only_readable_text(tmp_path):
    path = make_broken_tounicode_pdf(tmp_path / "broken.pdf", [["国联证券计算机行业周报", "Revenue 2024"], ["独角兽"]])
    loaded = load(path, ocr=False)
    assert loaded.ocr_pages == ()
    assert loaded.quality == ("page 1: garbled text layer (control characters); OCR off, kept 11 characters",
                              "page 2: garbled text layer (control characters); OCR off, page left out")
    assert squeeze(loaded.pages[0]) == "Revenue2024" and loaded.blank_pages == (2,)


def test_invisible_cid_layer_over_a_scan_is_replaced_by_ocr(tmp_path):
    junk = "(cid:12)(cid:345)(cid:7)(cid:88) (cid:1023)(cid:5)"
    path = make_scan_pdf(tmp_path / "cid.pdf", SCAN_PAGES[:1], hidden_text=junk)
    with pytest.raises(BadFile, match=r"^garbled text layer \(\(cid:NN\) runs\) on all 1 pages; turn OCR on"):
        load(path, ocr=False)
    loaded = load(path)
    assert loaded.quality == ("page 1: garbled text layer ((cid:NN) runs); OCR'd",)
    assert "cid" not in loaded.pages[0] and squeeze(loaded.pages[0]) == squeeze("".join(SCAN_PAGES[0]))


def test_scan_with_a_stamped_header_is_near_empty_and_ocrd(tmp_path):
    loaded = load(make_scan_pdf(tmp_path / "stamped.pdf", SCAN_PAGES[1:], header="Page 3 of 12"))
    assert loaded.ocr_pages == (1,)
    assert loaded.quality == ("page 1: only 9 characters of text on a page 92% covered by images; OCR'd",)
    assert "独角兽公司估值同比增长" in loaded.pages[0] and "1,505.60" in loaded.pages[0]


def test_text_drawn_as_outlines_is_found_by_probing_ocr(tmp_path):
    loaded = load(make_outlined_text_pdf(tmp_path / "outlines.pdf", SCAN_PAGES[0]))
    assert loaded.quality == ("page 1: no text layer (text drawn as outlines?); OCR'd",)
    assert squeeze(loaded.pages[0]) == squeeze("".join(SCAN_PAGES[0]))


def test_reading_order_groups_boxes_into_lines():
    def box(x0, y0, x1, y1):
        return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]

    boxes = [(box(300, 102, 400, 128), "B"), (box(10, 100, 200, 126), "A"), (box(10, 10, 200, 36), "title"),
             (box(10, 200, 90, 226), "C")]
    assert reading_order(boxes) == ["title", "A B", "C"]
    assert read_image(np.full((736, 736), 255, dtype=np.uint8)).text == ""  # a blank image reads as nothing


def test_job_marks_ocr_pages_and_chunks(library, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    make_scan_pdf(docs / "scan.pdf", SCAN_PAGES)
    summary = ingest_paths(library, [docs])
    assert summary.ok, [r.line() for r in summary.results]
    (doc,) = library.store.documents()
    assert doc.ocr_pages == (1, 2)
    chunks = list(library.store.iter_chunks())
    assert chunks and all(chunk.ocr for chunk in chunks)
    assert any("1,505.60" in chunk.text and chunk.page_end == 2 for chunk in chunks)
    off = ingest_paths(library.__class__(library.settings.with_(ocr=False, library=tmp_path / "off"),
                                         embedder=library.embedder), [docs])
    assert [r.reason.split(";")[0] for r in off.results] == [
        "image-only/scanned PDF: no text layer on any of its 2 pages"]
