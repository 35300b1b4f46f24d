"""The one exception hierarchy of newsmon.

Third-party exceptions are translated into these at the boundary (``raise ... from exc``), so the CLI and
the service only ever have to understand this tree.
"""


# The longest reason kept for one problem: a reason is one line, not a traceback.
MAX_REASON = 300


def one_line(reason: object) -> str:
    """``reason`` as one line of at most MAX_REASON characters, for a log line, a report or a stored problem."""
    text = " ".join(str(reason).split())
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 3] + "..."


class NewsmonError(Exception):
    """Base of every error newsmon raises on purpose; its message is one line meant for a person."""


class ConfigError(NewsmonError):
    """Raised by ``newsmon.config`` when config.yaml is missing, unreadable or invalid.

    ``problems`` holds every problem found, each prefixed by its path in the file
    (``sources[2].every: ...``), so that a user can fix them all in one go.
    """

    def __init__(self, problems: list[str], path: str | None = None) -> None:
        self.problems = list(problems)
        self.path = path
        where = f"{path}: " if path else ""
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"{where}{count} {noun} in the config:\n  " + "\n  ".join(self.problems))


class FetchError(NewsmonError):
    """Raised by the crawler when a source or page cannot be fetched (network, HTTP status, refused address)."""


class ExtractionError(NewsmonError):
    """Raised by ``crawler.extract`` and the listing parsers when a response holds no usable article or feed."""


class StorageError(NewsmonError):
    """Raised by ``db`` when the database cannot be reached, migrated or written."""


class DeliveryError(NewsmonError):
    """Raised by ``alerts`` when a notification cannot be delivered through its channel."""
