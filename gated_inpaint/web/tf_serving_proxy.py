"""`TFServingProxy`: the server as a thin proxy to a model that TF Serving serves over REST, so
the editor page works with it too."""

from __future__ import annotations

import re

import httpx
from starlette.responses import JSONResponse, Response

from gated_inpaint.web.request_error import RequestError
from gated_inpaint.web.rest_api import ModelUrl

TF_SERVING_URL = re.compile(r"(?P<base>https?://[^/]+/v1/models/(?P<name>[^/:]+))/?")
TIMEOUT_S = 600.0  # a large photo takes tens of seconds on a CPU
CONNECT_TIMEOUT_S = 10.0


class TFServingProxy:
    """Forwards `/v1/models/...` requests to TF Serving's model at `url`
    (`http://HOST:8501/v1/models/NAME`) and answers with TF Serving's status and body.

    The request is passed on as it is (TF Serving checks the images, with the export's
    `--max_pixels`); an unreachable TF Serving is a 502.

    Args:
        url: TF Serving's URL of the model.
        name: the name this server serves it under (default: TF Serving's name).
        transport: an `httpx` transport (tests); default: the network.

    Attributes:
        name: what `/v1/models/...` URLs must name.
        max_pixels: None (the limit is the export's, unknown here).
        description: what runs, for the command's and the page's messages.
    """

    def __init__(self, url: str, name: str | None = None, transport=None):
        match = TF_SERVING_URL.fullmatch(url)
        if match is None:
            raise ValueError(
                f"--tf_serving {url} is not a TF Serving model URL: expected "
                f"http://HOST:PORT/v1/models/NAME, e.g. http://localhost:8501/v1/models/"
                f"gated_inpaint."
            )
        self.model_url = match["base"]
        self.name = name or match["name"]
        self.max_pixels = None
        self.description = f"TF Serving's model at {self.model_url}"
        self.client = httpx.AsyncClient(
            transport=transport, timeout=httpx.Timeout(TIMEOUT_S, connect=CONNECT_TIMEOUT_S)
        )

    def check_reachable(self) -> None:
        """Asks TF Serving for the model's status; ValueError saying what failed if it cannot
        be reached or does not serve the model."""
        try:
            answer = httpx.get(self.model_url, timeout=CONNECT_TIMEOUT_S)
        except httpx.HTTPError as error:
            raise ValueError(
                f"Cannot reach TF Serving at {self.model_url}: {error!r}. Start it first (see "
                f"the README, Exporting and serving) or correct --tf_serving."
            ) from error
        if answer.status_code != 200:
            raise ValueError(
                f"TF Serving at {self.model_url} answered {answer.status_code}: {answer.text}"
            )

    async def status(self, url: ModelUrl) -> Response:
        """`GET /v1/models/NAME[/versions/N]`, forwarded."""
        return await self._forward("GET", self.model_url + url.selector)

    async def metadata(self, url: ModelUrl) -> Response:
        """`GET /v1/models/NAME[/versions/N]/metadata`, forwarded."""
        return await self._forward("GET", f"{self.model_url}{url.selector}/metadata")

    async def predict(self, url: ModelUrl, body: bytes) -> Response:
        """`POST /v1/models/NAME[/versions/N]:predict`, forwarded with its `body`."""
        return await self._forward("POST", f"{self.model_url}{url.selector}:predict", body)

    async def _forward(self, method: str, target: str, body: bytes | None = None) -> Response:
        try:
            answer = await self.client.request(
                method, target, content=body, headers={"Content-Type": "application/json"}
            )
        except httpx.HTTPError as error:
            raise RequestError(
                502, f"Cannot reach TF Serving at {target}: {error!r}. Is it running?"
            ) from error
        if answer.headers.get("content-type", "").startswith("application/json"):
            return Response(answer.content, answer.status_code, media_type="application/json")
        return JSONResponse({"error": answer.text}, answer.status_code)

    async def aclose(self) -> None:
        """Closes the connections to TF Serving."""
        await self.client.aclose()
