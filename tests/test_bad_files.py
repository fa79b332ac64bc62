"""Bad files through the real job (ingest.job.ingest_paths, real model, real Chroma in a temp folder).

Every case runs a job over a folder holding one good report and the bad file, against a library that
already holds another report, and checks: the bad file gets exactly one one-line result naming it and the
reason; the good report is ingested; what the library held before is still there, chunk for chunk.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import ROOT
from pdfmaker import make_image_only_pdf, make_pdf, truncate
from reportlab.pdfgen import canvas

from ingest.job import FAILED, NEW, ingest_paths
from rag.library import Library

KEPT = "# 已入库的周报\n\n国联证券认为算力需求持续增长，维持行业“强于大市”评级。\n"
FRESH = "# New filing\n\nRevenue grew 12.5% to $1,505.60 million in fiscal 2024.\n"
GBK_TEXT = "# 四方科技 2019 年年度报告\n\n公司拟向全体股东每10股派发现金红利1.88元（含税），现金分红比例为30.59%。\n"


@pytest.fixture
def stocked(library, tmp_path) -> Library:
    """A library that already holds one report (outside the job folder)."""
    kept = tmp_path / "earlier" / "kept.md"
    kept.parent.mkdir()
    kept.write_text(KEPT, encoding="utf-8")
    assert ingest_paths(library, [kept]).ok
    return library


def _snapshot(library: Library) -> set[tuple[str, str, str]]:
    return {(c.doc_id, c.chunk_id, c.text) for c in library.store.iter_chunks()}


def _job(library: Library, folder: Path, **options):
    """Run the job on ``folder`` (with FRESH added) and check everything but the bad file's own result."""
    (folder / "fresh.md").write_text(FRESH, encoding="utf-8")
    before = _snapshot(library)
    summary = ingest_paths(library, [folder], **options)
    fresh = [r for r in summary.results if Path(r.path).name == "fresh.md"]
    assert [r.status for r in fresh] == [NEW]
    assert before <= _snapshot(library), "something already in the library was lost"
    assert library.store.unfinished() == []
    assert library.store.chunk_count() == sum(d.chunks for d in library.store.documents())
    return summary


def _fails(summary, name: str, reason: str) -> str:
    """The one failure of the job: the named file, a one-line reason starting with ``reason``."""
    failed = [r for r in summary.results if r.status == FAILED]
    assert [Path(r.path).name for r in failed] == [name], [r.line() for r in failed]
    line = failed[0].line()
    assert "\n" not in line and name in line and "; " in failed[0].reason, line
    assert failed[0].reason.startswith(reason), failed[0].reason
    return failed[0].reason


@pytest.fixture
def folder(tmp_path) -> Path:
    path = tmp_path / "inbox"
    path.mkdir()
    return path


def test_corrupt_pdf(stocked, folder):
    body = b"1 0 obj << /Type /Catalog >> garbage\n" * 20
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4\n" + body + b"%%EOF\n")
    _fails(_job(stocked, folder), "broken.pdf", "corrupt PDF, cannot be opened")


def test_truncated_pdf(stocked, folder, tmp_path):
    whole = make_pdf(tmp_path / "whole.pdf", [["第一页 revenue"], ["第二页 profit"]])
    truncate(whole, folder / "cut.pdf", 0.6)
    _fails(_job(stocked, folder), "cut.pdf", "truncated PDF: the end-of-file marker is missing")


def test_encrypted_pdf_without_the_password(stocked, folder):
    make_pdf(folder / "locked.pdf", [["机密 secret"]], user_password="open-sesame", owner_password="owner")
    _fails(_job(stocked, folder), "locked.pdf", "encrypted PDF that needs a password to open")


def test_owner_password_only_pdf_is_ingested(stocked, folder):
    make_pdf(folder / "restricted.pdf", [["Restricted but readable: margin 41.2% in 2024"]],
             owner_password="x")
    summary = _job(stocked, folder)
    assert summary.ok and summary.count(NEW) == 2
    texts = [c.text for c in stocked.store.iter_chunks() if c.source == "restricted.pdf"]
    assert any("margin 41.2% in 2024" in text for text in texts)


def test_zero_byte_file(stocked, folder):
    (folder / "empty.pdf").write_bytes(b"")
    _fails(_job(stocked, folder), "empty.pdf", "empty file (0 bytes)")


def test_binary_file_named_pdf(stocked, folder):
    (folder / "setup.pdf").write_bytes(b"MZ\x90\x00" + os.urandom(4096))
    _fails(_job(stocked, folder), "setup.pdf", "not a PDF (the content is binary data)")


