import csv

import numpy as np
import pytest
from PIL import Image

from gated_inpaint import cli, mask_set
from gated_inpaint.evaluation import coverage_percent
from gated_inpaint.masks import brush_stroke_mask

BUCKETS = [(10, 20), (20, 30), (30, 40), (40, 50), (50, 60)]


def run(capsys, *argv):
    code = cli.main(["masks", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def read_set(folder):
    """{file name: bytes} of the mask files, and the rows of masks.csv."""
    files = {p.name: p.read_bytes() for p in sorted(folder.glob("*.png"))}
    with open(folder / "masks.csv", newline="") as table:
        return files, list(csv.DictReader(table))


@pytest.mark.parametrize("size", [32, 64, 256])
def test_mask_i_has_a_coverage_in_bucket_i_mod_5(size):
    for index in range(10):
        hole = mask_set.bucket_mask(7, index, size)
        assert hole.shape == (size, size) and hole.dtype == bool
        low, high = BUCKETS[index % 5]
        assert low <= coverage_percent(hole) < high, (index, coverage_percent(hole))


def test_masks_are_pure_functions_of_seed_index_and_size():
    first = mask_set.bucket_mask(3, 4, 64)
    np.testing.assert_array_equal(mask_set.bucket_mask(3, 4, 64), first)
    assert (mask_set.bucket_mask(4, 4, 64) != first).any()
    assert (mask_set.bucket_mask(3, 9, 64) != first).any()  # same bucket, other index


def test_masks_differ_from_the_training_masks_of_the_same_seed():
    # Training draws stroke mask i of seed K from default_rng([K, i]). Where that mask is in
    # bucket 10-20 %, mask i of the set would be it if the set used the same generator.
    in_bucket = 0
    for index in range(0, 100, 5):
        training = brush_stroke_mask(256, 256, np.random.default_rng([0, index])) > 0
        if 10 <= coverage_percent(training) < 20:
            in_bucket += 1
            assert (mask_set.bucket_mask(0, index, 256) != training).any()
    assert in_bucket >= 5


def test_an_unreachable_bucket_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(mask_set, "MAX_DRAWS", 50)
    # At 16x16 one stroke mask covers 40 % or more: 10-20 % cannot be reached.
    with pytest.raises(ValueError) as error:
        mask_set.bucket_mask(1, 5, 16)
    assert str(error.value) == (
        "mask 5 (seed 1): 50 stroke masks gave no hole of 10-20 % of a 16x16 image; use a "
        "larger --size"
    )


def test_mask_names_have_five_digits_or_more():
    assert mask_set.mask_name(3, 10) == "00003.png"
    assert mask_set.mask_name(99999, 100000) == "99999.png"
    assert mask_set.mask_name(7, 100001) == "000007.png"


def test_writes_8_bit_masks_and_a_csv_of_their_coverage(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(mask_set, "PROGRESS_EVERY", 3)
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
