"""The playground page in a real headless browser (Debian's Chromium, driven by Playwright over the DevTools
protocol) against the local stack as `make run` starts it: the WebSocket API, the local API, moto, the emulator.

Each panel's screenshot is written under the test's output folder (pytest's temporary directory, printed)."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from websockets.asyncio.client import connect

from dev.lambda_runtime import REPO_ROOT
from dev.stack_process import LocalStackProcess

pytestmark = pytest.mark.e2e
PNG = b"\x89PNG\r\n\x1a\n"


def _chromium() -> str:
    found = subprocess.run([str(REPO_ROOT / "scripts" / "chromium.sh")], capture_output=True, text=True)
    path = found.stdout.strip()
    if found.returncode != 0 or not shutil.which(path):
        pytest.fail(f"no Chromium for the browser tests (make chromium): {found.stderr.strip()}")
    return path


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStackProcess]:
    with LocalStackProcess() as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=_chromium(), headless=True, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("playground-screenshots")
    print(f"playground screenshots: {folder}")
    return folder


@pytest.fixture
def page(browser: Browser, stack: LocalStackProcess) -> Iterator[Page]:
    opened = browser.new_page(viewport={"width": 1280, "height": 1000})
    opened.goto(f"{stack.url}/playground")
    expect(opened.locator("#connection")).to_have_attribute("data-state", "open", timeout=20_000)
    yield opened
    opened.close()


def _shoot(page: Page, panel: str, folder: Path) -> None:
    path = folder / f"{panel}.png"
    page.locator(f"#{panel}").screenshot(path=str(path))
    assert path.read_bytes().startswith(PNG)
    assert path.stat().st_size > 2000


def test_make_run_prints_the_websocket_api_and_the_playground(stack: LocalStackProcess) -> None:
    banner = stack.output()
    # Then the banner names the WebSocket API with its key, the playground, and a client to try
    assert f"WebSocket API on {stack.ws_url} (API key: {stack.api_key})" in banner
    assert f"playground at {stack.url}/playground" in banner
    assert f"-m websockets '{stack.ws_url}/?api_key={stack.api_key}'" in banner

    async def ping() -> object:
        async with connect(f"{stack.ws_url}/?api_key={stack.api_key}") as socket:
            await socket.send(json.dumps({"action": "ping"}))
            return json.loads(await socket.recv())

    # And that URL and key work
    assert asyncio.run(ping()) == {"type": "pong"}


def test_a_chat_streams_into_the_page_and_finishes_with_its_attempts(page: Page, screenshots: Path) -> None:
    # When a prompt is sent from the chat panel
    page.locator("#chat-form button").click()
    # Then the answer fills in, the panel finishes, and the timeline has one entry per attempt
    expect(page.locator("#chat")).to_have_attribute("data-state", "done", timeout=30_000)
    expect(page.locator("#chat-answer")).to_contain_text("Python generator")
    expect(page.locator("#chat-timeline li")).to_have_count(1)
    expect(page.locator("#chat-timeline li")).to_have_text(re.compile(r"^slm: ok, \d+ ms$"))
    expect(page.locator("#chat-meta")).to_contain_text("slm")
    _shoot(page, "chat", screenshots)


def test_points_are_plotted_one_mark_per_point(page: Page, screenshots: Path) -> None:
    # When points are asked for
    page.locator("#points-form button").click()
    expect(page.locator("#points")).to_have_attribute("data-state", "done", timeout=30_000)
    # Then the plot has one mark per point the answer holds, inside the drawing
    expect(page.locator("#points-meta")).to_contain_text("12 points, 2D, exact")
    marks = page.locator("#points-plot circle.point")
    expect(marks).to_have_count(12)
    xs = [float(marks.nth(i).get_attribute("cx") or "nan") for i in range(12)]
    assert all(0 <= x <= 400 for x in xs)
    assert max(xs) - min(xs) > 100
    _shoot(page, "points", screenshots)


def test_a_3d_shape_is_projected(page: Page) -> None:
    page.locator("#points-prompt").fill("8 points on a helix of radius 10 and pitch 5")
    page.locator("#points-form button").click()
    expect(page.locator("#points")).to_have_attribute("data-state", "done", timeout=30_000)
    expect(page.locator("#points-meta")).to_contain_text("3D")
    marks = page.locator("#points-plot circle.point")
    expect(marks).to_have_count(8)


def test_an_error_analysis_is_laid_out(page: Page, screenshots: Path) -> None:
    page.locator("#error-form button").click()
    expect(page.locator("#error")).to_have_attribute("data-state", "done", timeout=30_000)
    # Then summary, cause, fix steps and what was understood are shown
    terms = page.locator("#error-analysis dt")
    expect(terms).to_contain_text(["summary", "likely cause", "fix", "understood", "confidence"])
    expect(page.locator("#error-analysis ol li").first).not_to_be_empty()
    expect(page.locator("#error-analysis")).to_contain_text("KeyError")
    _shoot(page, "error", screenshots)


def test_the_status_panel_shows_every_provider(page: Page, screenshots: Path) -> None:
    expect(page.locator("#status")).to_have_attribute("data-state", "done", timeout=30_000)
    rows = page.locator("#status-table tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.locator("td:first-child")).to_have_text(["slm", "gemini", "huggingface"], timeout=1)
    _shoot(page, "status", screenshots)


def test_a_wrong_key_is_refused_and_the_page_says_so(page: Page) -> None:
    page.locator("#api-key").fill("not-the-key-0000000000")
    page.locator("#connect").click()
    expect(page.locator("#connection")).to_have_attribute("data-state", "error", timeout=20_000)
    expect(page.locator("#notice")).to_contain_text("refused")
