"""`build_app`: the editor's ASGI application (Starlette): the page, TF Serving's REST API in
front of a model, a health check, and the limits.

Routes:
    GET  /                        the editor page (`static/`, shipped in the package)
    GET  /editor/config           what the page needs: model name, limits
    GET  /healthz                 {"status": "ok"} while the server runs
    GET  /v1/models/NAME          the model's status, as TF Serving answers it
    GET  /v1/models/NAME/metadata its signature, as TF Serving answers it
    POST /v1/models/NAME:predict  fill holes: TF Serving's REST JSON in and out

Every error is JSON `{"error": message}` with its status: 400 bad input (naming it), 404
unknown model or URL, 405 wrong method, 413 request too large, 503 server busy, 502 TF
Serving unreachable (proxy). The server answers each request from its own bytes: no request
names a file that it reads or writes.
"""

from __future__ import annotations

import contextlib
from typing import Protocol

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from gated_inpaint.web.admission import Admission
from gated_inpaint.web.limits import ServerLimits
from gated_inpaint.web.request_error import RequestError
from gated_inpaint.web.rest_api import ModelUrl, parse_model_url

STATIC_PACKAGE = ("gated_inpaint.web", "static")


class Backend(Protocol):
    """What answers the model's URLs: a `local_model.LocalModel` or a
    `tf_serving_proxy.TFServingProxy`."""

    name: str
    max_pixels: int | None
    description: str

    async def status(self, url: ModelUrl) -> Response: ...

    async def metadata(self, url: ModelUrl) -> Response: ...

    async def predict(self, url: ModelUrl, body: bytes) -> Response: ...

    async def aclose(self) -> None: ...


def build_app(backend: Backend, limits: ServerLimits | None = None) -> Starlette:
    """The editor's application serving `backend` within `limits` (default `ServerLimits()`)."""
    limits = limits or ServerLimits()
    admission = Admission(limits.concurrency, limits.queue_size)

    async def models(request: Request) -> Response:
        url = parse_model_url(request.path_params["path"])
        if url.name != backend.name:
            raise url.not_found()
        if (request.method == "POST") != (url.verb == "predict"):
            needed = "POST" if url.verb == "predict" else "GET"
            raise RequestError(405, f"{request.url.path} takes {needed}, not {request.method}.")
        if url.verb == "status":
            return await backend.status(url)
        if url.verb == "metadata":
            return await backend.metadata(url)
        async with admission.admitted():
            body = await read_body(request, limits.max_request_bytes)
            async with admission.model_call():
                return await backend.predict(url, body)

    async def editor_config(request: Request) -> Response:
        return JSONResponse(
            {
                "model_name": backend.name,
                "description": backend.description,
                "max_pixels": backend.max_pixels,
                "max_request_bytes": limits.max_request_bytes,
            }
        )

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        yield
        await backend.aclose()

    app = Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/editor/config", editor_config),
            Route("/v1/models/{path:path}", models, methods=["GET", "POST"]),
            Mount("/", StaticFiles(packages=[STATIC_PACKAGE], html=True)),
        ],
        exception_handlers={
            RequestError: refused,
            HTTPException: http_error,
            Exception: internal_error,
        },
        lifespan=lifespan,
    )
    app.state.admission = admission  # for monitoring: requests running or waiting
    return app


async def read_body(request: Request, limit: int) -> bytes:
    """The request's body; RequestError 413 as soon as it is known to exceed `limit` bytes
    (from its Content-Length header, else while it arrives)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large(declared, limit)
    chunks, received = [], 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise too_large(f"more than {limit}", limit)
        chunks.append(chunk)
    return b"".join(chunks)


def too_large(size: str, limit: int) -> RequestError:
    """The 413 of a request body of `size` bytes, above `limit`."""
    return RequestError(
        413,
        f"The request has {size} bytes; this server takes at most {limit} (gated-inpaint "
        f"serve --max_request_mb {limit / 1e6:g}). Send a smaller image.",
    )


async def refused(request: Request, error: Exception) -> Response:
    """A `RequestError` as TF Serving answers one: `{"error": message}`."""
    assert isinstance(error, RequestError)
    return JSONResponse({"error": error.message}, error.status)


async def http_error(request: Request, error: Exception) -> Response:
    """Starlette's own errors (unknown page, wrong method) in the same JSON form."""
    assert isinstance(error, HTTPException)
    return JSONResponse({"error": error.detail}, error.status_code, headers=error.headers)


async def internal_error(request: Request, error: Exception) -> Response:
    """A bug, not the request's fault: 500 (the server logs its traceback and goes on)."""
    return JSONResponse({"error": f"internal error: {error!r}"}, 500)
