"""End to end in headless Chromium (Debian's chromium package, driven by Playwright): a person types a query
into the search box, and the page shows the expected stories. The screenshot is kept in test-artifacts/."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.web.conftest import STORIES, Served

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = REPO / "test-artifacts"
# As root in a container, without a network beyond loopback: no sandbox, no calls home.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]


@pytest.fixture
def browser_page():  # type: ignore[no-untyped-def]
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (apt-get install chromium; .ci/run installs it)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser.new_page(viewport={"width": 1100, "height": 900})
        finally:
            browser.close()


def test_a_search_typed_into_the_page_shows_the_expected_stories(  # type: ignore[no-untyped-def]
    browser_page, sqlite_served: Served
) -> None:
    page = browser_page
    page.goto(sqlite_served.url + "/", wait_until="load")
    page.fill("input[name=q]", '"security guarantees" OR гаранті*')
    page.press("input[name=q]", "Enter")
    page.wait_for_url("**/?q=*", wait_until="load")
    titles = page.locator("ol.results h2").all_inner_texts()
    # the Geneva story once (its two copies are one result), and the Ukrainian story
    assert sorted(titles) == sorted([STORIES[0][3], STORIES[3][3]])
    marks = {text.lower() for text in page.locator("ol.results mark").all_inner_texts()}
    assert {"security guarantees", "гарантії"} <= marks
    assert page.locator(".chart rect").count() == 30
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "search.png"), full_page=True)
    assert (ARTIFACTS / "search.png").stat().st_size > 10_000

    page.click(f"ol.results a[href$='/stories/{sqlite_served.ids[0]}']")
    page.wait_for_url(f"**/stories/{sqlite_served.ids[0]}", wait_until="load")
    assert page.locator("h1").inner_text() == STORIES[0][3]
    assert "Also reported (1)" in page.content()
    page.screenshot(path=str(ARTIFACTS / "story.png"), full_page=True)