def test_image_only_pdf_with_ocr_off(stocked, folder):
    make_image_only_pdf(folder / "scan.pdf", n_pages=2)
    library = Library(stocked.settings.with_(ocr=False), embedder=stocked.embedder, store=stocked.store)
    expected = "image-only/scanned PDF: no text layer on any of its 2 pages"
    reason = _fails(_job(library, folder), "scan.pdf", expected)
    assert "REPORTQA_OCR=1" in reason


def test_gbk_text_is_decoded(stocked, folder):
    (folder / "annual.txt").write_bytes(GBK_TEXT.encode("gbk"))
    assert _job(stocked, folder).ok
    texts = [c.text for c in stocked.store.iter_chunks() if c.source == "annual.txt"]
    assert any("每10股派发现金红利1.88元（含税）" in text for text in texts)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])  # with a byte-order mark and not
def test_utf16_text_is_decoded(stocked, folder, encoding):
    (folder / "notes.txt").write_bytes(GBK_TEXT.encode(encoding))
    assert _job(stocked, folder).ok
    texts = [c.text for c in stocked.store.iter_chunks() if c.source == "notes.txt"]
    assert any("现金分红比例为30.59%" in text for text in texts)


def test_text_with_nul_bytes(stocked, folder):
    (folder / "dump.txt").write_bytes(b"revenue grew\x00\x00\x00 by 5%\n" * 20)
    _fails(_job(stocked, folder), "dump.txt", "binary content (NUL bytes")


_REGIONS = ("Asia", "Europe", "Americas", "Africa", "Oceania", "Nordics", "Iberia")
_LINES = ("cloud", "devices", "services", "licensing", "advertising", "hardware", "consulting", "retail",
          "data", "payments", "security")


def make_long_pdf(path: Path, pages: int) -> Path:
    """One short note per page, its words varied so that cleaning does not take it for a running header."""
    pdf = canvas.Canvas(str(path), invariant=1)
    for number in range(1, pages + 1):
        pdf.setFont("Helvetica", 11)
        words = f"{_REGIONS[number % 7]} {_LINES[number % 11]} {_LINES[(number // 11) % 11]}"
        pdf.drawString(72, 720, f"Segment note {number}: {words} {number * 3 + 7:,}.")
        pdf.showPage()
    pdf.save()
    return path


_RSS_PROBE = """
import os, sys, threading
from ingest.loaders import load

def rss_mb():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

load(sys.argv[2])  # warm up: libraries loaded, allocator settled
baseline, peak, done = rss_mb(), [0.0], threading.Event()

def sample():
    while not done.wait(0.005):
        peak[0] = max(peak[0], rss_mb())

sampler = threading.Thread(target=sample)
sampler.start()
loaded = load(sys.argv[1])
done.set()
sampler.join()
print(len(loaded.pages), round(max(peak[0], rss_mb()) - baseline))
"""


def test_2000_page_pdf_streams_with_bounded_memory(stocked, folder, tmp_path):
    big = make_long_pdf(folder / "long.pdf", 2000)
    small = make_long_pdf(tmp_path / "small.pdf", 2)
    # peak resident memory sampled while a fresh process reads the 2,000 pages, above its level before
    probe = subprocess.run([sys.executable, "-c", _RSS_PROBE, str(big), str(small)], cwd=ROOT,
                           capture_output=True, text=True, timeout=120, check=True)
    pages, growth_mb = map(int, probe.stdout.split())
    assert pages == 2000 and growth_mb < 32, f"peak RSS grew {growth_mb} MB while reading 2,000 pages"
    summary = _job(stocked, folder)
    assert summary.ok
    (doc,) = [d for d in stocked.store.documents() if d.source == "long.pdf"]
    assert doc.pages == 2000
    chunks = [c for c in stocked.store.iter_chunks() if c.source == "long.pdf"]
    last = [c for c in chunks if "Segment note 2000:" in c.text]
    assert [c.page_end for c in last] == [2000]


def test_page_with_a_megabyte_of_text_is_cut_and_reported(stocked, folder, caplog):
    pdf = canvas.Canvas(str(folder / "dump.pdf"), invariant=1)
    pdf.setFont("Helvetica", 11)
    pdf.drawString(72, 760, "Quarterly data appendix, revenue by region.")
    pdf.showPage()
    text = pdf.beginText(10, 800)
    text.setFont("Helvetica", 2)
    for row in range(1100):
        text.textLine(f"row {row:05d} " + "value " * 160)
    pdf.drawText(text)
    pdf.showPage()
    pdf.save()
    summary = _job(stocked, folder)
    assert summary.ok
    (doc,) = [d for d in stocked.store.documents() if d.source == "dump.pdf"]
    stored = sum(len(c.text) for c in stocked.store.iter_chunks() if c.source == "dump.pdf")
    assert doc.pages == 2 and 40_000 < stored < 60_000  # the 1 MB page was cut to 50,000 characters
    messages = [record.getMessage() for record in caplog.records]
    assert any(m.startswith("dump.pdf: page 2: text layer of 1,06") and m.endswith("kept the first 50,000")
               for m in messages), messages


