"""`gated-inpaint serve`: its help answers the obvious questions, and wrong flags, a busy port
and an unreachable TF Serving fail at once with one clear line. (Serving itself, from the
command to Ctrl-C, is tested in a browser: tests/web/test_browser.py.)"""

import socket

import pytest

from gated_inpaint.commands.main import build_parser, main


def test_help_tells_the_url_the_api_and_the_limits(capsys):
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    text = capsys.readouterr().out
    for needed in [
        "http://127.0.0.1:8080/",
        "/v1/models/NAME:predict",
        "--tf_serving",
        "--max_pixels",
        "--max_request_mb",
        "--queue_size",
        "Ctrl-C",
    ]:
        assert needed in text, needed


def test_serve_takes_a_model_or_tf_serving(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve"])
    assert "one of the arguments --model --tf_serving is required" in capsys.readouterr().err


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--hd_strategy", "resize"], "--hd_strategy cannot be used with --tf_serving"),
        (["--max_pixels", "100"], "--max_pixels cannot be used with --tf_serving"),
        ([], "Cannot reach TF Serving at http://127.0.0.1:9/v1/models/gated_inpaint"),
    ],
)
def test_tf_serving_mode_errors(capsys, flags, message):
    url = "http://127.0.0.1:9/v1/models/gated_inpaint"  # the discard port: nothing answers
    assert main(["serve", "--tf_serving", url, "--port", "0", *flags]) == 1
    err = capsys.readouterr().err
    assert err.startswith("gated-inpaint serve: error: ") and message in err, err


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--concurrency", "0"], "--concurrency must be at least 1, got 0."),
        (["--queue_size", "-1"], "--queue_size must be at least 0, got -1."),
        (["--max_pixels", "0"], "--max_pixels must be at least 1, got 0."),
        (["--max_request_mb", "0"], "--max_request_mb must be positive, got 0.0."),
    ],
)
def test_limits_must_make_sense(capsys, tmp_path, flags, message):
    assert main(["serve", "--model", str(tmp_path), "--port", "0", *flags]) == 1
    assert message in capsys.readouterr().err


def test_a_busy_port_fails_before_the_model_loads(capsys, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        # The model does not exist: the port is checked first, so its error comes first.
        assert main(["serve", "--model", str(tmp_path / "nothing"), "--port", str(port)]) == 1
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}" in err and "--port" in err, err
