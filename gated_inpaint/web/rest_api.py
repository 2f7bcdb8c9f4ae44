"""TF Serving's REST API, as much of it as the editor's server speaks (TF Serving's
api_rest.md), so that a client written for one works against the other:

- URLs: `/v1/models/NAME[/versions/N | /labels/LABEL][:predict | /metadata]`
  (`parse_model_url`).
- predict requests: row format `{"instances": [{"image_bytes": {"b64": ...}, "mask_bytes":
  {"b64": ...}}, ...]}` or columnar format `{"inputs": {"image_bytes": [{"b64": ...}, ...],
  ...}}`, with `edge_bytes` for guided models and an optional `"signature_name":
  "serving_default"` (`parse_predict_request`);
- predict answers: `{"predictions": [{"b64": ...}, ...]}` (row) or `{"outputs": [...]}`
  (columnar): the signature's one output, `output_bytes`, is listed without its name
  (`predict_response`); a failure is `{"error": message}`;
- the model's status (`GET /v1/models/NAME`) and metadata (`GET /v1/models/NAME/metadata`).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import re
from collections.abc import Sequence

from gated_inpaint.inference.options import SERVING_SIGNATURE
from gated_inpaint.web.request_error import RequestError

DEFAULT_MODEL_NAME = "gated_inpaint"  # the MODEL_NAME of the README's TF Serving command
INPUTS = ("image_bytes", "mask_bytes")
GUIDED_INPUTS = (*INPUTS, "edge_bytes")
OUTPUT = "output_bytes"
MODEL_URL = re.compile(
    r"(?P<name>[^/:]+)(?:/versions/(?P<version>\d+)|/labels/(?P<label>[^/:]+))?"
    r"(?P<verb>:predict|/metadata)?"
)


@dataclasses.dataclass(frozen=True)
class ModelUrl:
    """What a `/v1/models/...` URL asks for.

    Attributes:
        name: the model's name.
        version, label: the version or label asked for, or None for the latest.
        verb: `"status"`, `"metadata"` or `"predict"`.
    """

    name: str
    version: str | None
    label: str | None
    verb: str

    @property
    def selector(self) -> str:
        """The URL part after the name that picks a version: "", "/versions/N" or
        "/labels/LABEL"."""
        if self.version is not None:
            return f"/versions/{self.version}"
        return "" if self.label is None else f"/labels/{self.label}"

    def not_found(self) -> RequestError:
        """The 404 that TF Serving answers for a model or version it does not serve."""
        if self.version is not None:
            servable = f"Specific({self.name}, {self.version})"
        elif self.label is not None:
            servable = f"Specific({self.name}, label {self.label})"
        else:
            servable = f"Latest({self.name})"
        return RequestError(404, f"Servable not found for request: {servable}")


def parse_model_url(path: str) -> ModelUrl:
    """The `ModelUrl` of `path`, the part of the URL after `/v1/models/`; RequestError 404
    if it is not one of TF Serving's model URLs."""
    match = MODEL_URL.fullmatch(path)
    if match is None:
        raise RequestError(
            404,
            f"No such URL: /v1/models/{path}. Model URLs are /v1/models/NAME (status), "
            f"/v1/models/NAME/metadata and /v1/models/NAME:predict (POST).",
        )
    verb = (match["verb"] or ":status").lstrip(":/")
    return ModelUrl(match["name"], match["version"], match["label"], verb)


@dataclasses.dataclass(frozen=True)
class PredictRequest:
    """A parsed predict request: `instances[i][input name]` holds the decoded bytes;
    `columnar` says which format it came in (the answer uses the same)."""

    instances: list[dict[str, bytes]]
    columnar: bool

    def label(self, index: int, name: str) -> str:
        """How the request names one input, for error messages: `instances[0].mask_bytes`
        or `inputs.mask_bytes[0]`."""
        return f"inputs.{name}[{index}]" if self.columnar else f"instances[{index}].{name}"


def parse_predict_request(body: bytes, inputs: Sequence[str]) -> PredictRequest:
    """The instances of a predict request's JSON `body`, for a model taking `inputs` (every
    one required, each a `{"b64": ...}` object). RequestError 400, naming the input, if the
    body is not such a request."""
    try:
        request = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise RequestError(400, f"The request body is not JSON: {error}.") from error
    if not isinstance(request, dict):
        raise RequestError(400, 'The request must be a JSON object: {"instances": [...]}.')
    signature = request.get("signature_name", SERVING_SIGNATURE)
    if signature != SERVING_SIGNATURE:
        raise RequestError(
            400,
            f"This server answers the signature {SERVING_SIGNATURE!r} (encoded images in, PNG "
            f"out), not {signature!r}.",
        )
    unknown = sorted(set(request) - {"signature_name", "instances", "inputs"})
    if unknown or ("instances" in request) == ("inputs" in request):
        raise RequestError(
            400,
            'The request must hold either "instances" (row format) or "inputs" (columnar '
            f'format), and only "signature_name" beside it; it holds {sorted(request)}.',
        )
    columnar = "inputs" in request
    rows = _columns_to_rows(request["inputs"], inputs) if columnar else request["instances"]
    if not isinstance(rows, list) or not rows:
        raise RequestError(400, '"instances" must be a non-empty list of objects.')
    parsed = PredictRequest([], columnar)
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            raise RequestError(
                400, f"instances[{index}] must be an object with {', '.join(inputs)}."
            )
        _check_names(sorted(row), inputs, f"instances[{index}]")
        parsed.instances.append(
            {name: _b64_value(row[name], parsed.label(index, name)) for name in inputs}
        )
    return parsed


