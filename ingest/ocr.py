"""Offline OCR for PDF pages without a usable text layer: pypdfium2 renders the page, RapidOCR reads it.

``settle`` decides a page's text from its quality verdict (``ingest.quality``): the text layer, the OCR'd
text, or what is left of a garbled layer, plus the one-line finding the loader reports.
rapidocr-onnxruntime carries its Chinese/English PP-OCRv4 models inside the wheel, so nothing is downloaded;
the engine loads once per process (about a second) on first use and is shared by all threads.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pypdfium2.raw as pdfium_c

from ingest.quality import (
    EMPTY,
    GARBLED,
    MAX_PAGE_CHARS,
    OVERSIZED,
    PageQuality,
    readable_chars,
    strip_garbled,
)

log = logging.getLogger(__name__)

DPI = 144  # 10-point print becomes ~20 px tall: enough for the recogniser (it scales each line to 48 px)
MIN_SCORE = 0.5  # recognition confidence below which a line is dropped (RapidOCR's own default)
_LOCK = threading.Lock()


class OcrUnavailable(RuntimeError):
    """The OCR engine cannot be loaded (rapidocr-onnxruntime or one of its dependencies is missing)."""


@dataclass(frozen=True)
class OcrText:
    """What OCR read on one image: text lines in reading order, with their mean confidence."""

    text: str
    lines: int
    score: float  # mean recognition confidence of the kept lines, 0.0 when none
    seconds: float


@dataclass(frozen=True)
class PageText:
    """The text a page ends up with, whether OCR produced it, and the finding to report (or "")."""

    text: str
    ocr: bool = False
    finding: str = ""


def settle(page: Any, text: str, quality: PageQuality, enabled: bool) -> PageText:
    """Choose a page's text from its text layer and its ``quality``: OCR it when it needs and ``enabled``."""
    if quality.verdict == OVERSIZED:
        return PageText(text[:MAX_PAGE_CHARS], finding=f"{quality.reason}; kept the first {MAX_PAGE_CHARS:,}")
    if not quality.needs_ocr:
        return PageText(text)
    kept = strip_garbled(text) if quality.verdict == GARBLED else text
    if not enabled:
        return PageText(kept, finding=f"{quality.reason}; {_left(kept, 'OCR off')}")
    try:
        read = read_page(page)
    except OcrUnavailable as error:
        log.warning("OCR unavailable: %s", error)
        return PageText(kept, finding=f"{quality.reason}; {_left(kept, 'OCR unavailable')}")
    except Exception as error:  # noqa: BLE001 - a page that fails to render or read keeps what it had
        log.warning("OCR failed: %s", error)
        failed = f"OCR failed ({type(error).__name__})"
        return PageText(kept, finding=f"{quality.reason}; {_left(kept, failed)}")
    log.info("OCR read %d lines in %.1f s (mean confidence %.2f)", read.lines, read.seconds, read.score)
    if readable_chars(read.text) > readable_chars(kept):
        return PageText(read.text, ocr=True, finding=f"{quality.reason}; OCR'd")
    return PageText(kept, finding=f"{quality.reason}; {_left(kept, 'OCR found no more text')}")


def _left(kept: str, why: str) -> str:
    """How a page that was not OCR'd ends up: "OCR off, page left out" or "OCR off, kept 12 characters"."""
    chars = readable_chars(kept)
    return f"{why}, kept {chars} characters" if chars else f"{why}, page left out"


def image_cover(page: Any) -> float:  # pypdfium2.PdfPage
    """Share of the page's area under image objects (a scan covers ~1.0; a logo a few per cent)."""
    left, bottom, right, top = page.get_bbox()
    area = 0.0
    for image in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=3):
        x0, y0, x1, y1 = image.get_bounds()
        area += max(0.0, min(x1, right) - max(x0, left)) * max(0.0, min(y1, top) - max(y0, bottom))
    return min(1.0, area / max(1.0, (right - left) * (top - bottom)))


_PROBE_PAGES = 3  # a PDF without text or images: OCR this many pages before giving up


def ocr_blank_pages(document: Any, pages: list[PageText]) -> list[PageText]:
    """A PDF without text or images may draw its text as outlines: OCR its pages while OCR finds text."""
    empty = PageQuality(EMPTY, "no text layer (text drawn as outlines?)")
    settled: list[PageText] = []
    for index in range(len(document)):
        if index >= _PROBE_PAGES and not any(page.ocr for page in settled):
            return settled + pages[index:]
        page = document[index]
        try:
            settled.append(settle(page, "", empty, True))
        finally:
            page.close()
    return settled


