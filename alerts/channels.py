"""Notification channels: apprise URLs, which hold secrets and are shown only masked."""

from __future__ import annotations

from urllib.parse import urlsplit

import apprise


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
        return str(plugin.url(privacy=True))
    scheme = urlsplit(url).scheme or "?"
    return f"{scheme}://... (not a URL apprise understands)"
