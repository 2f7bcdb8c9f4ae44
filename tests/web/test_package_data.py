"""The page ships in the package: every file of gated_inpaint/web/static matches a pattern of
setup.cfg's package_data, so a non-editable `pip install ".[web]"` installs it."""

import configparser
import fnmatch
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
WEB = ROOT / "gated_inpaint" / "web"


def test_every_static_file_is_package_data():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    patterns = [p.strip() for p in config["options.package_data"]["gated_inpaint.web"].split(",")]
    files = [p.relative_to(WEB).as_posix() for p in (WEB / "static").rglob("*") if p.is_file()]
    assert "static/index.html" in files
    missing = [f for f in files if not any(fnmatch.fnmatch(f, p) for p in patterns)]
    assert not missing, f"add them to [options.package_data] in setup.cfg: {missing}"
