"""Who holds a row: the scheduler lock's lease, an outbox message being sent. A holder is named
``host pid N #token``, so that a holder on this very host whose process is gone is known dead at once."""

from __future__ import annotations

import os
import secrets
import socket

_MINE: set[str] = set()  # the names made in this process (tests make several)


def new_claimant() -> str:
    """A name for a holder in this process, unique across hosts and process lifetimes."""
    name = f"{socket.gethostname()} pid {os.getpid()} #{secrets.token_hex(4)}"
    _MINE.add(name)
    return name


def is_dead_on_this_host(claimant: str) -> bool:
    """True when ``claimant`` ran on this host and its process is gone (or its pid is ours now, as after a
    container restart). A claimant on another host is never known dead this way: its lease must run out."""
    host, _, rest = claimant.partition(" pid ")
    pid_text = rest.split(" ", 1)[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return claimant not in _MINE  # an earlier life of this process id
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False
