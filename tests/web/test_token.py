"""A token guards every request when set; it never shows up in the log."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from newsmon.web.app import create_app
from tests.web.conftest import archive_config, running

TOKEN = "tok-5f1e9c-never-logged"


@pytest.fixture
def guarded(tmp_path: Path) -> Iterator[str]:
    config = archive_config(f"sqlite:///{tmp_path / 'archive.db'}")
    with running(create_app(config, token=TOKEN)) as url:
        yield url


def test_without_the_token_every_path_is_refused_in_one_line(guarded: str) -> None:
    for path in ("/api/stories", "/api/openapi.json", "/feeds/rules/guarantees.xml"):
        response = httpx.get(guarded + path)
        assert response.status_code == 401
        assert response.json()["error"].startswith("this newsmon needs its token")
    page = httpx.get(guarded + "/")
    assert page.status_code == 401 and page.text.count("\n") == 1
    wrong = httpx.get(guarded + "/api/rules", headers={"Authorization": "Bearer guess"})
    assert wrong.status_code == 401


def test_the_token_is_taken_from_the_header_the_query_or_the_cookie_the_page_sets(guarded: str) -> None:
    assert httpx.get(guarded + "/api/rules", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert httpx.get(guarded + "/feeds/rules/guarantees.xml", params={"token": TOKEN}).status_code == 200
    with httpx.Client(base_url=guarded) as browser:
        first = browser.get("/", params={"token": TOKEN})
        assert first.status_code == 200
        assert "httponly" in first.headers["set-cookie"].lower()
        assert browser.get("/sources").status_code == 200  # the cookie alone


def test_the_token_never_appears_in_the_log(guarded: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        httpx.get(guarded + "/api/stories", params={"token": TOKEN, "q": "ceasefire"})
        httpx.get(guarded + "/api/stories", params={"token": "wrong"})
    # the server's log (the test's own HTTP client logs the URLs it asks for)
    lines = [record.getMessage() for record in caplog.records if not record.name.startswith(("httpx", "httpcore"))]
    assert any("GET /api/stories 200" in line for line in lines)
    assert any("GET /api/stories 401" in line for line in lines)
    assert not any(TOKEN in line or "wrong" in line for line in lines)
