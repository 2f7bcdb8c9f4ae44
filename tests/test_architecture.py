"""The package's architecture, checked: the layer contract of `make lint` (import-linter) sees
upward imports and cycles, serving never loads training, no private name crosses a module, and
no file grows far past 400 lines."""

import ast
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
SOURCES = sorted(
    [
        *ROOT.glob("gated_inpaint/**/*.py"),
        *ROOT.glob("tests/**/*.py"),
        *ROOT.glob("bench/*.py"),
        *(ROOT / name for name in ("train.py", "export.py", "demo.py")),
    ]
)
MAX_LINES = 420  # "about 400"
LINT_IMPORTS = shutil.which("lint-imports", path=os.path.dirname(sys.executable))


def _lint_imports(root: pathlib.Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache"], cwd=root, capture_output=True, text=True, timeout=300
    )


def test_layer_contract_holds():
    assert LINT_IMPORTS, "import-linter is not installed (pip install -e '.[test]')"
    kept = _lint_imports(ROOT)
    assert kept.returncode == 0, kept.stdout[-3000:]


@pytest.mark.parametrize(
    "module, broken_contract",
    [
        # An upward import, inside a function: layers/ importing commands/.
        ("gated_inpaint/layers/resize.py", "Each layer imports only from the layers below it"),
        # A cycle inside one folder: commands.main imports commands.files.
        ("gated_inpaint/commands/files.py", "No import cycle between the modules of a folder"),
    ],
)
def test_layer_contract_fails_on_an_import_inside_a_function(tmp_path, module, broken_contract):
    shutil.copytree(ROOT / "gated_inpaint", tmp_path / "gated_inpaint")
    shutil.copy(ROOT / "setup.cfg", tmp_path / "setup.cfg")
    path = tmp_path / module
    path.write_text(
        path.read_text()
        + "\n\ndef imports_commands_main():\n"
        + "    from gated_inpaint.commands import main\n\n    return main\n"
    )
    broken = _lint_imports(tmp_path)
    assert broken.returncode != 0
    assert f"{broken_contract} BROKEN" in broken.stdout


def test_inpainting_and_exporting_load_no_training_module(tmp_path):
    script = f"""
import sys
import numpy as np
from gated_inpaint import Inpainter
from gated_inpaint.models import InpaintGenerator
from gated_inpaint.serving.export import export_saved_model

generator = InpaintGenerator(cnum=4)
Inpainter(generator).inpaint(np.zeros((16, 24, 3), np.uint8), np.ones((16, 24), bool))
export_saved_model(generator, {str(tmp_path)!r})
Inpainter.load({str(tmp_path)!r}).inpaint(np.zeros((8, 8, 3), np.uint8), np.ones((8, 8), bool))
print(" ".join(sorted(m for m in sys.modules if m.startswith("gated_inpaint"))))
"""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    loaded = done.stdout.split()
    assert (
        "gated_inpaint.serving.export" in loaded and "gated_inpaint.inference.inpainter" in loaded
    )
    assert not [m for m in loaded if m.startswith(("gated_inpaint.training", "gated_inpaint.data"))]


def _defined_names(tree: ast.AST) -> set[str]:
    """Names a module defines: functions, classes, assigned names and `self.` attributes."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
    return names


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _borrowed_private_names(tree: ast.AST) -> list[str]:
    """`line: what` for each private name of another module imported or used in `tree`."""
    own = _defined_names(tree)
    borrowed = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            names = [a.name for a in node.names if _private(a.name)]
            borrowed += [f"{node.lineno}: imports {name}" for name in names]
        elif isinstance(node, ast.Attribute) and _private(node.attr) and node.attr not in own:
            borrowed.append(f"{node.lineno}: uses {ast.unparse(node)}")
    return borrowed


def test_no_private_name_is_used_outside_its_module():
    borrowed = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in SOURCES
        for line in _borrowed_private_names(ast.parse(path.read_text(), str(path)))
    ]
    assert not borrowed, "\n".join(borrowed)


@pytest.mark.parametrize(
    "code", ["from gated_inpaint.x import _y", "import m\nm._hidden()", "def f(o):\n    o._z"]
)
def test_the_private_name_check_sees_imports_and_attributes(code):
    assert _borrowed_private_names(ast.parse(code))
    assert not _borrowed_private_names(ast.parse("class A:\n    def _z(self):\n        self._z()"))


def test_no_file_is_far_over_400_lines():
    long_files = {
        str(path.relative_to(ROOT)): n
        for path in SOURCES
        if (n := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert not long_files, long_files
