"""Fixtures of the serving tests: a request of encoded images, and the export of the shared
`generator` (tests/conftest.py), loaded both ways."""

import pytest
import tensorflow as tf

from gated_inpaint.serving.export import export_saved_model
from gated_inpaint.testing import encode_image, mask_png, tf_serving_session

MAX_PIXELS = 80 * 80


@pytest.fixture(scope="package")
def bytes_request(data):
    """serving_default inputs: three images of two sizes in one request."""
    images, masks = data["images"], data["masks"]
    return {
        "image_bytes": [
            encode_image(images[0]),
            encode_image(data["small"]),
            encode_image(images[1]),
        ],
        "mask_bytes": [mask_png(masks[0]), mask_png(data["small_mask"]), mask_png(masks[1])],
    }


@pytest.fixture(scope="package")
def export_path(generator, tmp_path_factory):
    base = str(tmp_path_factory.mktemp("exports"))
    return export_saved_model(generator, base, max_pixels=MAX_PIXELS)


@pytest.fixture(scope="package")
def loaded(export_path):
    return tf.saved_model.load(export_path)


@pytest.fixture(scope="package")
def session(export_path):
    """The SavedModel in a TF1 Session, loaded by tag as TF Serving's SavedModelBundle does."""
    with tf_serving_session(export_path) as loaded_session:
        yield loaded_session
