"""Per-page text quality: is a page's text layer usable, or should the page be read by OCR instead?

A page is judged by its text alone, plus (only when the text is short) how much of the page images cover:

- ``blank``: no letters, digits or ideographs and hardly any image (a genuinely empty page);
- ``empty``: no text but an image on the page (a scanned page);
- ``sparse``: a few characters (a stamped header, a page number) on a page that an image covers;
- ``garbled``: the text is largely ``(cid:NN)`` runs, replacement characters (U+FFFD), private-use or control
  characters (a font without a working ToUnicode map) or mojibake (UTF-8/GBK bytes read as Latin-1/cp1252);
- ``oversized``: more text than any printed page holds (hidden or runaway text); it is cut, not OCR'd.

Hand-written because no library judges PDF text layers; the signals are the ones extractors leave behind
(pdfminer writes ``(cid:NN)``, pdfium gives control or private-use characters for unmapped glyphs).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

OK, BLANK, EMPTY, SPARSE, GARBLED, OVERSIZED = "ok", "blank", "empty", "sparse", "garbled", "oversized"

SPARSE_CHARS = 40  # fewer readable characters is "near-empty" (a scan's stamped header, a page number)
EMPTY_IMAGE_COVER = 0.10  # share of the page an image must cover for an empty page to be worth OCR
SPARSE_IMAGE_COVER = 0.50  # ... and for a near-empty page to count as "full of content"
GARBLED_SHARE = 0.20  # share of garbled characters among all meaningful ones
GARBLED_MIN = 4  # and at least this many (unless nothing else is readable): a stray symbol is not "garbled"
MAX_PAGE_CHARS = 50_000  # ten times a dense page of small-print tables; more is hidden or runaway text

_CID = re.compile(r"\(cid:\d+\)")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")  # not \t \n \f \r; C1 belongs to mojibake runs
# Private use, except U+F000-U+F0FF: Symbol/Wingdings bullets that cleaning maps or drops.
_PRIVATE = re.compile("[\ue000-\uefff\uf100-\uf8ff\U000f0000-\U0010fffd]")
_REPLACEMENT = "\ufffd"
# Runs of what bytes >= 0x80 become when read as Latin-1 or cp1252 (its 0x80-0x9f punctuation included).
_HIGH = "\u00a1-\u00ff"
_CP1252 = ("\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013\u2014\u2018-\u201e"
           "\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122\x80-\x9f\u00a0")
_MOJIBAKE_RUN = re.compile(f"[{_HIGH}{_CP1252}]{{2,}}")
_CJK_CHAR = re.compile("[\u3400-\u9fff\uf900-\ufaff]")

_SIGNALS = {"cid": "(cid:NN) runs", "replacement": "U+FFFD replacement characters",
            "private_use": "private-use characters", "control": "control characters", "mojibake": "mojibake"}


@dataclass(frozen=True)
class PageQuality:
    """The verdict on one page's text layer; ``reason`` is a short phrase for the per-file findings."""

    verdict: str
    reason: str = ""
    chars: int = 0  # letters, digits and ideographs that are not part of a garbled run
    garbled: dict[str, int] = field(default_factory=dict, compare=False)  # signal -> characters

    @property
    def needs_ocr(self) -> bool:
        return self.verdict in (EMPTY, SPARSE, GARBLED)


def assess(text: str, image_cover: Callable[[], float] = lambda: 0.0) -> PageQuality:
    """Judge one page's text; ``image_cover()`` (page share under images) is called for short text."""
    if len(text) > MAX_PAGE_CHARS:
        return PageQuality(OVERSIZED, f"text layer of {len(text):,} characters, more than a page holds",
                           chars=MAX_PAGE_CHARS)
    signals = garbled_signals(text)
    bad = sum(signals.values())
    chars = readable_chars(text)
    if bad and bad >= GARBLED_SHARE * (bad + chars) and (bad >= GARBLED_MIN or chars == 0):
        named = ", ".join(_SIGNALS[name] for name, n in sorted(signals.items(), key=lambda s: -s[1]) if n)
        return PageQuality(GARBLED, f"garbled text layer ({named})", chars, signals)
    if chars >= SPARSE_CHARS:
        return PageQuality(OK, "", chars, signals)
    cover = image_cover()
    if chars == 0:
        if cover >= EMPTY_IMAGE_COVER:
            return PageQuality(EMPTY, "no text layer (image-only page)", 0, signals)
        return PageQuality(BLANK, "", 0, signals)
    if cover >= SPARSE_IMAGE_COVER:
        reason = f"only {chars} characters of text on a page {cover:.0%} covered by images"
        return PageQuality(SPARSE, reason, chars, signals)
    return PageQuality(OK, "", chars, signals)


