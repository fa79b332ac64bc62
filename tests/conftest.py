"""Shared fixtures: the real bundled model, a real Chroma library in a temp folder, the reference report."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

ROOT = Path(__file__).resolve().parents[1]
REFERENCE_REPORT = ROOT / "ingest" / "demo" / "glsc_2024-02_computer_sora_gemini.md"
SHARED = ROOT.parent / "shared"
FINANCEBENCH_PDFS = SHARED / "benchmarks" / "financebench-dev" / "pdfs"
ZH_ANNUAL_REPORT = SHARED / "benchmarks" / "zh-dev" / "docs" / "annual_report_2019_sifang_603339.pdf"


@pytest.fixture(scope="session")
def embedder():
    from rag.embeddings import Embedder

    return Embedder()


@pytest.fixture
def settings(tmp_path):
    from rag.settings import Settings

    return Settings.load(environ={}, library=tmp_path / "library")


@pytest.fixture
def library(settings, embedder):
    from rag.library import Library

    return Library(settings, embedder=embedder)
