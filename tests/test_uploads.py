"""Uploads: safe names, size and type limits, atomic writes, and deletion that removes only our own files."""

from __future__ import annotations

from conftest import REFERENCE_REPORT

from ingest.job import ingest_paths
from ingest.uploads import ingest_uploads, remove_document, sanitize_filename, save_uploads, uploads_folder

NOTE = b"# Harbour logistics weekly\n\nContainer volumes at the northern harbour fell to 310 thousand boxes.\n"


def test_sanitize_filename():
    assert sanitize_filename("../../etc/passwd.md") == "passwd.md"
    assert sanitize_filename("C:\\Users\\me\\年报 2023 (final).PDF") == "年报_2023_(final).pdf"
    assert sanitize_filename(".hidden.txt") == "hidden.txt"
    assert sanitize_filename("a<b>c?.html") == "a_b_c.html"
    assert sanitize_filename("...") == "upload"


def test_save_uploads_rejects_oversized_and_unsupported_files(tmp_path):
    files = [("ok.md", b"# Note\n\nText."), ("big.txt", b"x" * (1024 * 1024 + 1)), ("tool.exe", b"MZ")]
    saved, rejected = save_uploads(tmp_path, files, max_mb=1)
    assert saved == [tmp_path / "ok.md"] and (tmp_path / "ok.md").read_bytes() == b"# Note\n\nText."
    assert [(r.path, r.status) for r in rejected] == [("big.txt", "failed"), ("tool.exe", "failed")]
    assert rejected[0].reason == "1.0 MB is over the upload limit of 1 MB (REPORTQA_MAX_UPLOAD_MB)"
    assert rejected[1].reason.startswith("unsupported file type; upload one of .htm, .html, .markdown, .md")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ok.md"]  # no partial files left behind


def test_removing_an_upload_deletes_its_file_but_never_a_users_own_file(library, tmp_path):
    summary = ingest_uploads(library, [("weekly.md", NOTE), ("tool.exe", b"MZ")])
    stored = uploads_folder(library.settings) / "weekly.md"
    assert [(r.status, r.path) for r in summary.results] == [("failed", "tool.exe"), ("new", str(stored))]
    own = tmp_path / "report.md"
    own.write_bytes(REFERENCE_REPORT.read_bytes())
    assert ingest_paths(library, [own]).ok
    docs = {d.source: d for d in library.store.documents()}

    assert remove_document(library, docs["weekly.md"].doc_id).source == "weekly.md"
    assert not stored.exists()
    remove_document(library, docs["report.md"].doc_id)
    assert own.exists() and library.store.documents() == []