def no_text_reason(pages: list[PageText], ocr: bool) -> str:
    """Why a PDF yields no text on any page, and what to do, in one line (the loader's ``BadFile``)."""
    n = len(pages)
    garbled = [page.finding for page in pages if page.finding.startswith("garbled")]
    if garbled and len(garbled) == n:
        cause = garbled[0].split(";")[0]
        advice = "turn OCR on (REPORTQA_OCR=1) or" if not ocr else "OCR read no text either;"
        return f"{cause} on all {n} pages; {advice} re-export the PDF with Unicode (ToUnicode) fonts"
    if not ocr:
        return (f"image-only/scanned PDF: no text layer on any of its {n} pages; "
                "turn OCR on (REPORTQA_OCR=1) or OCR it (e.g. ocrmypdf) and ingest the result")
    if any("OCR unavailable" in page.finding for page in pages):
        return (f"image-only/scanned PDF: no text layer on any of its {n} pages; OCR is unavailable here: "
                "install rapidocr-onnxruntime, or OCR it (e.g. ocrmypdf) and ingest the result")
    return (f"image-only/scanned PDF: no text layer on any of its {n} pages; "
            "OCR read no text in them either: check that the pages hold legible text")


def available() -> bool:
    """Whether the OCR engine can be loaded here."""
    try:
        _engine()
    except OcrUnavailable:
        return False
    return True


@lru_cache(maxsize=1)
def _engine() -> Any:  # rapidocr_onnxruntime.RapidOCR
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError as error:  # the wheel or one of its native dependencies (opencv, onnxruntime)
        raise OcrUnavailable(f"rapidocr-onnxruntime cannot be imported ({error})") from None
    # RapidOCR attaches a DEBUG stream handler to its loggers; keep them to warnings.
    for name in ("RapidOCR", "OrtInferSession"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # One line per recognition call: batches pad every line to the widest, which cost ~1.8x the CPU time on a
    # dense A4 page here (9.5 s against 16.7 s single-threaded).
    return RapidOCR(text_score=MIN_SCORE, rec_batch_num=1)


def read_image(image: np.ndarray) -> OcrText:
    """OCR a grayscale or BGR image (a NumPy array) into text lines in reading order."""
    started = time.perf_counter()
    engine = _engine()
    with _LOCK:  # RapidOCR keeps per-call state on the engine object
        result, _ = engine(image)
    items = [(box, text, float(score)) for box, text, score in (result or []) if text.strip()]
    lines = reading_order([(box, text) for box, text, _ in items])
    score = sum(s for _, _, s in items) / len(items) if items else 0.0
    return OcrText("\n".join(lines), len(lines), score, time.perf_counter() - started)


def read_page(page: Any, dpi: int = DPI) -> OcrText:  # pypdfium2.PdfPage
    """Render one PDF page in grayscale at ``dpi`` and OCR it."""
    bitmap = page.render(scale=dpi / 72, grayscale=True)
    try:
        image = bitmap.to_numpy().copy()  # the array views the bitmap's buffer, which close() frees
    finally:
        bitmap.close()
    return read_image(image)


def reading_order(boxes: Sequence[tuple[Sequence[Sequence[float]], str]]) -> list[str]:
    """Group text boxes (four corner points each) into lines, top to bottom, and each line left to right.

    Two boxes share a line when their vertical extents overlap by more than half the smaller height;
    boxes on one line are joined with a space (cleaning later removes spaces between Chinese characters).
    """
    spans = []
    for points, text in boxes:
        ys = [float(p[1]) for p in points]
        xs = [float(p[0]) for p in points]
        spans.append((min(ys), max(ys), min(xs), text.strip()))
    spans.sort(key=lambda s: (s[0], s[2]))
    lines: list[list[tuple[float, float, float, str]]] = []
    for span in spans:
        line = lines[-1] if lines else None
        if line is not None and _same_line(line, span):
            line.append(span)
        else:
            lines.append([span])
    return [" ".join(s[3] for s in sorted(line, key=lambda s: s[2])) for line in lines]


def _same_line(line: list[tuple[float, float, float, str]], span: tuple[float, float, float, str]) -> bool:
    top, bottom = min(s[0] for s in line), max(s[1] for s in line)
    overlap = min(bottom, span[1]) - max(top, span[0])
    return overlap > 0.5 * min(bottom - top, span[1] - span[0])
