"""Secrets (a webhook's path token, channel and database passwords) never reach the output, at any log level, in
either log format, third-party loggers (apprise, urllib3, SQLAlchemy) included."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from db.session import open_database, session_factory
from tests.conftest import run_newsmon, write_config
from tests.factories import alert_plan, queue_alerts
from tests.servers import Webhook

TOKEN = "S3cretT0ken-9f8e7d6c"
PASSWORD = "Pa55-w0rd-xyz"
GENEVA = {"name": "geneva", "query": "Geneva", "notify": ["chat"]}


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_secrets_are_masked_in_every_log_line(tmp_path: Path, database_url: str, log_format: str) -> None:
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":  # trust authentication: the password is sent and ignored
        database_url = url.set(password="Db-Pa55word-42").render_as_string(hide_password=False)
    engine = open_database(database_url)
    queue_alerts(session_factory(engine), alert_plan(GENEVA), 2, datetime.now(UTC), "Geneva")
    engine.dispose()
    with Webhook([500, 200], path=f"/hook/{TOKEN}") as hook:
        channel = hook.url.replace("json://", f"json://newsmon:{PASSWORD}@")
        config = write_config(tmp_path / "config.yaml", database_url, [], channels={"chat": channel}, rules=[GENEVA])
        runs = [run_newsmon("--config", str(config), "-vv", "--log-format", log_format, *command)
                for command in (["alerts", "deliver"], ["alerts", "log", "--since", "3650d"], ["check"])]
        assert hook.requests == 2
    output = "".join(run.stdout + run.stderr for run in runs)
    assert all(run.returncode == 0 for run in runs), output
    # -vv shows what apprise and urllib3 say about the request, with the secrets masked.
    assert "JSON POST URL" in output and '"POST /hook/****' in output
    for secret in (TOKEN, PASSWORD, "Db-Pa55word-42"):
        assert secret not in output
