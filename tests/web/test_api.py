"""The editor's API over real HTTP: TF Serving's predict JSON gives `Inpainter.inpaint`'s pixels,
bad requests get their status and a message naming the input, the queue is bounded, and the
server keeps serving after every failure."""

import base64
import concurrent.futures
import io
import re
import threading
import time

import numpy as np
import pytest
from PIL import Image

from gated_inpaint import Inpainter
from gated_inpaint.inference.input_rules import read_image
from gated_inpaint.testing import decode_image, encode_image, mask_png, smooth_photo, tiny_generator
from gated_inpaint.web.app import build_app
from gated_inpaint.web.limits import ServerLimits
from gated_inpaint.web.local_model import LocalModel

PREDICT = "/v1/models/gated_inpaint:predict"
MAX_PIXELS = 100 * 100
MAX_REQUEST_BYTES = 200_000


def b64(data: bytes) -> dict:
    return {"b64": base64.b64encode(data).decode()}


def hole(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A 0/1 rectangle hole somewhere inside the image, placed by `seed`."""
    rng = np.random.default_rng(seed)
    top, left = rng.integers(2, height // 2), rng.integers(2, width // 2)
    mask = np.zeros((height, width), np.uint8)
    mask[top : top + height // 3, left : left + width // 3] = 1
    return mask


def instance(image: np.ndarray, mask: np.ndarray) -> dict:
    return {"image_bytes": b64(encode_image(image)), "mask_bytes": b64(mask_png(mask))}


def filled(answer, key: str = "predictions") -> list[np.ndarray]:
    assert answer.status_code == 200, answer.text[:500]
    return [decode_image(base64.b64decode(item["b64"])) for item in answer.json()[key]]


@pytest.fixture(scope="module")
def client(inpainter, serving):
    model = LocalModel(inpainter, max_pixels=MAX_PIXELS)
    with serving(build_app(model, ServerLimits(max_request_bytes=MAX_REQUEST_BYTES))) as client:
        yield client


def test_predict_gives_the_pixels_of_inpainter_from_the_same_files(client, inpainter, tmp_path):
    photo = smooth_photo(48, 64, seed=1)
    # A JPEG turned on its side by its EXIF orientation: both must read it upright.
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90 degrees clockwise
    jpeg = io.BytesIO()
    Image.fromarray(photo).save(jpeg, "JPEG", quality=90, exif=exif.tobytes())
    (tmp_path / "photo.jpg").write_bytes(jpeg.getvalue())
    (tmp_path / "mask.png").write_bytes(mask_png(hole(64, 48)))
    other = smooth_photo(40, 56, seed=2)
    request = {
        "instances": [
            {
                "image_bytes": b64(jpeg.getvalue()),
                "mask_bytes": b64((tmp_path / "mask.png").read_bytes()),
            },
            instance(other, hole(40, 56, seed=3)),
        ]
    }
    results = filled(client.post(PREDICT, json=request))
    from_files = inpainter.inpaint(
        read_image(str(tmp_path / "photo.jpg"), "image"),
        read_image(str(tmp_path / "mask.png"), "mask"),
    )
    assert results[0].shape == (64, 48, 3)
    np.testing.assert_array_equal(results[0], from_files)
    np.testing.assert_array_equal(results[1], inpainter.inpaint(other, hole(40, 56, seed=3)))
    assert not np.array_equal(results[1], other)  # the hole was filled with something else

    columnar = {
        "signature_name": "serving_default",
        "inputs": {
            "image_bytes": [b64(encode_image(other))],
            "mask_bytes": [b64(mask_png(hole(40, 56, seed=3)))],
        },
    }
    np.testing.assert_array_equal(
        filled(client.post(PREDICT, json=columnar), key="outputs")[0], results[1]
    )


PHOTO = smooth_photo(40, 56)
BIG = smooth_photo(101, 100)


def _request(**changes) -> dict:
    """A valid request for PHOTO, with `changes` to its instance."""
    return {"instances": [{**instance(PHOTO, hole(40, 56)), **changes}]}


BAD_REQUESTS = {  # name: (body, the error message it gets)
    "not JSON": (b"image=photo.png", r"The request body is not JSON"),
    "bad base64": (
        _request(image_bytes={"b64": "iVBORw0K!!"}),
        r"instances\[0\].image_bytes is not valid base64",
    ),
    "not an image": (
        _request(mask_bytes=b64(b"hello, world")),
        r"instances\[0\].mask_bytes cannot be decoded",
    ),
    "truncated PNG": (
        _request(image_bytes=b64(encode_image(PHOTO)[:80])),
        r"instances\[0\].image_bytes cannot be decoded",
    ),
    "mask size": (
        _request(mask_bytes=b64(mask_png(hole(30, 56)))),
        r"instances\[0\].mask_bytes is 56x30 pixels but its image instances\[0\].image_bytes "
        r"is 56x40",
    ),
    "no mask": (
        {"instances": [{"image_bytes": b64(encode_image(PHOTO))}]},
        r"instances\[0\] has no mask_bytes",
    ),
    "edge for an unguided model": (
        _request(edge_bytes=b64(mask_png(hole(40, 56)))),
        r"instances\[0\] has edge_bytes, which this model does not take",
    ),
    "a file path": (
        _request(image_bytes="/etc/passwd"),
        r'instances\[0\].image_bytes must be an object \{"b64"',
    ),
    "too many pixels": (
        _request(image_bytes=b64(encode_image(BIG)), mask_bytes=b64(mask_png(hole(101, 100)))),
        r"instances\[0\].image_bytes is 100x101 = 10100 pixels, above this server's limit of "
        r"10000",
    ),
    "other signature": (
        {"signature_name": "inpaint_tensors", "instances": []},
        r"not 'inpaint_tensors'",
    ),
    "columns of two lengths": (
        {"inputs": {"image_bytes": [{"b64": ""}] * 2, "mask_bytes": [{"b64": ""}]}},
        r"all of the same length",
    ),
}


@pytest.mark.parametrize("body, message", BAD_REQUESTS.values(), ids=BAD_REQUESTS.keys())
def test_a_bad_request_gets_400_naming_the_input_and_the_server_goes_on(client, body, message):
    kwargs = {"content": body} if isinstance(body, bytes) else {"json": body}
    answer = client.post(PREDICT, **kwargs)
    assert answer.status_code == 400, answer.text[:500]
    assert answer.headers["content-type"] == "application/json"
    assert re.search(message, answer.json()["error"]), answer.json()["error"]
    assert "root:" not in answer.text  # nothing of /etc/passwd
    assert len(filled(client.post(PREDICT, json=_request()))) == 1  # and the next one works


def test_an_oversized_request_gets_413_with_or_without_its_length(client):
    photo = np.random.default_rng(0).integers(0, 256, (99, 99, 3), np.uint8)  # 29 kB as PNG
    body = {"instances": [instance(photo, hole(99, 99))] * 6}  # 6 x 40 kB of base64
    answer = client.post(PREDICT, json=body)
    assert answer.status_code == 413
    assert "this server takes at most 200000" in answer.json()["error"]

    def chunks():  # no Content-Length: the limit is found while the body arrives
        for _ in range(30):
            yield b" " * 10_000

    answer = client.post(PREDICT, content=chunks())
    assert answer.status_code == 413
    assert "more than 200000 bytes" in answer.json()["error"]
    assert len(filled(client.post(PREDICT, json=_request()))) == 1


def test_sixteen_concurrent_requests_all_get_their_own_result(client, inpainter):
    photos = [smooth_photo(32 + 8 * (i % 3), 48, seed=i) for i in range(16)]
    masks = [hole(*photo.shape[:2], seed=i) for i, photo in enumerate(photos)]

    def send(i):
        return filled(client.post(PREDICT, json={"instances": [instance(photos[i], masks[i])]}))

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        results = list(pool.map(send, range(16)))
    for (result,), photo, mask in zip(results, photos, masks, strict=True):
        np.testing.assert_array_equal(result, inpainter.inpaint(photo, mask))


class GatedRunner:
    """A runner that waits for `release` before filling (so the test decides when a model
    call ends), and raises `failure` instead while it is set."""

    def __init__(self, runner):
        self.runner, self.guided, self.description = runner, runner.guided, "gated"
        self.entered, self.release = threading.Event(), threading.Event()
        self.failure = None

    def __call__(self, images, masks, edges):
        self.entered.set()
        assert self.release.wait(timeout=60)
        if self.failure:
            raise self.failure
        return self.runner(images, masks, edges)


def test_a_full_queue_gets_503_and_the_server_recovers(inpainter, serving):
    runner = GatedRunner(inpainter.runner)
    app = build_app(
        LocalModel(Inpainter.from_runner(runner)), ServerLimits(concurrency=1, queue_size=1)
    )
    body = _request()
    with serving(app) as client, concurrent.futures.ThreadPoolExecutor(2) as pool:
        running = pool.submit(client.post, PREDICT, json=body)
        assert runner.entered.wait(timeout=60)
        waiting = pool.submit(client.post, PREDICT, json=body)
        deadline = time.monotonic() + 60
        while app.state.admission.in_server < 2 and time.monotonic() < deadline:
            time.sleep(0.01)  # until the second one waits in the queue
        assert app.state.admission.in_server == 2
        refused = client.post(PREDICT, json=body)
        assert refused.status_code == 503
        assert "The server is busy" in refused.json()["error"]
        assert client.get("/healthz").json() == {"status": "ok"}  # not queued
        runner.release.set()
        assert running.result().status_code == 200
        assert waiting.result().status_code == 200

        runner.failure = RuntimeError("out of memory")  # a failure that is not the request's
        failed = client.post(PREDICT, json=body)
        assert failed.status_code == 500
        assert "out of memory" in failed.json()["error"]
        runner.failure = None
        assert len(filled(client.post(PREDICT, json=body))) == 1


def test_status_metadata_health_and_unknown_urls(client):
    status = client.get("/v1/models/gated_inpaint").json()
    assert status["model_version_status"][0]["state"] == "AVAILABLE"
    assert client.get("/v1/models/gated_inpaint/versions/1").status_code == 200
    metadata = client.get("/v1/models/gated_inpaint/metadata").json()
    signature = metadata["metadata"]["signature_def"]["signature_def"]["serving_default"]
    assert sorted(signature["inputs"]) == ["image_bytes", "mask_bytes"]
    assert list(signature["outputs"]) == ["output_bytes"]
    assert client.get("/healthz").json() == {"status": "ok"}
    config = client.get("/editor/config").json()
    assert config["max_pixels"] == MAX_PIXELS and config["model_name"] == "gated_inpaint"

    unknown = client.post("/v1/models/other:predict", json=_request())
    assert unknown.status_code == 404
    assert unknown.json()["error"] == "Servable not found for request: Latest(other)"
    assert client.get("/v1/models/gated_inpaint/versions/7").status_code == 404
    assert client.get(PREDICT).status_code == 405
    assert client.post("/v1/models/gated_inpaint", json=_request()).status_code == 405


def test_the_page_is_served_and_no_url_reaches_another_file(client):
    page = client.get("/")
    assert page.status_code == 200 and 'src="editor.js"' in page.text
    for name in ["editor.js", "api.js", "history.js", "strokes.js", "editor.css"]:
        assert client.get(f"/{name}").status_code == 200, name
    for path in ["/../setup.cfg", "/%2e%2e/%2e%2e/setup.cfg", "/..%2f..%2fapp.py", "/app.py"]:
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert "import" not in answer.text


def test_a_guided_model_takes_the_sketch_as_edge_bytes(serving):
    inpainter = Inpainter(tiny_generator(cnum=4, guided=True))
    photo, mask = smooth_photo(40, 56, seed=7), hole(40, 56, seed=7)
    sketch = np.zeros((40, 56), np.uint8)
    sketch[:, 20:22] = 255  # a vertical line through the hole
    with serving(build_app(LocalModel(inpainter))) as client:
        metadata = client.get("/v1/models/gated_inpaint/metadata").json()
        signature = metadata["metadata"]["signature_def"]["signature_def"]["serving_default"]
        assert sorted(signature["inputs"]) == ["edge_bytes", "image_bytes", "mask_bytes"]
        body = {"instances": [{**instance(photo, mask), "edge_bytes": b64(mask_png(sketch))}]}
        (result,) = filled(client.post(PREDICT, json=body))
        np.testing.assert_array_equal(result, inpainter.inpaint(photo, mask, sketch))
        assert not np.array_equal(result, inpainter.inpaint(photo, mask, np.zeros_like(sketch)))

        no_sketch = client.post(PREDICT, json={"instances": [instance(photo, mask)]})
        assert no_sketch.status_code == 400
        assert "has no edge_bytes" in no_sketch.json()["error"]
        assert "send an all-black edge_bytes image" in no_sketch.json()["error"]