def _columns_to_rows(columns, inputs: Sequence[str]) -> list:
    """Columnar `{"name": [value, ...], ...}` as a list of `{"name": value, ...}` rows."""
    if not isinstance(columns, dict):
        raise RequestError(400, f'"inputs" must be an object with {", ".join(inputs)}.')
    _check_names(sorted(columns), inputs, '"inputs"')
    lengths = {name: len(v) if isinstance(v, list) else None for name, v in columns.items()}
    if None in lengths.values() or len(set(lengths.values())) != 1 or 0 in lengths.values():
        raise RequestError(
            400,
            f'Each input of "inputs" must be a non-empty list, all of the same length (one '
            f"item per image); got lengths {lengths}.",
        )
    count = next(iter(lengths.values()))
    return [{name: columns[name][i] for name in columns} for i in range(count)]


def _check_names(names: list[str], inputs: Sequence[str], where: str) -> None:
    missing = [name for name in inputs if name not in names]
    extra = [name for name in names if name not in inputs]
    if missing or extra:
        problems = []
        if missing:
            problems.append(f"has no {', '.join(missing)}")
        if extra:
            problems.append(f"has {', '.join(extra)}, which this model does not take")
        hint = " (a guided model: send an all-black edge_bytes image for no sketch lines)"
        raise RequestError(
            400,
            f"{where} {' and '.join(problems)}: this model takes {', '.join(inputs)}"
            f"{hint if 'edge_bytes' in missing else ''}.",
        )


def _b64_value(value, label: str) -> bytes:
    """The bytes of a `{"b64": "..."}` object (whitespace in the base64 text is ignored)."""
    if not (isinstance(value, dict) and set(value) == {"b64"} and isinstance(value["b64"], str)):
        raise RequestError(
            400,
            f'{label} must be an object {{"b64": "<base64 of an image file>"}}, got '
            f"{type(value).__name__} {_preview(value)}.",
        )
    try:
        return base64.b64decode("".join(value["b64"].split()), validate=True)
    except (binascii.Error, ValueError) as error:
        raise RequestError(400, f"{label} is not valid base64: {error}.") from error


def _preview(value, length: int = 40) -> str:
    text = json.dumps(value)
    return text if len(text) <= length else text[:length] + "..."


def predict_response(outputs: Sequence[bytes], columnar: bool) -> dict:
    """The JSON answer to a predict request: one `{"b64": ...}` per output image."""
    items = [{"b64": base64.b64encode(data).decode("ascii")} for data in outputs]
    return {"outputs": items} if columnar else {"predictions": items}


def model_status(version: str) -> dict:
    """TF Serving's answer to `GET /v1/models/NAME`: one version, available."""
    return {
        "model_version_status": [
            {
                "version": version,
                "state": "AVAILABLE",
                "status": {"error_code": "OK", "error_message": ""},
            }
        ]
    }


def model_metadata(name: str, version: str, inputs: Sequence[str]) -> dict:
    """TF Serving's answer to `GET /v1/models/NAME/metadata`: the `serving_default` signature
    of an export (`gated_inpaint.serving.module`), with `inputs` as its inputs."""
    unknown_rank = {"dim": [], "unknown_rank": True}
    signature = {
        "inputs": {
            key: {"dtype": "DT_STRING", "tensor_shape": unknown_rank, "name": f"{key}:0"}
            for key in inputs
        },
        "outputs": {
            OUTPUT: {
                "dtype": "DT_STRING",
                "tensor_shape": {"dim": [{"size": "-1", "name": ""}], "unknown_rank": False},
                "name": f"{OUTPUT}:0",
            }
        },
        "method_name": "tensorflow/serving/predict",
    }
    return {
        "model_spec": {"name": name, "signature_name": "", "version": version},
        "metadata": {
            "signature_def": {
                "signature_def": {SERVING_SIGNATURE: signature},
                "@type": "type.googleapis.com/tensorflow.serving.SignatureDefMap",
            }
        },
    }
