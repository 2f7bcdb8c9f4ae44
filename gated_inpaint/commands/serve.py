"""`gated-inpaint serve`: the interactive editor, a web page to paint holes (and sketches) on a
photo and fill them, in front of TF Serving's REST API."""

from __future__ import annotations

import argparse

from gated_inpaint.commands.flags import add_to_parser
from gated_inpaint.commands.options import INFERENCE_FLAGS, load_inpainter
from gated_inpaint.serving.options import DEFAULT_MAX_PIXELS

# Modules of gated_inpaint.web that need no web extra; the others are imported by `run`.
from gated_inpaint.web.limits import (
    DEFAULT_CONCURRENCY,
    DEFAULT_MAX_REQUEST_MB,
    DEFAULT_QUEUE_SIZE,
    ServerLimits,
)
from gated_inpaint.web.rest_api import DEFAULT_MODEL_NAME

NAME = "serve"
HELP = "the interactive editor: a web page to paint holes on a photo and fill them"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
WEB_EXTRA_HINT = 'gated-inpaint serve needs the web extra: pip install "gated_inpaint[web]"'
DESCRIPTION = f"""\
Serve the interactive editor and TF Serving's REST API for a model.

    gated-inpaint serve --model exports/gated_inpaint
    # then open http://{DEFAULT_HOST}:{DEFAULT_PORT}/ in a browser

On the page: open or drop a photo (any size: large ones are shown scaled, filled
and downloaded at full resolution); paint the hole with the brush ([ and ]
change its size), erase, undo and redo (Ctrl+Z, Ctrl+Shift+Z), clear; for a
guided model, draw the lines to follow with the sketch pen; Fill; hold Compare
to see the original; download the result as PNG. Keys: B brush, E eraser,
S sketch pen, F fill, hold C to compare. The page is part of the package and
loads nothing from elsewhere: it works offline.

The API is TF Serving's REST API, so a client written for TF Serving works
against this server and the reverse:
    POST /v1/models/NAME:predict   {{"instances": [{{"image_bytes": {{"b64": ...}},
                                   "mask_bytes": {{"b64": ...}}}}]}} (edge_bytes for
                                   guided models; mask white = hole)
                                   -> {{"predictions": [{{"b64": <PNG>}}]}}
    GET  /v1/models/NAME           status;  GET /v1/models/NAME/metadata
    GET  /healthz
Errors answer {{"error": message}}: 400 for a bad input (named), 413 for a
request above --max_request_mb, 503 when --queue_size requests already wait.

--model is recognised by what the path holds, as for `gated-inpaint inpaint`: an
exported SavedModel, a *.weights.h5 file or an official TF1 checkpoint.
--tf_serving URL instead makes this server a thin proxy to a model that TF
Serving serves over REST (the page then edits with it); the pixel limit is then
the export's --max_pixels.

The server binds {DEFAULT_HOST} by default, reachable from this machine only; use
--host 0.0.0.0 to serve the network (anyone who reaches it can use the model).
It never reads or writes a file that a request names. Ctrl-C stops it after
answering the requests in progress.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the arguments of `gated-inpaint serve`."""
    model = parser.add_mutually_exclusive_group(required=True)
    model.add_argument(
        "--model",
        metavar="PATH",
        help="exported SavedModel folder, *.weights.h5 file or official TF1 checkpoint folder",
    )
    model.add_argument(
        "--tf_serving",
        metavar="URL",
        help="proxy to TF Serving's model at URL, e.g. "
        "http://localhost:8501/v1/models/gated_inpaint",
    )
    parser.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"address to listen on (default {DEFAULT_HOST}: this machine only; 0.0.0.0: all)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port to listen on (default {DEFAULT_PORT}; 0: any free port, printed)",
    )
    parser.add_argument(
        "--model_name",
        metavar="NAME",
        help=f"the NAME of the API's URLs /v1/models/NAME (default {DEFAULT_MODEL_NAME}, or "
        f"TF Serving's name with --tf_serving)",
    )
    parser.add_argument(
        "--max_pixels",
        type=int,
        metavar="PIXELS",
        help=f"most pixels (width x height) of an image; larger ones get 400 (default "
        f"{DEFAULT_MAX_PIXELS}, the export's default; with --tf_serving, the export's own)",
    )
    parser.add_argument(
        "--max_request_mb",
        type=float,
        default=DEFAULT_MAX_REQUEST_MB,
        metavar="MB",
        help=f"largest request body in megabytes; larger ones get 413 (default "
        f"{DEFAULT_MAX_REQUEST_MB}; base64 makes a file 4/3 larger)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=DEFAULT_CONCURRENCY,
        metavar="N",
        help=f"model calls that run at the same time (default {DEFAULT_CONCURRENCY})",
    )
    parser.add_argument(
        "--queue_size",
        type=int,
        default=DEFAULT_QUEUE_SIZE,
        metavar="N",
        help=f"requests that may wait for a model call; more get 503 (default "
        f"{DEFAULT_QUEUE_SIZE})",
    )
    add_to_parser(parser, INFERENCE_FLAGS)


def run(args: argparse.Namespace) -> str:
    """Runs `gated-inpaint serve` until Ctrl-C; returns a summary, raises on errors (see
    `main`)."""
    try:
        from gated_inpaint.web.app import build_app
        from gated_inpaint.web.server import Server, bind_socket
    except ImportError as error:
        raise ValueError(f"{WEB_EXTRA_HINT} ({error})") from error
    for flag, least in [("max_pixels", 1), ("concurrency", 1), ("queue_size", 0)]:
        value = getattr(args, flag)
        if value is not None and value < least:
            raise ValueError(f"--{flag} must be at least {least}, got {value}.")
    if not args.max_request_mb > 0:
        raise ValueError(f"--max_request_mb must be positive, got {args.max_request_mb}.")
    limits = ServerLimits(
        max_request_bytes=round(args.max_request_mb * 1_000_000),
        concurrency=args.concurrency,
        queue_size=args.queue_size,
    )
    sock = bind_socket(args.host, args.port)  # before the model loads: a busy port fails now
    try:
        backend = _backend(args)
        server = Server(build_app(backend, limits), sock)
        print(
            f"Serving {backend.description}\n"
            f"Open {server.url} to edit; API: {server.url}v1/models/{backend.name}:predict\n"
            f"Ctrl-C stops the server.",
            flush=True,
        )
        server.run()
    finally:
        sock.close()
    return "Stopped the server."


def _backend(args: argparse.Namespace):
    """The `LocalModel` of --model (loaded and warmed up) or the `TFServingProxy` of
    --tf_serving (checked to answer)."""
    if args.tf_serving:
        changed = [
            f"--{flag.name}" for flag in INFERENCE_FLAGS if getattr(args, flag.name) != flag.default
        ]
        if args.max_pixels is not None:
            changed.append("--max_pixels")
        if changed:
            raise ValueError(
                f"{', '.join(changed)} cannot be used with --tf_serving: the export fixed them "
                f"(gated-inpaint export ...)."
            )
        from gated_inpaint.web.tf_serving_proxy import TFServingProxy

        proxy = TFServingProxy(args.tf_serving, args.model_name)
        proxy.check_reachable()
        return proxy
    from gated_inpaint.web.local_model import LocalModel

    model = LocalModel(
        load_inpainter(args),
        args.model_name or DEFAULT_MODEL_NAME,
        args.max_pixels or DEFAULT_MAX_PIXELS,
    )
    print(f"Loaded {args.model}; warming up...", flush=True)
    model.warm_up()
    return model
