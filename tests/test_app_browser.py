"""End to end in a real browser: `streamlit run app.py` on 127.0.0.1, driven by Debian's headless Chromium.

Playwright drives the system browser through ``executable_path``; no browser is ever downloaded.
Screenshots of each page are saved under the test's temporary folder.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import REFERENCE_REPORT, ROOT

from ingest.job import ingest_paths
from rag.library import Library
from rag.settings import CONFIG_ENV, ENV, Settings

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
GEMINI = "Gemini 1.5 Pro 在生产环境里最多能处理多少 token 的上下文？"
REF_TITLE = "Sora 实现文生视频跨越式突破，AIGC 持续正反馈"
SCRIPT = """<script>window.__pwned = "script"; alert("script ran")</script>"""
IMG = """<img src=x onerror="window.__pwned = 'img'; alert('img ran')">"""
LINKS = "See [the model](https://evil.example/phish), ![pixel](https://evil.example/p.png) and www.evil.example."
HOSTILE = f"""# Hostile widgets note

## Margin outlook

The widget margin may fall to 18% if costs rise. {SCRIPT} {IMG} {LINKS}
"""
WAIT_MS = 180_000  # the first page load waits for the embedding model on a busy 2-core machine

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(url: str, process: subprocess.Popen, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read() == b"ok":
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"streamlit did not answer {url}/_stcore/health within {seconds} s")


@pytest.fixture(scope="module")
def server(tmp_path_factory, embedder):
    """The app on a library that holds the reference report."""
    folder = tmp_path_factory.mktemp("browser")
    library = Library(Settings.load(environ={}, library=folder / "library"), embedder=embedder)
    assert ingest_paths(library, [REFERENCE_REPORT]).ok
    env = {k: v for k, v in os.environ.items() if k not in (*ENV.values(), CONFIG_ENV)}
    env.update({ENV["library"]: str(library.settings.library), "HF_HUB_OFFLINE": "1"})
    env["ANONYMIZED_TELEMETRY"] = "False"
    port = _free_port()
    command = [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
        "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
    ]  # the toolbar mode comes from .streamlit/config.toml (read from the working folder)
    log = (folder / "streamlit.log").open("w")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh page that records every dialog (and dismisses it) and every request it makes."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.dialogs, page.requested = [], []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    page.on("request", lambda request: page.requested.append(request.url))
    yield page
    page.close()


def _ask(page, url: str, question: str):  # the answer's chat message locator
    page.goto(url, wait_until="domcontentloaded")
    box = page.get_by_placeholder("Ask a question about the reports in the library")
    box.wait_for(timeout=WAIT_MS)
    box.fill(question)
    box.press("Enter")
    page.get_by_text("Sources", exact=True).wait_for(timeout=WAIT_MS)
    return page.get_by_test_id("stChatMessage").nth(1)


def test_question_gets_an_answer_with_a_cited_page(server, page, tmp_path):
    message = _ask(page, server, GEMINI)
    assert "100万个 token" in message.inner_text()
    source = page.get_by_role("heading", name=f"[1] {REF_TITLE}")
    assert source.is_visible()
    assert message.get_by_text("page 1 · ", exact=False).first.is_visible()
    message.get_by_role("link", name="[1]").first.click()
    page.wait_for_url("**#source-0-1")
    page.screenshot(path=str(tmp_path / "chat.png"), full_page=True)
    assert page.dialogs == []
    # .streamlit/config.toml's minimal toolbar: no main menu (developer and viewer modes show one) and no
    # Deploy button (developer mode, Streamlit's default on localhost, shows one when not headless)
    assert page.get_by_test_id("stMainMenu").count() == 0
    assert page.get_by_test_id("stAppDeployButton").count() == 0


def test_uploaded_report_markup_is_shown_as_text_and_never_runs(server, page, tmp_path):
    note = tmp_path / "hostile_note.md"
    note.write_text(HOSTILE, encoding="utf-8")
    page.goto(f"{server}/library", wait_until="domcontentloaded")
    page.get_by_role("heading", name="1 documents").wait_for(timeout=WAIT_MS)
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(note))
    page.get_by_role("button", name="Ingest 1 file(s)").click()
    page.get_by_text("hostile_note.md (1 pages, ", exact=False).wait_for(timeout=WAIT_MS)
    page.get_by_role("heading", name="2 documents").wait_for(timeout=WAIT_MS)
    assert "new hostile_note.md (1 pages, " in page.get_by_test_id("stMainBlockContainer").inner_text()
    page.screenshot(path=str(tmp_path / "library.png"), full_page=True)

    message = _ask(page, server, "How low may the widget margin fall if costs rise?")
    text = message.inner_text()
    assert "The widget margin may fall to 18% if costs rise." in text
    assert SCRIPT in text and IMG in text  # the literal markup is visible
    assert LINKS in text.replace("\u2060", "")  # links and images stay text (word joiners aside)
    assert page.evaluate("typeof window.__pwned") == "undefined" and page.dialogs == []
    assert page.locator('img[src="x"]').count() == 0
    assert page.locator('a[href*="evil.example"]').count() == 0
    assert page.locator("script", has_text="__pwned").count() == 0
    assert not [u for u in page.requested if "evil.example" in u]
    page.screenshot(path=str(tmp_path / "hostile.png"), full_page=True)


def test_evaluation_page_lists_the_bundled_question_set(server, page, tmp_path):
    page.goto(f"{server}/evaluation", wait_until="domcontentloaded")
    page.get_by_role("button", name="Run evaluation").wait_for(timeout=WAIT_MS)
    sets = page.get_by_role("combobox", name="Question set")
    assert sets.input_value().endswith(".jsonl (bundled)")
    sets.click()
    page.get_by_role("option", name="reference_report_zh.jsonl (bundled)").wait_for(timeout=10_000)
    page.screenshot(path=str(tmp_path / "evaluation.png"), full_page=True)
    assert page.dialogs == []
