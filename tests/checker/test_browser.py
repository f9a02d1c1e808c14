"""The checker's page in a real browser: Playwright driving Debian's Chromium, JavaScript off.

``fairfetch check --serve`` runs as a subprocess against the fixture web (through its proxy;
``--allow-private`` because the proxy and sites are on loopback). The core flow — a URL, then
pasted files — is done with JavaScript disabled, since the page must work without it; axe-core
(shipped inside axe-playwright-python, nothing downloaded) then checks both pages for serious or
critical accessibility violations. Screenshots land in docs/img/ for the README.

Under ``CI=true`` a missing /usr/bin/chromium fails the test (``make test`` installs it); locally
it skips with the reason.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fixtures.web import FixtureWeb
from tests.checker.service import served_cli
from tests.crawler.crawlrun import REPO

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = REPO / "docs" / "img"
# Screenshots go to docs/img/ only when asked (FAIRFETCH_SCREENSHOTS=1), so a test run leaves the tree clean.
SHOT_DIR = SHOTS if os.environ.get("FAIRFETCH_SCREENSHOTS") == "1" else Path("/tmp/fairfetch-checker-shots")
ROBOTS = """License: https://harbour.example/license.xml

User-agent: *
Disallow: /drafts/
Content-Signal: search=yes, ai-input=yes, ai-train=no

User-agnet: GPTBot
Disalow: /archive/
"""
LICENCE = """<rsl xmlns="https://rslstandard.org/rsl">
  <content url="/">
    <license>
      <permits type="usage">search ai-input ai-train</permits>
      <payment type="attribution"/>
    </license>
  </content>
</rsl>
"""


def _browser_path() -> str:
    if not os.access(CHROMIUM, os.X_OK):
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing: 'make test' installs Debian's chromium package")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium, or run 'make browser')")
    return CHROMIUM


@pytest.fixture(scope="module")
def service() -> Iterator[str]:
    _browser_path()
    with FixtureWeb(bench_hosts=0, bench_pages_per_host=0) as web, served_cli(web, COLUMNS="200") as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=_browser_path(), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def _serious(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [f"{v['id']}: {v['help']}" for v in results.response["violations"]
            if v.get("impact") in ("serious", "critical")]


def _cells(page: Any, agent: str) -> list[str]:
    row = page.locator(f"#matrix tbody tr[data-agent='{agent}']")
    texts: list[str] = row.locator("td").all_inner_texts()
    return texts


def test_a_url_then_pasted_files_without_javascript(service: str, browser: Any) -> None:
    SHOT_DIR.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(service + "/")
    assert page.title() == "fairfetch check"
    page.get_by_label("Page URL", exact=True).fill("http://agents.example/")
    page.get_by_role("button", name="Check URL").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text().startswith("Check of")
    gpt = _cells(page, "GPTBot")
    assert len(gpt) == 5 and all("denied" in c and "robots.txt:10" in c for c in gpt)
    ours = _cells(page, "fairfetch-ai")
    assert "allowed" in ours[0] and "allowed" in ours[3]  # fetch, ai-input
    assert ours[1] == ours[4] == "not applicable"  # fairfetch-ai crawls for neither search nor ai-train
    group = page.locator("#matrix tr[data-agent='fairfetch-ai'] th").inner_text()
    assert group.startswith("fairfetch-ai") and "group 'fairfetch' (the base token's), robots.txt line" in group
    page.locator("#evidence summary").click()  # raw evidence on demand (<details>, no script)
    assert page.locator("#evidence table").is_visible()
    assert "Disallow: /" in page.locator("#evidence").inner_text()
    page.screenshot(path=str(SHOT_DIR / "checker-live.png"), full_page=True)

    page.goto(service + "/")
    page.get_by_label("The page URL they are for").fill("https://harbour.example/news/quay")
    page.locator("#robots").fill(ROBOTS)
    page.locator("#rsl").fill(LICENCE)
    page.get_by_role("button", name="Check files").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text().startswith("Offline check of")
    codes = [r.get_attribute("data-code") for r in page.locator("#problems tr.problem").all()]
    assert {"robots-unknown-misspelling", "robots-misspelt-directive", "contradiction-signal-licence"} <= set(codes)
    typo = page.locator("#problems tr.problem[data-code='robots-unknown-misspelling']").inner_text()
    assert "line 7" in typo and "Did you mean 'User-agent'?" in typo
    cells = _cells(page, "GPTBot")
    assert "denied" in cells[4]  # ai-train: Content-Signal ai-train=no wins over the licence
    assert "attribution" in page.locator("#obligations").inner_text()
    page.screenshot(path=str(SHOT_DIR / "checker-offline.png"), full_page=True)
    context.close()


def test_no_serious_accessibility_violations(service: str, browser: Any) -> None:
    context = browser.new_context(bypass_csp=True)  # only so axe's script can be injected
    page = context.new_page()
    page.goto(service + "/")
    assert _serious(page) == []
    page.goto(service + "/check?url=" + "http://rsl.example/premium/investigation")
    assert page.locator("#problems tr.problem[data-code='rsl-insecure']").count() == 1
    assert _serious(page) == []
    page.goto(service + "/")
    page.locator("#offline_url").fill("https://harbour.example/")
    page.locator("#robots").fill(ROBOTS)
    page.get_by_role("button", name="Check files").click()
    page.wait_for_load_state()
    assert _serious(page) == []
    context.close()


def test_screenshots_are_committed_next_to_the_readme() -> None:
    readme = (REPO / "README.md").read_text()
    for name in ("checker-live.png", "checker-offline.png"):
        assert f"docs/img/{name}" in readme
        assert (SHOTS / name).stat().st_size > 10_000
    assert Path(SHOTS).is_dir()
