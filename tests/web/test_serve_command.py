"""`newsmon serve` as a user runs it: it says where it listens, serves, stops on SIGTERM, refuses what is unsafe."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import yaml

from tests.conftest import REPO, run_newsmon
from tests.web.conftest import archive_config, fill_archive


def config_file(tmp_path: Path) -> Path:
    url = f"sqlite:///{tmp_path / 'archive.db'}"
    fill_archive(archive_config(url))
    path = tmp_path / "config.yaml"
    data = {"database": {"url": url}, "sources": [{"name": "wire", "feed": "https://wire.example/rss"}],
            "rules": [{"name": "ceasefire", "query": "ceasefire NOT football"}]}
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_serve_announces_its_address_serves_the_archive_and_stops_on_sigterm(tmp_path: Path) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("NEWSMON_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "newsmon", "--config", str(config_file(tmp_path)), "serve", "--port", "0"],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, cwd=REPO, env=environment,
    )
    killer = threading.Timer(60, process.kill)  # never hang the suite
    killer.start()
    try:
        assert process.stderr is not None
        announced = ""
        for line in process.stderr:
            if "serving the archive on" in line:
                announced = line
                break
        found = re.search(r"(http://127\.0\.0\.1:\d+/)", announced)
        assert found, announced
        response = httpx.get(found.group(1) + "api/stories", params={"q": "ceasefire"}, timeout=30)
        assert response.status_code == 200
        # the Geneva story (one row for both copies), the stalled talks and the cup final
        assert response.json()["count"] == 3
        assert httpx.get(found.group(1) + "feeds/rules/ceasefire.xml", timeout=30).status_code == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
    finally:
        killer.cancel()
        process.kill()
        process.wait()
        if process.stderr is not None:
            process.stderr.close()


def test_serving_beyond_loopback_without_a_token_is_refused_in_one_line(tmp_path: Path) -> None:
    result = run_newsmon("--config", str(config_file(tmp_path)), "serve", "--host", "0.0.0.0", timeout=60)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert "set a token (NEWSMON_WEB_TOKEN" in result.stderr


def test_a_port_in_use_is_a_one_line_error(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = run_newsmon("--config", str(config_file(tmp_path)), "serve", "--port", str(port), timeout=60)
    assert result.returncode == 1
    expected = f"error: cannot listen on 127.0.0.1:{port}: Address already in use; choose another --port"
    assert result.stderr.strip() == expected
