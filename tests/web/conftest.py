"""Fixtures of the web tests: a tiny model exported as TF Serving loads it, the same export in
an `Inpainter`, and servers on 127.0.0.1 (real HTTP, in a background thread) for apps."""

import contextlib

import httpx
import pytest

from gated_inpaint import Inpainter
from gated_inpaint.serving.export import export_saved_model
from gated_inpaint.testing import tiny_generator
from gated_inpaint.web.server import Server, bind_socket


@pytest.fixture(autouse=True)
def _seed():
    """Replaces tests/conftest.py's reseeding for these tests: `tf.random.set_seed` clears
    TensorFlow's caches, so the first model call of every test would optimise the graph again
    (seconds). The web tests make their data from their own seeds."""


@pytest.fixture(scope="package")
def export_path(tmp_path_factory):
    """A versioned SavedModel of a cnum=4 generator: `<base>/1`."""
    return export_saved_model(tiny_generator(cnum=4), str(tmp_path_factory.mktemp("export")))


@pytest.fixture(scope="package")
def inpainter(export_path):
    return Inpainter.load(export_path)


@contextlib.contextmanager
def _serving(app):
    server = Server(app, bind_socket("127.0.0.1", 0), access_log=False)
    with server.running_in_thread() as url, httpx.Client(base_url=url, timeout=120) as client:
        yield client


@pytest.fixture(scope="package")
def serving():
    """`serving(app)`: a context manager that serves `app` on a free port and yields an
    `httpx.Client` for it."""
    return _serving