def readable_chars(text: str) -> int:
    """Letters, digits and ideographs outside ``(cid:NN)`` runs and mojibake."""
    for run in mojibake_runs(text):
        text = text.replace(run, " ")
    return sum(1 for char in _CID.sub(" ", text) if char.isalnum())


def strip_garbled(text: str) -> str:
    """``text`` without ``(cid:NN)`` runs, mojibake, U+FFFD, private-use and control characters."""
    for run in mojibake_runs(text):
        text = text.replace(run, "")
    text = _CONTROL.sub("", _PRIVATE.sub("", _CID.sub("", text))).replace(_REPLACEMENT, "")
    return text if any(char.isalnum() for char in text) else ""


def garbled_signals(text: str) -> dict[str, int]:
    """How many characters of ``text`` each garbling signal accounts for (a ``(cid:NN)`` counts as one)."""
    counts = {
        "cid": len(_CID.findall(text)),
        "replacement": text.count(_REPLACEMENT),
        "private_use": len(_PRIVATE.findall(text)),
        "control": len(_CONTROL.findall(text)),
        "mojibake": mojibake_chars(text),
    }
    return {name: n for name, n in counts.items() if n}


def mojibake_chars(text: str) -> int:
    """Characters in runs that are UTF-8/GBK bytes of Chinese read as Latin-1/cp1252 ("å…¬å¸", "¹«Ë¾")."""
    return sum(len(run) for run in mojibake_runs(text))


def mojibake_runs(text: str) -> list[str]:
    """The runs of ``text`` that re-encode to Chinese, so accented Latin words ("Société", "ções") and
    punctuation runs ("——", "…”") are left alone."""
    runs = (match.group() for match in _MOJIBAKE_RUN.finditer(text))
    return [run for run in runs if _latin1_share(run) >= 0.5 and _decodes_to_chinese(run)]


def _latin1_share(run: str) -> float:
    return sum(1 for char in run if "\u00a1" <= char <= "\u00ff") / len(run)


def _decodes_to_chinese(run: str) -> bool:
    raw = _single_bytes(run)
    if raw is None:
        return False
    # UTF-8 mojibake loses the bytes cp1252 cannot show (0x81, 0x8d, ...): tolerate a few replacements.
    as_utf8 = raw.decode("utf-8", errors="replace")
    hanzi = len(_CJK_CHAR.findall(as_utf8))
    if hanzi >= 1 and hanzi >= 2 * as_utf8.count(_REPLACEMENT) and hanzi * 3 >= 0.6 * len(raw):
        return True
    # Byte pairs that GBK accepts are easy to form by chance: ask for 3+ characters, mostly ideographs.
    try:
        as_gbk = raw.decode("gbk")
    except UnicodeDecodeError:
        return False
    return len(raw) >= 6 and len(_CJK_CHAR.findall(as_gbk)) >= max(3, 0.6 * len(as_gbk))


def _single_bytes(run: str) -> bytes | None:
    """The bytes a Latin-1/cp1252 reader turned into ``run`` (cp1252 where it defines a character)."""
    out = bytearray()
    for char in run:
        try:
            out += char.encode("cp1252")
        except UnicodeEncodeError:
            if ord(char) > 0xFF:
                return None
            out.append(ord(char))
    return bytes(out)


def summarize(findings: Iterable[tuple[int, str]]) -> tuple[str, ...]:
    """One line per distinct finding, its pages as ranges: ``pages 2-4, 7: no text layer ...; OCR'd``."""
    pages: dict[str, list[int]] = {}
    for page, message in findings:
        pages.setdefault(message, []).append(page)
    lines = []
    for message, numbers in pages.items():
        label = "page" if len(numbers) == 1 else "pages"
        lines.append(f"{label} {page_ranges(numbers)}: {message}")
    return tuple(lines)


def page_ranges(numbers: Iterable[int]) -> str:
    """``[1, 2, 3, 7, 9, 10]`` -> ``"1-3, 7, 9-10"``."""
    spans: list[list[int]] = []
    for number in sorted(set(numbers)):
        if spans and number == spans[-1][1] + 1:
            spans[-1][1] = number
        else:
            spans.append([number, number])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)
