"""The parts of a URL that may be secret (a password, a token in a webhook's path, query values), to be masked
wherever a URL is shown or logged."""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, unquote, urlsplit


def url_secrets(url: str) -> list[str]:
    """The parts of a URL that may be secret: password (and the user name beside it), query values, long path
    segments (a webhook's token), each also as it appears percent-encoded in a request line."""
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
    """Hide the parts of ``url`` that may be secret wherever they occur in ``text``."""
    for secret in url_secrets(url):
        text = text.replace(secret, "****")
    return text
