"""The editor in a real browser: Debian's Chromium (`.ci/run` installs it) driven by Playwright,
against `gated-inpaint serve` started as a user starts it. A photo is opened, a stroke drawn
with the mouse, filled, compared, undone and redone, and the downloaded PNG checked; errors
show on the page in words; Ctrl-C stops the server cleanly.

The screenshot of the painted photo is saved in the test's folder, and also to the path in
$GATED_INPAINT_EDITOR_SCREENSHOT when set (the README's docs/editor.png is made so)."""

import base64
import io
import os
import pathlib
import queue
import signal
import subprocess
import sys
import threading

import numpy as np
import pytest
from PIL import Image

ROOT = pathlib.Path(__file__).resolve().parents[2]
PHOTO = ROOT / "data" / "demo" / "sunset_by_aitzol_berasategi.jpg"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SCREENSHOT_ENV = "GATED_INPAINT_EDITOR_SCREENSHOT"
BRUSH = 40  # the page's default brush size, in screen pixels
# The stroke, in fractions of the photo's width and height: over the stone table on the right.
STROKE = [(0.64, 0.68), (0.91, 0.68), (0.64, 0.78), (0.91, 0.78), (0.70, 0.87), (0.74, 0.99)]


@pytest.fixture(scope="module")
def server(export_path, tmp_path_factory):
    """`gated-inpaint serve --model EXPORT --port 0`; yields its URL. Stopped with Ctrl-C
    (SIGINT) afterwards, which must end it with status 0."""
    log = tmp_path_factory.mktemp("server") / "stderr.txt"
    with open(log, "w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "gated_inpaint", "serve", "--model", export_path, "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"),
        )
    lines = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in process.stdout])
    reader.start()
    url = None
    while url is None:
        try:
            line = lines.get(timeout=180)
        except queue.Empty:
            process.kill()
            pytest.fail(f"the server printed no URL; its stderr:\n{log.read_text()[-3000:]}")
        if line.startswith("Open http://"):
            url = line.split()[1]
    yield url
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=120) == 0, log.read_text()[-3000:]
    reader.join()
    assert "Stopped the server.\n" in list(lines.queue)


@pytest.fixture(scope="module")
def browser():
    assert os.path.exists(CHROMIUM), f"{CHROMIUM} is missing: apt-get install chromium"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1040, "height": 660}, accept_downloads=True)
    page = context.new_page()
    page.goto(server)
    page.wait_for_selector("body[data-ready=true]", timeout=30_000)
    yield page
    context.close()


def open_photo(page, path) -> dict:
    """Opens the photo at `path`; returns the stage's box on the page."""
    page.set_input_files("#file", str(path))
    page.wait_for_selector("#stage:not([hidden])")
    return page.locator("#stage").bounding_box()


def draw(page, box, points):
    """A mouse stroke through `points` (fractions of the photo), in small steps."""
    page.mouse.move(box["x"] + points[0][0] * box["width"], box["y"] + points[0][1] * box["height"])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"], steps=8)
    page.mouse.up()


def canvas_pixel(page, x: int, y: int) -> list[int]:
    """The RGB shown by the photo canvas at photo pixel (x, y)."""
    script = "([x, y]) => Array.from(document.getElementById('photo').getContext('2d')"
    return page.evaluate(script + ".getImageData(x, y, 1, 1).data.slice(0, 3))", [x, y])


def distance_to_stroke(height: int, width: int) -> np.ndarray:
    """Each photo pixel's centre's distance, in photo pixels, to the polyline STROKE."""
    pixels = np.stack(np.mgrid[0:height, 0:width][::-1], axis=-1) + 0.5  # [H, W, (x, y)]
    corners = [np.array([x * width, y * height]) for x, y in STROKE]
    distance = np.full((height, width), np.inf)
    for start, end in zip(corners, corners[1:], strict=False):
        along = np.clip((pixels - start) @ (end - start) / np.sum((end - start) ** 2), 0, 1)
        nearest = start + along[..., None] * (end - start)
        distance = np.minimum(distance, np.linalg.norm(pixels - nearest, axis=-1))
    return distance


