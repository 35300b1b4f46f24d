"""Notification channels: apprise URLs, and newsmon's own JSON webhook (``webhook+https://...``, see
alerts.payload); they hold secrets and are shown only masked."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import apprise

from newsmon.secrets import mask_secrets


NATIVE_WEBHOOK = "webhook+"  # webhook+https://host/path: newsmon posts its own JSON payload there


def is_native_webhook(url: str) -> bool:
    return url.lower().startswith(NATIVE_WEBHOOK)


def native_target(url: str) -> str:
    """The http(s) URL a native webhook channel posts to."""
    return url[len(NATIVE_WEBHOOK):]


def is_channel_url(url: str) -> bool:
    """True when newsmon (its JSON webhook) or apprise can send through ``url``."""
    if is_native_webhook(url):
        parts = urlsplit(native_target(url))
        return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
    return apprise.Apprise.instantiate(url, suppress_exceptions=True) is not None


def is_email(url: str) -> bool:
    """Email channels get HTML and plain text; everything else is chat and gets a short text."""
    return urlsplit(url).scheme.lower() in {"mailto", "mailtos"}


def masked_channel_url(url: str) -> str:
    """The channel URL as apprise prints it with privacy on (passwords and tokens hidden).

    A URL apprise does not understand is reduced to its scheme, so no part of a secret leaks.
    """
    if is_native_webhook(url):
        parts = urlsplit(native_target(url))
        return mask_secrets(f"webhook+{parts.scheme}://{parts.hostname or '?'}{':' + str(parts.port) if parts.port else ''}"
                            f"/{'****' if parts.path.strip('/') else ''}", url)
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
