"""Channel URLs carry secrets (passwords, tokens in paths): whatever newsmon prints shows them masked."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from newsmon.secrets import mask_secrets
from newsmon.cli import cli
from tests.conftest import write_config


def test_check_shows_channel_urls_with_every_secret_hidden(tmp_path: Path) -> None:
    channels = {
        "mail": "mailtos://newsdesk:S3cret-Pass@smtp.example.org?to=desk@example.org",
        "hook": "json://hooks.example.org/newsmon/T0KEN-abcdef-123456",
        "slack": "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ",
    }
    config = write_config(tmp_path / "config.yaml", f"sqlite:///{tmp_path / 'n.db'}", [], channels=channels,
                          rules=[{"name": "r", "query": "ceasefire", "notify": list(channels)}])
    for fmt in ("table", "json"):
        result = CliRunner().invoke(cli, ["--config", str(config), "check", "--format", fmt])
        assert result.exit_code == 0, result.output
        for secret in ("S3cret-Pass", "T0KEN-abcdef-123456", "TIiajkdnlazkcOXrIdevi7FQ", "A1BRTD4JD"):
            assert secret not in result.output, (fmt, secret)
        assert "smtp.example.org" in result.output and "hooks.example.org" in result.output


def test_mask_secrets_hides_password_path_tokens_and_query_values_of_the_url() -> None:
    url = "json://user:pa55word@hooks.example.org/v1/Tok3nTok3nTok3n?key=QUERYSECRET"
    line = "POST to json://user:pa55word@hooks.example.org/v1/Tok3nTok3nTok3n?key=QUERYSECRET failed: 500"
    masked = mask_secrets(line, url)
    assert masked == "POST to json://****:****@hooks.example.org/v1/****?key=**** failed: 500"
