"""`LocalModel`: the server's model running in this process, an `Inpainter`, answering TF
Serving's REST requests (`rest_api`)."""

from __future__ import annotations

import io
import json
import os

import numpy as np
from PIL import Image
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from gated_inpaint.inference.inpainter import Inpainter
from gated_inpaint.inference.saved_model import SavedModelRunner
from gated_inpaint.serving.options import DEFAULT_MAX_PIXELS
from gated_inpaint.web.decoding import decode_instance
from gated_inpaint.web.request_error import RequestError
from gated_inpaint.web.rest_api import (
    DEFAULT_MODEL_NAME,
    GUIDED_INPUTS,
    INPUTS,
    ModelUrl,
    model_metadata,
    model_status,
    parse_predict_request,
    predict_response,
)

PNG_COMPRESS_LEVEL = 1  # zlib level of the answers: about 3x faster than 6 on photos, 20 % larger


class LocalModel:
    """Serves `inpainter` under `name`, as TF Serving serves an export of it.

    `predict` parses the request, decodes every instance (`decoding.decode_instance`, at most
    `max_pixels` pixels an image), fills them with `Inpainter.inpaint_batch` and answers
    PNGs; it runs in a worker thread. Its version is the export's version number for a
    SavedModel in a numeric folder, else "1".

    Attributes:
        name, version: what `/v1/models/...` URLs must name.
        inputs: the request's inputs: image_bytes, mask_bytes (and edge_bytes if guided).
        max_pixels: most pixels (width x height) of one image; larger ones are refused with
            400 before they are decoded (default: the export's `--max_pixels`).
        description: what runs, for the command's and the page's messages.
    """

    def __init__(
        self,
        inpainter: Inpainter,
        name: str = DEFAULT_MODEL_NAME,
        max_pixels: int = DEFAULT_MAX_PIXELS,
    ):
        self.inpainter = inpainter
        self.name = name
        self.max_pixels = max_pixels
        self.inputs = GUIDED_INPUTS if inpainter.guided else INPUTS
        self.version = "1"
        if isinstance(inpainter.runner, SavedModelRunner):
            folder = os.path.basename(os.path.normpath(inpainter.runner.directory))
            self.version = folder if folder.isdigit() else "1"
        kind = "guided model" if inpainter.guided else "model"
        self.description = f"{kind}: {inpainter.runner.description}"

    def warm_up(self) -> None:
        """Fills a small image, so that the graph is traced for any size before the first
        request (see `runners.GeneratorRunner`)."""
        mask = np.zeros((64, 64), np.uint8)
        mask[16:32, 16:40] = 1
        edge = np.zeros_like(mask) if self.inpainter.guided else None
        self.inpainter.inpaint(np.zeros((64, 64, 3), np.uint8), mask, edge)

    def _check(self, url: ModelUrl) -> None:
        if url.label is not None or url.version not in (None, self.version):
            raise url.not_found()

    async def status(self, url: ModelUrl) -> Response:
        """`GET /v1/models/NAME[/versions/N]`."""
        self._check(url)
        return JSONResponse(model_status(self.version))

    async def metadata(self, url: ModelUrl) -> Response:
        """`GET /v1/models/NAME[/versions/N]/metadata`."""
        self._check(url)
        return JSONResponse(model_metadata(self.name, self.version, self.inputs))

    async def predict(self, url: ModelUrl, body: bytes) -> Response:
        """`POST /v1/models/NAME[/versions/N]:predict` with its JSON `body`."""
        self._check(url)
        answer = await run_in_threadpool(self.predict_json, body)
        return Response(answer, media_type="application/json")

    def predict_json(self, body: bytes) -> bytes:
        """The JSON answer to a predict request's `body` (RequestError for a bad one)."""
        request = parse_predict_request(body, self.inputs)
        decoded = [
            decode_instance(request, i, self.max_pixels) for i in range(len(request.instances))
        ]
        try:
            filled = self.inpainter.inpaint_batch(
                [images["image_bytes"] for images in decoded],
                [images["mask_bytes"] for images in decoded],
                [images["edge_bytes"] for images in decoded] if self.inpainter.guided else None,
            )
        except (TypeError, ValueError) as error:
            raise RequestError(400, str(error)) from error
        answer = predict_response([png_bytes(pixels) for pixels in filled], request.columnar)
        return json.dumps(answer).encode()

    async def aclose(self) -> None:
        """Nothing to release: the model lives as long as the process."""


def png_bytes(pixels: np.ndarray) -> bytes:
    """A PNG file of uint8 `[H, W, 3]` pixels."""
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "PNG", compress_level=PNG_COMPRESS_LEVEL)
    return out.getvalue()
