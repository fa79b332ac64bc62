"""PDF pages as pictures: render a page (pypdfium2), find a quote's characters on it and box them.

The one adapter for page images: the app's cited page with its quote highlighted uses :func:`page_png`;
OCR can render through :func:`page_pixels`. Quotes come from cleaned chunk text (lines joined, spaces
normalised), so they are matched to the page's characters without spacing, width or case.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

HIGHLIGHT = (255, 170, 0, 90)  # quote boxes on a page image: translucent fill ...
OUTLINE = (230, 120, 0, 255)  # ... and an opaque outline
_CLAUSE = re.compile(r"[，,。；;：:、！？!?]")
MIN_CLAUSE = 4  # characters a clause needs to be searched for on its own

Box = tuple[float, float, float, float]  # left, bottom, right, top in PDF points


def page_pixels(page: Any, scale: float, grayscale: bool = False) -> np.ndarray:  # PdfPage
    """The rendered ``page`` as an array (height × width, × 3 colour channels unless ``grayscale``)."""
    bitmap = page.render(scale=scale, grayscale=grayscale)
    try:
        return bitmap.to_numpy().copy()  # the array views the bitmap's buffer, which close() frees
    finally:
        bitmap.close()


def page_png(path: str | Path, page_number: int, quotes: Sequence[str] = (), scale: float = 1.6) -> bytes:
    """PNG of page ``page_number`` (1-based) of the PDF at ``path``, the characters of each quote boxed.

    Page coordinates are mapped through the page's bounding box; rotated pages are not handled.
    """
    import pypdfium2 as pdfium
    from PIL import Image, ImageDraw

    pdf = pdfium.PdfDocument(str(path))
    try:
        page = pdf[page_number - 1]
        image = page.render(scale=scale).to_pil().convert("RGBA")
        boxes = quote_boxes(page, quotes)
        left, _, _, top = page.get_bbox()
    finally:
        pdf.close()
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    for x0, y0, x1, y1 in line_boxes(boxes):  # PDF points (origin bottom left) to pixels (top left)
        box = [(x0 - left) * scale, (top - y1) * scale, (x1 - left) * scale, (top - y0) * scale]
        draw.rectangle([v + d for v, d in zip(box, (-2, -2, 2, 2))], fill=HIGHLIGHT, outline=OUTLINE, width=2)
    out = io.BytesIO()
    Image.alpha_composite(image, overlay).convert("RGB").save(out, format="PNG")
    return out.getvalue()


def quote_boxes(page: Any, quotes: Sequence[str]) -> list[Box]:  # pypdfium2.PdfPage
    """Character boxes (PDF points) of every quote found on ``page``."""
    import pypdfium2.raw as pdfium_c

    text = page.get_textpage()
    try:
        chars = [chr(pdfium_c.FPDFText_GetUnicode(text.raw, i)) for i in range(text.count_chars())]
        return [text.get_charbox(i) for quote in quotes for i in quote_char_indices(chars, quote)]
    finally:
        text.close()


def quote_char_indices(page_chars: Sequence[str], quote: str) -> list[int]:
    """Indices of the page characters that spell ``quote``, ignoring spacing (cleaning joined broken lines).

    When the whole quote is not on the page, its clauses that are (in order) are used instead.
    """
    page, index = _normalized(page_chars)
    pieces = [_normalized(quote)[0]]
    if pieces[0] not in page:
        pieces = [p for p in (_normalized(c)[0] for c in _CLAUSE.split(quote)) if len(p) >= MIN_CLAUSE]
    found, cursor = [], 0
    for piece in pieces:
        at = page.find(piece, cursor) if piece else -1
        if at >= 0:
            found.extend(index[at : at + len(piece)])
            cursor = at + len(piece)
    return sorted(set(found))


def line_boxes(boxes: Sequence[Box]) -> list[list[float]]:
    """Character boxes ``(left, bottom, right, top)`` merged into one box per text line."""
    lines: list[list[float]] = []
    for left, bottom, right, top in boxes:
        if right <= left or top <= bottom:
            continue  # generated spaces and line breaks have no box
        last = lines[-1] if lines else None
        if last and bottom < last[3] and top > last[1] and left >= last[0] - 1:
            last[:] = [min(last[0], left), min(last[1], bottom), max(last[2], right), max(last[3], top)]
        else:
            lines.append([left, bottom, right, top])
    return lines


def normalized_chars(chars: Sequence[str]) -> tuple[str, list[int]]:
    """``chars`` as one string compared without spacing, width or case, and each of its characters' index in
    ``chars`` (what :func:`quote_char_indices` searches; for callers that search one page many times)."""
    return _normalized(chars)


def _normalized(chars: Sequence[str]) -> tuple[str, list[int]]:
    """Characters compared without spacing, width or case, each mapped back to its index in ``chars``."""
    text, index = [], []
    for i, char in enumerate(chars):
        for c in unicodedata.normalize("NFKC", char).casefold():
            if not c.isspace() and c not in "\u00ad\ufffe":
                text.append(c)
                index.append(i)
    return "".join(text), index
