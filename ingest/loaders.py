"""Read one report file into raw text per page: PDF, Markdown, plain text, HTML.

PDF text comes from pypdfium2 (22x faster than pypdf here, and table rows stay on one line); pypdf reads
the document info and settles encryption. Each PDF page's text layer is judged (``ingest.quality``); pages
that are scanned, near-empty under an image, or garbled are read by OCR (``ingest.ocr``) unless OCR is off.
A file that cannot be read raises ``BadFile`` with a one-line "<reason>; <what to do>" message, so the
ingestion job can report it and go on.
"""

from __future__ import annotations

import codecs
import logging
import re
from dataclasses import dataclass, replace
from pathlib import Path

import pypdf
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from bs4 import BeautifulSoup, Comment, NavigableString, Tag
from charset_normalizer import from_bytes

from ingest import quality
from ingest.ocr import PageText, image_cover, no_text_reason, ocr_blank_pages, settle

logger = logging.getLogger(__name__)

_FORMATS = {".pdf": "pdf", ".md": "md", ".markdown": "md", ".txt": "txt", ".text": "txt",
            ".html": "html", ".htm": "html"}
SUPPORTED = frozenset(_FORMATS)


@dataclass(frozen=True)
class Loaded:
    """A file's raw text, page by page (page number = index + 1), and the metadata the file declares."""

    fmt: str  # "pdf" | "md" | "txt" | "html"
    pages: tuple[str, ...]
    info: dict[str, str]  # title, author, subject, creation_date (YYYY-MM-DD): only non-empty values
    blank_pages: tuple[int, ...]  # 1-based pages with no usable text (kept in pages as "")
    ocr_pages: tuple[int, ...] = ()  # 1-based pages whose text was read by OCR
    quality: tuple[str, ...] = ()  # findings, one line each: "page 3: garbled text layer (...); OCR'd"


class BadFile(Exception):
    """A file that cannot be ingested; ``str(error)`` is one line: "<reason>; <what to do>"."""


def load(path: Path, ocr: bool = True) -> Loaded:
    """Read ``path`` by its extension; ``BadFile`` for an unsupported, empty, corrupt or unreadable file.

    With ``ocr`` a PDF page without a usable text layer is read by OCR; without, it is left out (and a PDF
    with no usable page at all is a ``BadFile``).
    """
    path = Path(path)
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        shown = path.suffix or "(no extension)"
        raise BadFile(f"unsupported file type {shown}; convert it to PDF, Markdown, text or HTML")
    try:
        if path.stat().st_size == 0:
            raise BadFile("empty file (0 bytes); re-export or re-download it")
        if fmt == "pdf":
            return _load_pdf(path, ocr)
        data = path.read_bytes()
    except OSError as error:
        reason = error.strerror or error
        raise BadFile(f"cannot read the file ({reason}); check that it exists and is readable") from None
    loaded = _load_html(data) if fmt == "html" else _paged(fmt, _split_pages(_decode(data)), {})
    # A text file cannot be OCR'd, but mojibake in it is still worth a finding.
    verdicts = (quality.assess(text[: quality.MAX_PAGE_CHARS]) for text in loaded.pages)
    garbled = enumerate(verdicts, start=1)
    findings = quality.summarize((n, f"{verdict.reason}; check the file's encoding")
                                 for n, verdict in garbled if verdict.verdict == quality.GARBLED)
    return replace(loaded, quality=findings)


def _paged(fmt: str, pages: list[str], info: dict[str, str], findings: tuple[str, ...] = (),
           ocr_pages: tuple[int, ...] = ()) -> Loaded:
    """Blank out pages without a letter, digit or ideograph and record their numbers."""
    kept = [text if any(char.isalnum() for char in text) else "" for text in pages]
    blank = tuple(number for number, text in enumerate(kept, start=1) if not text)
    return Loaded(fmt=fmt, pages=tuple(kept), info=info, blank_pages=blank, ocr_pages=ocr_pages,
                  quality=findings)


# ---------------------------------------------------------------- PDF

_SOFT_HYPHEN = "\ufffe"
# Magic numbers of what most often arrives misnamed as .pdf.
_MAGIC = ((b"PK\x03\x04", "a ZIP or Office document"), (b"\x89PNG", "a PNG image"),
          (b"\xff\xd8\xff", "a JPEG image"), (b"\xd0\xcf\x11\xe0", "an old Office document"),
          (b"<", "HTML or XML"))
_ENCRYPTED = "encrypted PDF that needs a password to open; save an unprotected copy and ingest that"