def test_unsupported_extension(stocked, folder):
    (folder / "model.xlsx").write_bytes(b"PK\x03\x04 spreadsheet")
    (folder / "tools").mkdir()
    (folder / "tools" / "x.exe").write_bytes(b"MZ")
    (folder / ".DS_Store").write_bytes(b"\0")
    summary = _job(stocked, folder)
    assert summary.ok  # a folder walk skips other file types, and names them in its summary ...
    assert summary.skipped == ("model.xlsx", "tools/x.exe")
    assert summary.line().endswith("; skipped 2 unsupported files: model.xlsx, tools/x.exe")
    summary = ingest_paths(stocked, [folder / "model.xlsx"])  # ... one named on the command line fails
    _fails(summary, "model.xlsx", "unsupported file type '.xlsx'")


def test_symlink_loop_in_a_folder(stocked, folder):
    (folder / "a.pdf").symlink_to("b.pdf")
    (folder / "b.pdf").symlink_to("a.pdf")
    (folder / "nested").mkdir()
    (folder / "nested" / "up").symlink_to("..")  # a folder loop: never followed
    summary = _job(stocked, folder)
    failed = sorted((Path(r.path).name, r.reason) for r in summary.results if r.status == FAILED)
    loop = "symlink loop; fix or remove the link"
    assert failed == [("a.pdf", loop), ("b.pdf", loop)]


def test_file_that_disappears_mid_job(stocked, folder):
    doomed = folder / "zz_moved_away.md"
    doomed.write_text("# 将被移走的报告\n\n内容。\n", encoding="utf-8")

    def progress(event):
        if doomed.exists():
            doomed.unlink()  # gone after the job listed it, before it reads it

    summary = _job(stocked, folder, progress=progress)
    _fails(summary, "zz_moved_away.md", "the file disappeared during the job")


def test_file_without_read_permission(stocked, folder):
    locked = folder / "locked.md"
    locked.write_text(KEPT, encoding="utf-8")
    locked.chmod(0)
    try:
        if os.access(locked, os.R_OK):
            pytest.skip("running as root: permissions do not stop reads (see the EIO and pipe cases)")
        _fails(_job(stocked, folder), "locked.md", "cannot read file (Permission denied)")
    finally:
        locked.chmod(0o644)


@pytest.mark.skipif(not Path("/proc/self/mem").exists(), reason="needs Linux /proc")
def test_file_whose_read_fails_even_for_root(stocked, folder):
    # /proc/self/mem looks like an empty regular file, but reading it from offset 0 fails with EIO.
    (folder / "mem.md").symlink_to("/proc/self/mem")
    _fails(_job(stocked, folder), "mem.md", "cannot read file (Input/output error)")


def test_named_pipe_does_not_hang_the_job(stocked, folder):
    os.mkfifo(folder / "pipe.txt")  # opening it for reading would block until a writer comes
    outcome = {}
    worker = threading.Thread(target=lambda: outcome.update(summary=_job(stocked, folder)), daemon=True)
    worker.start()
    worker.join(timeout=120)
    assert not worker.is_alive(), "the job blocked on a named pipe"
    _fails(outcome["summary"], "pipe.txt", "not a regular file (a pipe, socket or device)")


def test_folder_named_like_a_pdf_is_walked(stocked, folder):
    (folder / "q3.pdf").mkdir()
    (folder / "q3.pdf" / "inner.md").write_text("# Inner\n\nOperating margin was 17.5%.\n", encoding="utf-8")
    summary = _job(stocked, folder)
    assert summary.ok and sorted(Path(r.path).name for r in summary.results) == ["fresh.md", "inner.md"]


def test_report_in_the_library_overwritten_by_a_corrupt_copy_keeps_its_old_version(stocked, folder):
    report = make_pdf(folder / "weekly.pdf", [["周报正文 revenue 2024"]])
    assert ingest_paths(stocked, [report]).ok
    before = _snapshot(stocked)
    truncate(report, report, 0.5)
    _fails(_job(stocked, folder), "weekly.pdf", "truncated PDF")
    assert before <= _snapshot(stocked)
    assert "weekly.pdf" in {d.source for d in stocked.store.documents()}
