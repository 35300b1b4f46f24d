"""Notification channels: apprise URLs, which hold secrets and are shown only masked."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import apprise

from newsmon.secrets import mask_secrets


def is_channel_url(url: str) -> bool:
    """True when apprise can send through ``url``."""
    return apprise.Apprise.instantiate(url, suppress_exceptions=True) is not None


def is_email(url: str) -> bool:
    """Email channels get HTML and plain text; everything else is chat and gets a short text."""
    return urlsplit(url).scheme.lower() in {"mailto", "mailtos"}


def masked_channel_url(url: str) -> str:
    """The channel URL as apprise prints it with privacy on (passwords and tokens hidden).

    A URL apprise does not understand is reduced to its scheme, so no part of a secret leaks.
    """
    plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    if plugin:
        # apprise hides what each plugin knows to be secret; a token in a generic webhook's path is not one
        # of those, so the path segments and query values of the URL are hidden as well.
        return mask_secrets(str(plugin.url(privacy=True)), url)
    scheme = urlsplit(url).scheme or "?"
    return f"{scheme}://... (not a URL apprise understands)"


def channel_problems(data: Mapping[str, Any]) -> list[str]:
    """The channels of a (raw) config whose URL apprise does not understand, each by its path; a check that
    ``newsmon.config_load`` runs when the shell passes it."""
    channels = data.get("channels") if isinstance(data.get("channels"), dict) else {}
    problems = []
    for name, url in channels.items():
        if isinstance(url, str) and "${" not in url and not is_channel_url(url):
            scheme = url.split("://", 1)[0] if "://" in url else "no scheme"
            problems.append(f"channels.{name}: not a notification URL apprise understands ({scheme}://...)")
    return problems