def _load_pdf(path: Path, ocr: bool) -> Loaded:
    with path.open("rb") as handle:
        head = handle.read(1024)
    if b"%PDF-" not in head:
        content = _sniff(head)
        raise BadFile(f"not a PDF (the content is {content}); check the file or give it its real extension")
    try:
        document = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as error:
        raise BadFile(_pdfium_reason(path, error)) from None
    try:
        pages = _pdf_pages(document, ocr)
        if ocr and pages and not any(page.finding or any(c.isalnum() for c in page.text) for page in pages):
            pages = ocr_blank_pages(document, pages)
    finally:
        document.close()
    if not pages:
        raise BadFile("the PDF has no pages; re-export it")
    findings = quality.summarize((n, page.finding) for n, page in enumerate(pages, start=1) if page.finding)
    ocr_pages = tuple(n for n, page in enumerate(pages, start=1) if page.ocr)
    loaded = _paged("pdf", [page.text for page in pages], _pdf_info(path), findings, ocr_pages)
    if len(loaded.blank_pages) == len(pages):
        raise BadFile(no_text_reason(pages, ocr))
    return loaded


def _pdf_pages(document: pdfium.PdfDocument, ocr: bool) -> list[PageText]:
    """Each page's text in turn, judged and OCR'd where needed; every page is closed before the next opens."""
    pages = []
    for index in range(len(document)):
        try:
            page = document[index]
            try:
                text = _text_layer(page)
                verdict = quality.assess(text, lambda: image_cover(page))  # noqa: B023 - called at once
                pages.append(settle(page, text, verdict, ocr))
            finally:
                page.close()
        except pdfium.PdfiumError as error:
            logger.warning("page %d: no text (%s)", index + 1, error)
            pages.append(PageText(""))
    return pages


def _text_layer(page: pdfium.PdfPage) -> str:
    textpage = page.get_textpage()
    try:
        text = textpage.get_text_range()
    finally:
        textpage.close()
    # pdfium joins a line that ends in a hyphen to the next and marks the spot with U+FFFE:
    # put the hyphen and the line break back, so cleaning decides whether it was a word break.
    return text.replace("\r\n", "\n").replace("\r", "\n").replace(_SOFT_HYPHEN, "-\n")


def _pdfium_reason(path: Path, error: Exception) -> str:
    code = getattr(error, "err_code", None)
    if code == pdfium_c.FPDF_ERR_PASSWORD:
        return _ENCRYPTED
    if code == pdfium_c.FPDF_ERR_SECURITY:
        return "PDF uses an unsupported encryption scheme; save an unprotected copy and ingest that"
    detail = str(error).replace("Failed to load document ", "").strip(" .()")
    with path.open("rb") as handle:
        handle.seek(max(0, path.stat().st_size - 2048))
        tail = handle.read()
    if b"%%EOF" not in tail:
        return f"truncated PDF: the end-of-file marker is missing ({detail}); download or export it again"
    return f"corrupt PDF, cannot be opened ({detail}); repair it (e.g. qpdf) or export it again"


def _sniff(head: bytes) -> str:
    stripped = head.lstrip()
    for magic, kind in _MAGIC:
        if stripped.startswith(magic):
            return kind
    text_bytes = sum(1 for byte in head if byte >= 32 or byte in b"\t\n\r\f")
    return "plain text" if head and text_bytes / len(head) > 0.95 else "binary data"


_PLACEHOLDERS = frozenset({"untitled", "anonymous", "unspecified", "unknown", "none", "null"})
_PDF_DATE = re.compile(r"^(?:D:)?(\d{4})(\d{2})(\d{2})")


def _pdf_info(path: Path) -> dict[str, str]:
    """Title, author, subject and creation date from the document info; {} when pypdf cannot read it."""
    try:
        reader = pypdf.PdfReader(path)
        if reader.is_encrypted and reader.decrypt("") == pypdf.PasswordType.NOT_DECRYPTED:
            raise BadFile(_ENCRYPTED)
        meta = reader.metadata
        if meta is None:
            return {}
        info = {"title": _clean_value(meta.title), "author": _clean_value(meta.author),
                "subject": _clean_value(meta.subject)}
        date = _PDF_DATE.match(_clean_value(meta.creation_date_raw))
    except BadFile:
        raise
    except Exception as error:  # noqa: BLE001 - pypdf raises many kinds on damaged info; the text layer is what matters
        logger.warning("document info unreadable: %s", error)
        return {}
    if date and "01" <= date.group(2) <= "12" and "01" <= date.group(3) <= "31":
        info["creation_date"] = "-".join(date.groups())
    return {key: value for key, value in info.items() if value and value.lower() not in _PLACEHOLDERS}


def _clean_value(value: object) -> str:
    return " ".join(str(value or "").replace("\x00", "").split())


# ---------------------------------------------------------------- Markdown and plain text

