"""The server and TF Serving are interchangeable: one client, written to TF Serving's REST API,
gets the same fill from both; the server's metadata is the export's signature; and
`--tf_serving` proxies to TF Serving, its answers and errors included.

TF Serving's binary is not installable here, so `tf_serving_app` stands in for it: the export's
`serving_default` signature behind TF Serving's documented REST rules (api_rest.md), as the
serving tests run it."""

import base64

import httpx
import numpy as np
import pytest
import tensorflow as tf
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gated_inpaint.testing import (
    assert_uint8_equal_up_to_rounding,
    decode_image,
    encode_image,
    mask_png,
    smooth_photo,
)
from gated_inpaint.web.app import build_app
from gated_inpaint.web.local_model import LocalModel
from gated_inpaint.web.tf_serving_proxy import TFServingProxy

NAME = "gated_inpaint"


def tf_serving_app(signature) -> Starlette:
    """TF Serving's REST API for an export's `serving_default` `signature`, named NAME,
    version 1."""

    async def models(request: Request):
        path = request.path_params["path"]
        if path == NAME:
            state = {"version": "1", "state": "AVAILABLE", "status": {"error_code": "OK"}}
            return JSONResponse({"model_version_status": [state]})
        if path == f"{NAME}/metadata":
            inputs = {
                key: {"dtype": "DT_STRING"} for key in signature.structured_input_signature[1]
            }
            signature_def = {"serving_default": {"inputs": inputs}}
            return JSONResponse({"metadata": {"signature_def": {"signature_def": signature_def}}})
        if path != f"{NAME}:predict":
            return JSONResponse({"error": f"Servable not found for request: Latest({path})"}, 404)
        rows = (await request.json())["instances"]
        inputs = {key: [base64.b64decode(row[key]["b64"]) for row in rows] for key in rows[0]}
        try:
            outputs = signature(**{k: tf.constant(v) for k, v in inputs.items()})
        except tf.errors.InvalidArgumentError as error:
            return JSONResponse({"error": error.message}, 400)
        encoded = [{"b64": base64.b64encode(o).decode()} for o in outputs["output_bytes"].numpy()]
        return JSONResponse({"predictions": encoded})

    return Starlette(routes=[Route("/v1/models/{path:path}", models, methods=["GET", "POST"])])


def tf_serving_client_fill(client: httpx.Client, photo: np.ndarray, mask: np.ndarray):
    """A client written to TF Serving's REST API: the README's request and answer."""
    request = {
        "instances": [
            {
                "image_bytes": {"b64": base64.b64encode(encode_image(photo)).decode()},
                "mask_bytes": {"b64": base64.b64encode(mask_png(mask)).decode()},
            }
        ]
    }
    answer = client.post(f"/v1/models/{NAME}:predict", json=request)
    assert answer.status_code == 200, answer.text[:500]
    return decode_image(base64.b64decode(answer.json()["predictions"][0]["b64"]))


@pytest.fixture(scope="module")
def serving_default(export_path):
    """The export's `serving_default` signature, loaded as TF Serving loads it."""
    return tf.saved_model.load(export_path).signatures["serving_default"]


@pytest.fixture(scope="module")
def tf_serving(serving_default, serving):
    with serving(tf_serving_app(serving_default)) as client:
        yield client


@pytest.fixture(scope="module")
def proxy(tf_serving, serving):
    with serving(build_app(TFServingProxy(f"{tf_serving.base_url}v1/models/{NAME}"))) as client:
        yield client


def test_one_client_gets_the_same_fill_from_tf_serving_this_server_and_the_proxy(
    tf_serving, proxy, inpainter, serving, serving_default
):
    photo = smooth_photo(40, 56, seed=5)
    mask = np.zeros((40, 56), np.uint8)
    mask[8:30, 12:40] = 1
    from_tf_serving = tf_serving_client_fill(tf_serving, photo, mask)
    assert not np.array_equal(from_tf_serving[mask > 0], photo[mask > 0])
    np.testing.assert_array_equal(tf_serving_client_fill(proxy, photo, mask), from_tf_serving)
    with serving(build_app(LocalModel(inpainter))) as server:
        assert_uint8_equal_up_to_rounding(
            tf_serving_client_fill(server, photo, mask), from_tf_serving
        )

        # The server describes the export as TF Serving would: its version and its inputs.
        status = server.get(f"/v1/models/{NAME}").json()
        assert status["model_version_status"][0]["version"] == "1"
        metadata = server.get(f"/v1/models/{NAME}/metadata").json()
        served = metadata["metadata"]["signature_def"]["signature_def"]["serving_default"]
        exported_inputs = serving_default.structured_input_signature[1]
        assert sorted(served["inputs"]) == sorted(exported_inputs)
        assert sorted(served["outputs"]) == sorted(serving_default.structured_outputs)


def test_the_proxy_passes_on_tf_serving_answers_and_errors(proxy):
    status = proxy.get(f"/v1/models/{NAME}").json()
    assert status["model_version_status"][0]["state"] == "AVAILABLE"
    signatures = proxy.get(f"/v1/models/{NAME}/metadata").json()["metadata"]["signature_def"]
    assert "mask_bytes" in signatures["signature_def"]["serving_default"]["inputs"]
    assert proxy.get("/editor/config").json()["model_name"] == NAME
    assert proxy.get("/v1/models/other").status_code == 404  # the proxy's own name check

    photo = smooth_photo(40, 56)
    bad = {
        "instances": [
            {
                "image_bytes": {"b64": base64.b64encode(encode_image(photo)).decode()},
                "mask_bytes": {"b64": base64.b64encode(mask_png(np.ones((30, 56)))).decode()},
            }
        ]
    }
    refused = proxy.post(f"/v1/models/{NAME}:predict", json=bad)
    assert refused.status_code == 400
    assert "mask_bytes[0] is 30x56 pixels but its image is 40x56" in refused.json()["error"]


def test_an_unreachable_tf_serving_is_a_502_and_a_clear_startup_error(serving):
    proxy = TFServingProxy(f"http://127.0.0.1:9/v1/models/{NAME}")  # the discard port: closed
    with pytest.raises(ValueError, match="Cannot reach TF Serving at http://127.0.0.1:9"):
        proxy.check_reachable()
    with serving(build_app(proxy)) as client:
        answer = client.get(f"/v1/models/{NAME}")
        assert answer.status_code == 502
        assert "Cannot reach TF Serving" in answer.json()["error"]
    with pytest.raises(ValueError, match="expected http://HOST:PORT/v1/models/NAME"):
        TFServingProxy("localhost:8501")
