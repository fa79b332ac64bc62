"""Files handed over by a user (the web app's uploads): saved under safe names, ingested, deleted again.

Uploaded reports live in ``<library>/uploads/``; deleting such a document removes its file too, while a
document ingested from the user's own folders never loses its file.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Callable, Collection, Sequence
from dataclasses import replace
from pathlib import Path

from ingest.job import FAILED, FileResult, JobSummary, Progress, delete_document, ingest_paths
from ingest.loaders import SUPPORTED
from rag.library import Library
from rag.settings import Settings
from rag.types import Document

UPLOADS = "uploads"  # folder of the library that holds uploaded reports
MAX_STEM = 120  # characters kept of an uploaded file's name (before the suffix)


def uploads_folder(settings: Settings) -> Path:
    """Where uploaded reports of the library are stored."""
    return Path(settings.library) / UPLOADS


def sanitize_filename(name: str) -> str:
    """A safe base name: no folders, no leading dots, letters (any script), digits and ``-_.()`` only."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    stem = re.sub(r"[^\w\-.()]+", "_", stem).strip("._-")[:MAX_STEM] or "upload"
    suffix = re.sub(r"[^A-Za-z0-9]", "", suffix).lower()
    return f"{stem}.{suffix}" if suffix else stem


def save_uploads(
    folder: Path, files: Sequence[tuple[str, bytes]], max_mb: int, allowed: Collection[str] = SUPPORTED
) -> tuple[list[Path], list[FileResult]]:
    """Write uploaded ``(name, bytes)`` into ``folder``; too large or unsupported files come back failed."""
    folder.mkdir(parents=True, exist_ok=True)
    saved, rejected = [], []
    for raw_name, data in files:
        name = sanitize_filename(raw_name)
        if Path(name).suffix not in allowed:
            reason = f"unsupported file type; upload one of {', '.join(sorted(allowed))}"
            rejected.append(FileResult(name, FAILED, reason=reason))
        elif len(data) > max_mb * 1024 * 1024:
            size = f"{len(data) / 1e6:.1f} MB"
            reason = f"{size} is over the upload limit of {max_mb} MB (REPORTQA_MAX_UPLOAD_MB)"
            rejected.append(FileResult(name, FAILED, reason=reason))
        else:
            target = folder / name
            partial = target.with_name(f".{name}.part")  # hidden, so never picked up as a report
            partial.write_bytes(data)
            os.replace(partial, target)
            saved.append(target)
    return saved, rejected


def ingest_uploads(
    library: Library, files: Sequence[tuple[str, bytes]], progress: Callable[[Progress], None] | None = None
) -> JobSummary:
    """Save uploaded ``(file name, bytes)`` pairs into the library's uploads folder and ingest them."""
    settings = library.settings
    saved, rejected = save_uploads(uploads_folder(settings), files, settings.max_upload_mb)
    summary = ingest_paths(library, saved, progress=progress) if saved else JobSummary((), 0.0)
    return replace(summary, results=tuple(rejected) + summary.results)


def remove_document(library: Library, doc_id: str) -> Document:
    """Delete a document; its file goes too when it was uploaded (stored by us), never otherwise."""
    doc = delete_document(library, doc_id)
    path = Path(doc.path)
    if path.parent == uploads_folder(library.settings).resolve() and path.exists():
        path.unlink()
    return doc
