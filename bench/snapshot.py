"""The code a run measures: a copy of `gated_inpaint/` and of the bench scripts made at the
start (edits during a long run do not count), and the header that says which code ran where."""

from __future__ import annotations

import datetime
import importlib.metadata
import io
import os
import platform
import shutil
import subprocess
import tarfile

from machine import describe_cpu

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH_DIR)


def _git(*args: str) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True)
        return done.stdout.rstrip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def header(code: str | None) -> dict:
    """The date, the machine, the versions and the code (`code`: a git revision, or None for
    the working tree) of a run."""
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        **describe_cpu(),
        "python": platform.python_version(),
        "tensorflow": importlib.metadata.version("tensorflow"),
        "keras": importlib.metadata.version("keras"),
        "commit": _git("rev-parse", "--short", code or "HEAD"),
        "code": f"git revision {code}" if code else "working tree",
        "modified_files": []
        if code
        else [line[3:] for line in _git("status", "--porcelain").splitlines() if line.strip()],
    }


def copy_package(code: str | None, destination: str) -> list[str]:
    """Copies `gated_inpaint/` as in the working tree (`code` None) or as in the git revision
    `code` (`git archive`, which leaves the working tree alone) plus the files of the working
    tree that git does not track yet (new modules), into `destination`; returns the latter."""
    os.makedirs(destination)
    # The bench scripts too: the children run this copy, so edits during a run do not count.
    os.makedirs(os.path.join(destination, "bench"))
    for name in os.listdir(BENCH_DIR):
        if name.endswith(".py"):
            shutil.copy(os.path.join(BENCH_DIR, name), os.path.join(destination, "bench", name))
    if code is None:
        shutil.copytree(
            os.path.join(ROOT, "gated_inpaint"),
            os.path.join(destination, "gated_inpaint"),
            ignore=shutil.ignore_patterns("__pycache__"),
        )
        return []
    archive = subprocess.run(
        ["git", "archive", "--format=tar", code, "gated_inpaint"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(destination, filter="data")
    untracked = _git("ls-files", "--others", "--exclude-standard", "gated_inpaint").splitlines()
    for path in untracked:
        os.makedirs(os.path.dirname(os.path.join(destination, path)), exist_ok=True)
        shutil.copy(os.path.join(ROOT, path), os.path.join(destination, path))
    return untracked
