"""`Admission`: how many requests the server holds, and how many model calls run at once."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import anyio

from gated_inpaint.web.request_error import RequestError


class Admission:
    """At most `concurrency` model calls at a time, behind a queue of at most `queue_size`
    waiting requests: a request that finds `concurrency + queue_size` requests already in
    the server is refused at once with 503 (before its body is read).

    Use `admitted()` around the whole request and `model_call()` around the work.
    """

    def __init__(self, concurrency: int, queue_size: int):
        self.concurrency = concurrency
        self.queue_size = queue_size
        self.in_server = 0
        self._model_calls = anyio.Semaphore(concurrency)

    @contextlib.asynccontextmanager
    async def admitted(self) -> AsyncIterator[None]:
        """Holds one of the server's places; RequestError 503 if there is none."""
        if self.in_server >= self.concurrency + self.queue_size:
            raise RequestError(
                503,
                f"The server is busy: {self.in_server} requests are running or waiting, the "
                f"most it holds (gated-inpaint serve --concurrency {self.concurrency} "
                f"--queue_size {self.queue_size}). Try again in a moment.",
            )
        self.in_server += 1
        try:
            yield
        finally:
            self.in_server -= 1

    @contextlib.asynccontextmanager
    async def model_call(self) -> AsyncIterator[None]:
        """Waits for one of the `concurrency` model calls."""
        async with self._model_calls:
            yield