def test_paint_fill_compare_undo_redo_and_download(page, tmp_path):
    photo = np.asarray(Image.open(PHOTO).convert("RGB"))
    height, width = photo.shape[:2]
    Image.fromarray(photo).save(tmp_path / "sunset.png")
    box = open_photo(page, tmp_path / "sunset.png")
    draw(page, box, STROKE)
    page.screenshot(path=tmp_path / "editor.png")
    if os.environ.get(SCREENSHOT_ENV):
        page.screenshot(path=os.environ[SCREENSHOT_ENV])

    page.click("#fill")
    page.wait_for_selector("#download:not([disabled])", timeout=120_000)
    assert page.is_hidden("#error")
    assert page.inner_text("#status").startswith("Filled in")
    with page.expect_download() as download:
        page.click("#download")
    assert download.value.suggested_filename == "sunset_filled.png"
    download.value.save_as(tmp_path / "filled.png")
    filled = np.asarray(Image.open(tmp_path / "filled.png"))
    assert filled.shape == photo.shape

    radius = BRUSH / 2 * width / box["width"]  # in photo pixels
    distance = distance_to_stroke(height, width)
    outside, inside = distance > radius + 2, distance < radius - 2
    np.testing.assert_array_equal(filled[outside], photo[outside])
    changed = np.any(filled != photo, axis=-1)
    assert changed[inside].mean() > 0.9, changed[inside].mean()

    # Hold to compare shows the original; undo and redo move between photo and result.
    x, y = (round(STROKE[0][0] * width), round(STROKE[0][1] * height))
    assert canvas_pixel(page, x, y) == filled[y, x].tolist() != photo[y, x].tolist()
    page.hover("#compare")
    page.mouse.down()
    assert page.is_visible("#compare-label")
    assert canvas_pixel(page, x, y) == photo[y, x].tolist()
    page.mouse.up()
    assert canvas_pixel(page, x, y) == filled[y, x].tolist()
    page.keyboard.press("Control+z")
    assert canvas_pixel(page, x, y) == photo[y, x].tolist()
    assert page.is_enabled("#fill")  # the stroke is back, ready to fill again
    page.keyboard.press("Control+Shift+Z")
    assert canvas_pixel(page, x, y) == filled[y, x].tolist()


def error_shown(page) -> str:
    """The text of the error banner, once it shows."""
    return page.locator("#error:not([hidden]) #error-text").inner_text(timeout=30_000)


def test_errors_show_on_the_page_in_words(page, tmp_path):
    (tmp_path / "notes.txt").write_text("not a photo")
    open_photo(page, PHOTO)  # a JPEG, as the browser decodes it
    page.set_input_files("#file", str(tmp_path / "notes.txt"))
    assert "notes.txt is not an image this browser can read" in error_shown(page)

    box = page.locator("#stage").bounding_box()
    draw(page, box, STROKE[:2])
    page.click("#tool-eraser")
    page.locator("#size").fill("200")
    draw(page, box, STROKE[:2])  # erases all the paint
    page.click("#fill")
    assert "Paint over what to remove first" in error_shown(page)

    page.keyboard.press("b")
    page.keyboard.press("[")  # the brush 1.25 times smaller
    assert page.inner_text("#size-value") == "160"
    busy = '{"error": "The server is busy: 33 requests are running or waiting"}'
    page.route("**/*:predict", lambda route: route.fulfill(status=503, body=busy))
    draw(page, box, STROKE[:2])
    page.click("#fill")
    assert error_shown(page) == (
        "The server is busy (503): The server is busy: 33 requests are running or waiting"
    )


def test_a_guided_model_gets_a_sketch_pen_whose_lines_are_the_edge_map(browser, server, tmp_path):
    # The served model is not guided: its metadata says so here, and the request is caught.
    inputs = {name: {"dtype": "DT_STRING"} for name in ["image_bytes", "mask_bytes", "edge_bytes"]}
    guided = {
        "metadata": {"signature_def": {"signature_def": {"serving_default": {"inputs": inputs}}}}
    }
    photo = np.asarray(Image.open(PHOTO).convert("RGB"))
    Image.fromarray(photo).save(tmp_path / "sunset.png")
    answer = base64.b64encode((tmp_path / "sunset.png").read_bytes()).decode()
    requests = []

    def predict(route):
        requests.append(route.request.post_data_json)
        route.fulfill(json={"predictions": [{"b64": answer}]})

    context = browser.new_context(viewport={"width": 1040, "height": 660})
    page = context.new_page()
    page.route("**/metadata", lambda route: route.fulfill(json=guided))
    page.route("**/*:predict", predict)
    page.goto(server)
    page.wait_for_selector("body[data-ready=true]", timeout=30_000)
    assert "guided" in page.inner_text("#model")
    box = open_photo(page, tmp_path / "sunset.png")
    draw(page, box, [(0.2, 0.5), (0.4, 0.5)])  # the hole
    page.keyboard.press("s")
    assert page.get_attribute("#tool-sketch", "aria-pressed") == "true"
    draw(page, box, [(0.3, 0.3), (0.3, 0.7)])  # a line across it
    page.click("#fill")
    page.wait_for_selector("#download:not([disabled])", timeout=30_000)
    context.close()

    (instance,) = requests[0]["instances"]
    planes = {
        name: np.asarray(Image.open(io.BytesIO(base64.b64decode(instance[name]["b64"]))))
        for name in ["image_bytes", "mask_bytes", "edge_bytes"]
    }
    np.testing.assert_array_equal(planes["image_bytes"][..., :3], photo)
    height, width = photo.shape[:2]
    row, column = round(0.5 * height), round(0.3 * width)
    for name in ["mask_bytes", "edge_bytes"]:
        assert planes[name].shape[:2] == (height, width)
        assert set(np.unique(planes[name][..., 0])) == {0, 255}  # white where painted
    mask, edge = planes["mask_bytes"][..., 0], planes["edge_bytes"][..., 0]
    assert mask[row, round(0.25 * width)] == 255 and mask[round(0.2 * height), column] == 0
    line = edge[round(0.4 * height), column - 3 : column + 4]  # across the 2-pixel line
    assert line.max() == 255 and line.min() == 0 and edge[row, round(0.25 * width)] == 0
