"""Running the web app with uvicorn on a socket we open, so that port 0 works and the real address is known."""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import signal
import socket
import threading
from collections.abc import Callable, Iterator

import uvicorn
from fastapi import FastAPI


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost: only this machine can reach the server."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def listening_socket(host: str, port: int) -> socket.socket:
    """A bound, listening TCP socket (``port`` 0: any free one).

    Raises:
        OSError: the address is taken or not this machine's.
    """
    host = host.strip("[]")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family, reuse_port=False)


class _Server(uvicorn.Server):
    """uvicorn's server, except that SIGINT/SIGTERM end ``run`` normally (exit status 0, after a graceful
    shutdown) instead of being raised again once the server has stopped."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield  # a server in a test's thread: stopped through should_exit
            return
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def make_server(app: FastAPI, sock: socket.socket) -> uvicorn.Server:
    host, port = sock.getsockname()[:2]
    config = uvicorn.Config(
        app, host=host, port=port, access_log=False, log_config=None, server_header=False, proxy_headers=False,
        timeout_graceful_shutdown=5,
    )
    # Our own access log (newsmon.web.app) leaves out query strings, which may carry the token.
    logging.getLogger("uvicorn.access").disabled = True
    return _Server(config)


def serve(app: FastAPI, sock: socket.socket, announce: Callable[[str], None]) -> None:
    """Serve until SIGINT/SIGTERM; ``announce`` is told the address people can open."""
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    announce(f"http://{shown}:{port}/")
    make_server(app, sock).run(sockets=[sock])
