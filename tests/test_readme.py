"""The README's Python examples run as written, in a folder holding the files they name: a
photo and its mask, an export, and an official-format checkpoint at the official width."""

import pathlib
import re

import numpy as np
import pytest

from gated_inpaint.models import InpaintGenerator
from gated_inpaint.serving.export import export_saved_model
from gated_inpaint.testing import (
    official_tensors,
    save_image,
    smooth_photo,
    tiny_generator,
    write_tf1_checkpoint,
)

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"
SNIPPETS = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A folder with what the examples name: photo.jpg and mask.png, exports/gated_inpaint,
    release_places2_256 (official names, cnum 48, guided=False)."""
    folder = tmp_path_factory.mktemp("readme")
    save_image(smooth_photo(45, 60), folder / "photo.jpg")
    mask = np.zeros((45, 60), np.uint8)
    mask[10:30, 20:40] = 255
    save_image(mask, folder / "mask.png")
    export_saved_model(tiny_generator(), str(folder / "exports" / "gated_inpaint"))
    official = InpaintGenerator()
    official.build((1, None, None, 3))
    write_tf1_checkpoint(folder / "release_places2_256", official_tensors(official))
    return folder


def test_the_readme_has_the_examples():
    assert len(SNIPPETS) >= 3


@pytest.mark.parametrize("index", range(len(SNIPPETS)))
def test_readme_example_runs(index, workdir, monkeypatch):
    monkeypatch.chdir(workdir)
    images = [smooth_photo(32, 40, seed=1), smooth_photo(24, 24, seed=2)]
    masks = [np.eye(32, 40, dtype=bool), np.ones((24, 24), bool)]
    namespace = {"images": images, "masks": masks}  # what the batch example leaves to the reader
    exec(compile(SNIPPETS[index], f"README.md example {index + 1}", "exec"), namespace)
    if "results" in namespace:
        assert [r.shape for r in namespace["results"]] == [(32, 40, 3), (24, 24, 3)]
    if "result" in namespace:
        assert namespace["result"].shape == (45, 60, 3)
