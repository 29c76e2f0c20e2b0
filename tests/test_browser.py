"""The real app in a real browser: `streamlit run` in a subprocess, driven by headless
Chromium (Debian's package) through Playwright. Only this shows what the page's own
JavaScript does with the chat input, the streamed answer and the citation expanders."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.helpers import free_port

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
]
START_TIMEOUT_S = 90
ANSWER_TIMEOUT_MS = 180_000


@pytest.fixture
def server(tmp_path, kb_dir):
    port = free_port()
    env = {
        **os.environ,
        "RESKILL_DATA_DIR": str(tmp_path / "data"),
        "RESKILL_KNOWLEDGE_DIR": str(kb_dir),
        "ANONYMIZED_TELEMETRY": "False",
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }
    cmd = [sys.executable, "-m", "streamlit", "run", str(REPO / "app.py"), "--server.port", str(port),
           "--server.address", "127.0.0.1", "--server.headless", "true"]  # fmt: skip
    log = (tmp_path / "streamlit.log").open("w")
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"streamlit exited with {proc.returncode}:\n{(tmp_path / 'streamlit.log').read_text()}")
            try:
                if httpx.get(f"{url}/_stcore/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit did not serve within {START_TIMEOUT_S} s")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def test_a_question_typed_in_the_browser_gets_a_cited_answer(server, tmp_path):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent: install Debian's chromium package (`make browser`) to run the browser test")
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.goto(server)
            box = page.get_by_test_id("stChatInputTextArea")
            box.wait_for(timeout=ANSWER_TIMEOUT_MS)  # the first session loads the Advisor
            box.fill("What does a BI analyst do?")
            box.press("Enter")

            answer = page.get_by_test_id("stChatMessage").nth(1)
            first_source = answer.get_by_test_id("stExpander").first
            expect(first_source).to_contain_text("[1] Business Intelligence Analyst", timeout=ANSWER_TIMEOUT_MS)
            expect(answer).to_contain_text("dashboards")
            first_source.click()
            expect(first_source).to_contain_text("dashboards and reports")
            expect(page.get_by_test_id("stException")).to_have_count(0)
            shot = tmp_path / "chat_answer.png"
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert shot.stat().st_size > 10_000
