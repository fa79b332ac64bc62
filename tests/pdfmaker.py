"""Make real PDFs with reportlab for tests: known text on known pages, headers/footers, encryption, no text.

Output is deterministic (reportlab's ``invariant`` mode): the same call writes the same bytes, so content-hash
document ids are stable across runs. Chinese is drawn with reportlab's built-in ``STSong-Light`` CID font,
which needs no font file; pure-ASCII lines may use a standard Type 1 font such as Helvetica.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.lib.pdfencrypt import StandardEncryption
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

CJK_FONT = "STSong-Light"
MARGIN = 56.0
LEADING = 16.0


def register_cjk_font() -> str:
    """Register the built-in Chinese CID font once and return its name."""
    if CJK_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
    return CJK_FONT


def make_pdf(
    path: Path,
    pages: list[list[str]],
    header: str | None = None,
    footer_page_numbers: bool = True,
    font: str = CJK_FONT,
    *,
    footer_format: str = "{page} / {total}",
    font_size: float = 11.0,
    title: str = "",
    author: str = "",
    subject: str = "",
    user_password: str | None = None,
    owner_password: str | None = None,
) -> Path:
    """Write a PDF with one list of lines per page and return its path.

    ``header`` is drawn at the top of every page (``{page}`` is replaced by the page number);
    with ``footer_page_numbers`` each page gets ``footer_format`` (``{page}``, ``{total}``) at the bottom.
    An empty line draws nothing (a paragraph gap). ``user_password`` encrypts the file so that it needs a
    password to open; ``owner_password`` alone restricts permissions but opens with the empty password.
    Unset title/author/subject stay empty (reportlab would otherwise write "untitled"/"anonymous").
    """
    if font == CJK_FONT:
        register_cjk_font()
    path = Path(path)
    encrypt = None
    if user_password is not None or owner_password is not None:
        encrypt = StandardEncryption(user_password or "", ownerPassword=owner_password, strength=128)
    pdf = canvas.Canvas(str(path), pagesize=A4, invariant=1, encrypt=encrypt)
    pdf.setTitle(title)
    pdf.setAuthor(author)
    pdf.setSubject(subject)
    width, height = A4
    for number, lines in enumerate(pages, start=1):
        pdf.setFont(font, font_size)
        if header is not None:
            pdf.drawString(MARGIN, height - MARGIN + LEADING, header.format(page=number))
        y = height - MARGIN - LEADING
        for line in lines:
            if line:
                pdf.drawString(MARGIN, y, line)
            y -= LEADING
        if footer_page_numbers:
            footer = footer_format.format(page=number, total=len(pages))
            pdf.drawCentredString(width / 2, MARGIN / 2, footer)
        pdf.showPage()
    pdf.save()
    return path


def make_image_only_pdf(path: Path, n_pages: int = 2) -> Path:
    """Write a PDF whose pages carry only drawings and a raster image: no text layer at all (like a scan)."""
    from PIL import Image, ImageDraw
    from reportlab.lib.utils import ImageReader

    scan = Image.new("RGB", (400, 200), "white")
    draw = ImageDraw.Draw(scan)
    for row in range(8):
        draw.rectangle((20, 20 + row * 22, 380 - row * 30, 32 + row * 22), fill="black")
    pdf = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    width, height = A4
    for _ in range(n_pages):
        pdf.drawImage(ImageReader(scan), MARGIN, height / 2, width=width - 2 * MARGIN, height=200)
        for row in range(10):
            pdf.rect(MARGIN, MARGIN + row * 30, width - 2 * MARGIN - row * 20, 12, fill=1)
        pdf.showPage()
    pdf.save()
    return Path(path)


def truncate(src: Path, dst: Path, fraction: float = 0.5) -> Path:
    """Copy the first ``fraction`` of ``src``'s bytes to ``dst`` (a download cut short)."""
    data = Path(src).read_bytes()
    Path(dst).write_bytes(data[: int(len(data) * fraction)])
    return Path(dst)


def wrap(text: str, width: int) -> list[str]:
    """Hard-wrap ``text`` into lines of at most ``width`` display columns (CJK counts 2), like a PDF layout.

    English breaks at spaces; Chinese breaks anywhere. A word longer than the width is split as is.
    """
    lines: list[str] = []
    line = ""
    for token in _tokens(text):
        if line and _columns(line + token.rstrip()) > width:
            lines.append(line.rstrip())
            line = token.lstrip()
        else:
            line += token
    if line.strip():
        lines.append(line.rstrip())
    return lines


def _tokens(text: str) -> list[str]:
    """Words with their trailing space for Latin script; single characters for CJK."""
    tokens: list[str] = []
    word = ""
    for char in text:
        if _columns(char) == 2:
            if word:
                tokens.append(word)
                word = ""
            tokens.append(char)
        elif char == " ":
            tokens.append(word + " ")
            word = ""
        else:
            word += char
    if word:
        tokens.append(word)
    return tokens


def _columns(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
