"""Fixtures of the command tests: a tiny generator's weights file."""

import pytest

from gated_inpaint import testing


@pytest.fixture(scope="package")
def weights(tmp_path_factory):
    """A `*.weights.h5` file of `testing.tiny_generator()`."""
    path = tmp_path_factory.mktemp("model") / "g.weights.h5"
    testing.tiny_generator().save_weights(path)
    return str(path)
