"""Notification channels: apprise URLs, which hold secrets and are shown only masked."""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, unquote, urlsplit

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
        # apprise hides what each plugin knows to be secret; a token in a generic webhook's path is not one
        # of those, so the path segments and query values of the URL are hidden as well.
        return mask_secrets(str(plugin.url(privacy=True)), url)
    scheme = urlsplit(url).scheme or "?"
    return f"{scheme}://... (not a URL apprise understands)"


def url_secrets(url: str) -> list[str]:
    """The parts of a channel URL that may be secret: password (and the user name beside it), query values,
    long path segments (a webhook's token), each also as it appears percent-encoded in a request line."""
    parts = urlsplit(url)
    password = parts.password or ""
    found = [password, unquote(password), *(value for _key, value in parse_qsl(parts.query))]
    found += [unquote(segment) for segment in parts.path.split("/") if len(segment) >= 8]
    if parts.username and parts.password:
        found.append(unquote(parts.username))
    found = [secret for secret in found if len(secret) >= 4]
    found += [quote(secret, safe="") for secret in found]
    return sorted(set(found), key=len, reverse=True)


def mask_secrets(text: str, url: str) -> str:
    """Hide the parts of a channel URL that may be secret (password, tokens, query values) in ``text``."""
    for secret in url_secrets(url):
        text = text.replace(secret, "****")
    return text