_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_PAGE_MARKER = re.compile(r"^[ \t]*(?:<!--\s*page\s*(\d+)\s*-->|\[page\s*(\d+)\])[ \t]*$", re.I | re.M)


def _decode(data: bytes) -> str:
    """Text from bytes: a BOM decides, else strict UTF-8, else charset-normalizer (GBK/GB18030 reports)."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as error:
                raise BadFile(f"invalid {encoding} text ({error.reason}); save it as UTF-8") from None
    if b"\x00" in data:
        text = _utf16_without_bom(data)
        if text is None:
            raise BadFile("binary content (NUL bytes, or UTF-16 without a byte-order mark); save it as UTF-8")
        return text.replace("\r\n", "\n").replace("\r", "\n")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        best = from_bytes(data).best()
        if best is None:
            raise BadFile("not text: no character encoding fits the bytes; save it as UTF-8 text") from None
        logger.info("decoded as %s", best.encoding)
        text = str(best)
    if len(_CONTROL.findall(text)) > max(2, len(text) // 200):
        raise BadFile("looks binary (many control characters); save it as UTF-8 text or fix its extension")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 saved without a byte-order mark (its NULs are the high bytes of ASCII characters), else None.

    The byte order is the one that yields more ASCII; NUL bytes in any other pattern decode to control
    characters in both orders, so binary data and stray NULs are not mistaken for text.
    """
    if len(data) % 2:
        return None
    decoded = []
    for encoding in ("utf-16-le", "utf-16-be"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if not _CONTROL.search(text):
            decoded.append((sum(1 for char in text if char < "\x80"), text))
    decoded.sort(key=lambda pair: -pair[0])
    if not decoded or (len(decoded) == 2 and decoded[0][0] == decoded[1][0]):
        return None
    return decoded[0][1]


def _split_pages(text: str) -> list[str]:
    """Pages by ``<!-- page N -->`` / ``[page N]`` marker lines, else by form feeds, else one page.

    A marker starts page N; text before the first marker belongs to the page before it (page 1 at least).
    Markers that do not increase are read as "next page".
    """
    markers = list(_PAGE_MARKER.finditer(text))
    if not markers:
        return text.split("\f")
    first = int(markers[0].group(1) or markers[0].group(2))
    pages: dict[int, str] = {max(1, first - 1): text[: markers[0].start()]}
    number = 0
    for marker, following in zip(markers, markers[1:] + [None]):
        declared = int(marker.group(1) or marker.group(2))
        number = declared if declared > number else number + 1
        body = text[marker.end() : following.start() if following else len(text)]
        pages[number] = pages.get(number, "") + body
    return [pages.get(page, "").strip("\n") for page in range(1, max(pages) + 1)]


# ---------------------------------------------------------------- HTML

_DROP = ("script", "style", "noscript", "template", "svg", "head", "iframe", "object")
_BLOCKS = ("p", "div", "section", "article", "main", "header", "footer", "aside", "nav", "blockquote", "pre",
           "ul", "ol", "dl", "dt", "dd", "figure", "figcaption", "form", "address", "hr", "caption")


def _load_html(data: bytes) -> Loaded:
    """One page: headings as Markdown ``#`` lines, table rows as "a | b" lines, blocks on their own lines."""
    soup = BeautifulSoup(data, "html.parser")
    info = {"title": _clean_value(soup.title.get_text())} if soup.title else {}
    author = soup.find("meta", attrs={"name": "author"})
    if author and author.get("content"):
        info["author"] = _clean_value(author["content"])
    for element in soup.find_all(_DROP) + soup.find_all(string=lambda node: isinstance(node, Comment)):
        element.extract()
    # Source line breaks mean nothing in HTML; only the structure below makes lines.
    for node in soup.find_all(string=True):
        if type(node) is NavigableString and not node.find_parent("pre"):
            node.replace_with(re.sub(r"\s+", " ", node))
    for table in soup.find_all("table"):
        rows = [" | ".join(map(_inline, row.find_all(("td", "th")))) for row in table.find_all("tr")]
        table.replace_with("\n" + "\n".join(row for row in rows if row.strip(" |")) + "\n")
    for level in range(1, 7):
        for heading in soup.find_all(f"h{level}"):
            heading.replace_with(f"\n\n{'#' * level} {_inline(heading)}\n\n")
    for item in soup.find_all("li"):
        item.insert(0, "\n- ")
    for element in soup.find_all("br"):
        element.replace_with("\n")
    for element in soup.find_all(_BLOCKS):
        element.insert_before("\n\n")
        element.insert_after("\n\n")
    lines = (" ".join(line.split()) for line in soup.get_text().split("\n"))
    body = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return _paged("html", [body], {key: value for key, value in info.items() if value})


def _inline(element: Tag) -> str:
    return " ".join(element.get_text(" ").split())
