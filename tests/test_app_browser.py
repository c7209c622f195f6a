"""The app in a real browser: summary → category → X23 → MAE → click a point → 3D structure.

Drives Debian's chromium (``apt-get install chromium``; .ci/run installs it) with
Playwright against ``mlpeg app``'s Streamlit command on the warehouse of app_helpers.
Screenshots go to test-results/app-browser/ (git-ignored) for people to look at. The whole
check runs offline: any request that leaves 127.0.0.1 fails the test.
"""

from __future__ import annotations

import io
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from app_helpers import app_warehouse

from mlpeg.appdata.launch import app_environment, streamlit_command
from mlpeg.appdata.structure_html import THREEDMOL_FILE
from mlpeg.paths import REPO_ROOT

CHROMIUM = Path(os.environ.get("MLPEG_CHROMIUM", "/usr/bin/chromium"))
SHOTS = REPO_ROOT / "test-results" / "app-browser"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WAIT_MS = 180_000  # first page loads are slow on a busy two-core machine

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.is_file(),
        reason=f"chromium is not installed at {CHROMIUM} (apt-get install chromium)",
    ),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    assert THREEDMOL_FILE.is_file(), "3Dmol.js is missing: run 'make setup'"
    root = tmp_path_factory.mktemp("browser")
    warehouse = app_warehouse(root)
    port = _free_port()
    log = open(root / "streamlit.log", "w")  # noqa: SIM115 - closed at teardown
    process = subprocess.Popen(
        streamlit_command(port=port, host="127.0.0.1"),
        env=app_environment(warehouse, sql_page=True),
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=REPO_ROOT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=5) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"streamlit did not start: {(root / 'streamlit.log').read_text()[-2000:]}")
        time.sleep(0.5)
    yield base
    process.terminate()
    process.wait(timeout=30)
    log.close()


def _settled(page) -> None:
    """Wait until Streamlit has finished running the script for the last interaction."""
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"stApp\"]')"
        ".getAttribute('data-test-script-state') === 'notRunning'"
    )


def _evaluate_settled(frame, script: str, attempts: int = 5):
    """Evaluate ``script`` in the viewer's frame once it has a canvas and stays put.

    Streamlit may re-render the component after the click, which reloads the iframe under
    a running evaluation ("Execution context was destroyed"): wait for the new canvas and
    evaluate again.
    """
    from playwright.sync_api import Error

    for attempt in range(attempts):
        frame.locator("canvas").first.wait_for()
        try:
            return frame.locator("body").evaluate(script)
        except Error as exc:
            if "context was destroyed" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.5)
    return None


def _non_white_fraction(png: bytes) -> float:
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("L")
    histogram = image.histogram()
    return sum(histogram[:235]) / (image.width * image.height)


def test_summary_to_structure(server):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    outside: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(WAIT_MS)
            page.on(
                "request",
                lambda request: (
                    outside.append(request.url)
                    if not request.url.startswith((server, "data:", "blob:", "about:"))
                    else None
                ),
            )
            page.goto(server + "/")
            page.get_by_role("heading", name="Leaderboard").wait_for()
            table = page.locator('[data-testid="stDataFrame"]').first
            table.wait_for()
            _settled(page)
            page.screenshot(path=SHOTS / "1-summary.png")

            # A category link opens that category (not the first one, Molecular Crystals).
            page.get_by_role("link", name="Toy category").click()
            page.get_by_role("link", name="TOY — Toy energies").wait_for()
            page.get_by_role("link", name="Summary").click()
            page.get_by_role("link", name="Molecular Crystals").wait_for()
            _settled(page)
            page.get_by_role("link", name="Molecular Crystals").click()
            x23 = page.get_by_role("link", name="X23 — X23 lattice energies")
            x23.wait_for()
            _settled(page)
            page.screenshot(path=SHOTS / "2-category.png")

            x23.click()
            page.get_by_role("heading", name="X23: X23 lattice energies").wait_for()
            page.get_by_role("radio", name="MAE", exact=True).click()
            points = page.locator(".js-plotly-plot .scatterlayer path.point")
            points.first.wait_for()
            _settled(page)
            assert points.count() == 7  # 3 + 2 + 2 ok points of model-a, -b, -c
            page.screenshot(path=SHOTS / "3-benchmark.png")
            page.locator(".js-plotly-plot").first.scroll_into_view_if_needed()
            page.screenshot(path=SHOTS / "3-scatter.png")

            points.first.click(force=True)
            viewer = page.locator('iframe[title="Structure viewer"]')
            viewer.wait_for()
            frame = page.frame_locator('iframe[title="Structure viewer"]')
            loaded = _evaluate_settled(frame, "() => typeof $3Dmol !== 'undefined'")
            assert loaded, "3Dmol.js did not load from the app's static files"
            viewer.scroll_into_view_if_needed()
            time.sleep(1.0)  # let WebGL draw the first frame
            drawn = _non_white_fraction(viewer.screenshot())
            page.screenshot(path=SHOTS / "4-structure.png")
            assert drawn > 0.002, f"the 3Dmol canvas looks empty ({drawn:.4f} non-white)"
            _element_heat_map_click(page, server)  # in the same browser: one launch
        finally:
            browser.close()
    assert not outside, f"the app asked the internet for {outside[:3]}"


def _element_heat_map_click(page, server: str) -> None:
    """A click on the heat map (what AppTest cannot do) selects the element's worst points."""
    page.goto(server + "/element-errors?element_errors_model=model-a")
    page.get_by_role("heading", name="Errors per element").wait_for()
    # model-a's elements by atomic number: H C N O Na S Cl (the second trace)
    squares = page.locator(".js-plotly-plot .scatterlayer .trace").nth(1).locator("path.point")
    squares.first.wait_for()
    _settled(page)
    assert squares.count() == 7
    squares.nth(6).click(force=True)
    page.get_by_role("heading", name="Worst points of model-a holding Cl").wait_for()
    _settled(page)
    page.screenshot(path=SHOTS / "5-element-errors.png")
