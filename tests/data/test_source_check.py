"""`check_image_source`: a training source that can never give a batch fails in one paragraph."""

import numpy as np
import pytest
from PIL import Image

from gated_inpaint.data.source_check import DECODE_PROBE, check_image_source


def _broken(folder, count, start=0):
    folder.mkdir(exist_ok=True)
    for i in range(start, start + count):
        (folder / f"bad{i:02d}.png").write_bytes(b"not a png %d" % i)


def _good(path):
    Image.fromarray(np.full((12, 16, 3), 90, np.uint8)).save(path)


def test_a_folder_of_only_corrupt_images_is_one_paragraph_naming_it(tmp_path):
    _broken(tmp_path, 5)
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "broken.webp").write_bytes(b"RIFF\x10\x00\x00\x00WEBPVP8 garbage")  # PIL's
    with pytest.raises(ValueError) as error:
        check_image_source(str(tmp_path))
    message = str(error.value)
    assert message.startswith(f"--data={tmp_path}: none of its 7 images can be decoded (bad00.png")
    assert "UnidentifiedImageError" in message
    assert "bad02.png: " in message and "bad03.png" not in message  # three reasons shown
    assert "; and 4 more). Replace or remove the broken files" in message
    assert "\n" not in message


def test_only_the_first_images_are_decoded(tmp_path):
    _broken(tmp_path, DECODE_PROBE + 4)
    with pytest.raises(ValueError, match=f"none of the first {DECODE_PROBE} of its 20 images"):
        check_image_source(str(tmp_path), "--val_data")
    _good(tmp_path / "zz_good.png")  # 21st in order: beyond the probe
    with pytest.raises(ValueError, match="^--val_data="):
        check_image_source(str(tmp_path), "--val_data")


def test_one_readable_image_among_broken_ones_is_enough(tmp_path):
    _broken(tmp_path, 3)
    _good(tmp_path / "bad01_but_good.png")
    check_image_source(str(tmp_path))


def test_missing_and_empty_sources_name_the_flag(tmp_path):
    with pytest.raises(FileNotFoundError, match=f"^--data={tmp_path / 'nowhere'}: .*does not"):
        check_image_source(str(tmp_path / "nowhere"))
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ValueError, match=f"^--val_data={tmp_path}: No images"):
        check_image_source(str(tmp_path), "--val_data")
    flist = tmp_path / "train.flist"
    flist.write_text("gone/a.png\ngone/b.png\n")
    with pytest.raises(FileNotFoundError, match=f"^--data={flist}: None of the first 2 entries"):
        check_image_source(str(flist))


def test_an_unprepared_tfds_source_names_the_flag_and_downloads_nothing(tmp_path):
    with pytest.raises(FileNotFoundError, match="^--data=tfds:mnist: .*--tfds_download"):
        check_image_source("tfds:mnist", data_dir=str(tmp_path))
    assert not any(tmp_path.iterdir())
