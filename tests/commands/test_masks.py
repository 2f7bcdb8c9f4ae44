import csv

import numpy as np
import pytest
from PIL import Image

from gated_inpaint.commands import masks
from gated_inpaint.commands.main import main as cli_main
from gated_inpaint.evaluation import mask_set
from gated_inpaint.evaluation.metrics import BUCKETS, coverage_percent


def run(capsys, *argv):
    code = cli_main(["masks", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def read_set(folder):
    """{file name: bytes} of the mask files, and the rows of masks.csv."""
    files = {p.name: p.read_bytes() for p in sorted(folder.glob("*.png"))}
    with open(folder / "masks.csv", newline="") as table:
        return files, list(csv.DictReader(table))


def test_writes_8_bit_masks_and_a_csv_of_their_coverage(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(masks, "PROGRESS_EVERY", 3)
    out_dir = tmp_path / "new" / "set"
    code, out, err = run(capsys, "--count", 7, "--size", 48, "--seed", 5, "--out", out_dir)
    assert code == 0, err
    assert out == f"Wrote 7 masks of 48x48 (seed 5) and masks.csv into {out_dir}\n"
    assert err == "[3/7] masks written\n[6/7] masks written\n[7/7] masks written\n"
    files, rows = read_set(out_dir)
    names = [f"0000{i}.png" for i in range(7)]
    assert list(files) == names
    assert [row["name"] for row in rows] == names
    for index, row in enumerate(rows):
        with Image.open(out_dir / row["name"]) as image:
            assert image.mode == "L" and image.size == (48, 48)
            mask = np.asarray(image)
        assert set(np.unique(mask)) == {0, 255}
        np.testing.assert_array_equal(mask == 255, mask_set.bucket_mask(5, index, 48))
        low, high = BUCKETS[index % 5]
        assert row["bucket"] == f"{low}-{high}"
        assert float(row["coverage_percent"]) == coverage_percent(mask == 255)
        assert low <= float(row["coverage_percent"]) < high


def test_same_seed_same_files_other_seed_other_files(tmp_path, capsys):
    for name, seed, count in [("a", 0, 6), ("b", 0, 6), ("c", 1, 6), ("d", 0, 9)]:
        code, _, err = run(
            capsys, "--count", count, "--size", 32, "--seed", seed, "--out", tmp_path / name
        )
        assert code == 0, err
    a, b, c, d = (read_set(tmp_path / name) for name in "abcd")
    assert a == b
    assert all(a[0][name] != c[0][name] for name in a[0])
    assert a[1] != c[1]
    assert {name: d[0][name] for name in a[0]} == a[0]  # a larger count extends the set
    assert d[1][:6] == a[1]


def test_existing_files_are_kept_unless_overwrite(tmp_path, capsys):
    argv = ["--count", 2, "--size", 32, "--out", tmp_path]
    (tmp_path / "00001.png").write_bytes(b"old")
    code, out, err = run(capsys, *argv)
    assert code == 1 and out == ""
    assert err == (
        f"gated-inpaint masks: error: {tmp_path / '00001.png'} exists; pass --overwrite to "
        f"replace it\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["00001.png"]
    code, _, err = run(capsys, *argv, "--overwrite")
    assert code == 0, err
    code, _, err = run(capsys, *argv)
    assert code == 1
    assert f"{tmp_path / '00000.png'} exists (and 2 more of the files to write)" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--count", 0], "--count must be at least 1, got 0"),
        (["--size", 60], "--size must be a multiple of 8 (the networks need it) and at least 32"),
        (
            ["--size", 24],
            "--size must be a multiple of 8 (the networks need it) and at least 32 (the strokes "
            "are 12 to 39 px wide, so smaller masks cannot have holes of 10-20 %), got 24\n",
        ),
        (["--seed", -1], "--seed must be non-negative, got -1"),
    ],
)
def test_argument_errors(tmp_path, capsys, argv, message):
    defaults = {"--count": 3, "--size": 32, "--seed": 0, "--out": tmp_path / "set"}
    defaults.update(zip(argv[::2], argv[1::2], strict=True))
    code, out, err = run(capsys, *[x for item in defaults.items() for x in item])
    assert code == 1 and out == ""
    assert err.startswith(f"gated-inpaint masks: error: {message}")
    assert not (tmp_path / "set").exists()


def test_out_must_not_be_a_file(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    code, _, err = run(capsys, "--count", 1, "--size", 32, "--out", tmp_path / "file")
    assert code == 1
    assert f"--out {tmp_path / 'file'} is a file; give a folder" in err
