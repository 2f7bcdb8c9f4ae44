"""`RequestError`: a request the server refuses, with the HTTP status and the message it sends
back as TF Serving does (`{"error": message}`)."""

from __future__ import annotations


class RequestError(Exception):
    """A refused request: `status` (400 bad input, 404 unknown model, 413 too large, 503 busy,
    502 TF Serving unreachable) and a message saying what is wrong and what to do."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message
