"""What the web server accepts: the request-size limit, and how many requests it holds at once
(the pixel limit belongs to the model: `local_model.LocalModel`, or the export's for TF
Serving)."""

from __future__ import annotations

import dataclasses

DEFAULT_MAX_REQUEST_MB = 100
DEFAULT_CONCURRENCY = 1
DEFAULT_QUEUE_SIZE = 32


@dataclasses.dataclass(frozen=True)
class ServerLimits:
    """The limits of one server.

    Attributes:
        max_request_bytes: largest request body; a larger one is refused with 413.
        concurrency: model calls that run at the same time.
        queue_size: requests that may wait for a model call; one more is refused with 503.
    """

    max_request_bytes: int = DEFAULT_MAX_REQUEST_MB * 1_000_000
    concurrency: int = DEFAULT_CONCURRENCY
    queue_size: int = DEFAULT_QUEUE_SIZE

    def __post_init__(self):
        for field, least in [
            ("max_request_bytes", 1),
            ("concurrency", 1),
            ("queue_size", 0),
        ]:
            if getattr(self, field) < least:
                raise ValueError(f"{field} must be at least {least}, got {getattr(self, field)}.")
