"""`Server`: an ASGI application served over HTTP by uvicorn, on a socket bound before the
model loads (so a busy port fails at once, and port 0 picks a free one)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import uvicorn

STARTUP_TIMEOUT_S = 60.0
GRACEFUL_SHUTDOWN_S = 600.0  # a fill in progress is finished before the server stops


def bind_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to `host:port` (port 0: any free port); OSError naming the address
    and the flags to change if it cannot be bound."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise OSError(
            f"cannot listen on {host}:{port}: {error.strerror or error}; choose another --port "
            f"(or --host)"
        ) from error
    return sock


class Server:
    """Serves `app` on `sock` (from `bind_socket`) with uvicorn.

    Attributes:
        url: the address to open, e.g. `http://127.0.0.1:8080/`.
    """

    def __init__(self, app, sock: socket.socket, access_log: bool = True):
        self.socket = sock
        host, port = sock.getsockname()[:2]
        self.url = f"http://{f'[{host}]' if ':' in host else host}:{port}/"
        config = uvicorn.Config(
            app,
            log_level="info" if access_log else "warning",
            access_log=access_log,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        )
        self._uvicorn = uvicorn.Server(config)

    def run(self) -> None:
        """Serves until Ctrl-C (or SIGTERM), then stops cleanly: no new connection is taken,
        the requests in progress are answered, and it returns."""
        with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises Ctrl-C once stopped
            self._uvicorn.run(sockets=[self.socket])

    @contextlib.contextmanager
    def running_in_thread(self) -> Iterator[str]:
        """Serves in a background thread while the `with` block runs (tests and benches);
        yields `url`."""
        thread = threading.Thread(target=self._uvicorn.run, kwargs={"sockets": [self.socket]})
        thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not self._uvicorn.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the server at {self.url} did not start")
            time.sleep(0.01)
        try:
            yield self.url
        finally:
            self._uvicorn.should_exit = True
            thread.join()
