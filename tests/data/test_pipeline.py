"""Tests for gated_inpaint.data: sources, decoding, cropping, skipping, sharding, guided edges."""

import logging
import os
import socket
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds
from PIL import Image

from gated_inpaint.data.decoding import sobel_edge_map
from gated_inpaint.data.image_files import list_images
from gated_inpaint.data.pipeline import SkipCounter, make_dataset
from gated_inpaint.data.tfds_source import parse_tfds

DEMO_DIR = Path(__file__).resolve().parents[2] / "data" / "demo"


def _solid(value, height=40, width=48):
    return np.full((height, width, 3), value, np.uint8)


def _save(path, array, mode=None, fmt=None):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.fromarray(array)
    (image.convert(mode) if mode else image).save(path, format=fmt)
    return str(path)


def _levels(ds):
    """The uniform grey level (0..255) of every image in a dataset, in order."""
    images = np.concatenate([batch["image"].numpy() for batch in ds])
    return [int(round((img.mean() + 1.0) * 127.5)) for img in images]


def _eval(source, size=32, batch=4, **kwargs):
    kwargs.setdefault("mask_type", None)
    return make_dataset(source, size, batch, training=False, **kwargs)


def _take(ds, n):
    return [batch for batch, _ in zip(ds, range(n), strict=False)]


def test_directory_is_searched_recursively_for_all_formats(tmp_path):
    _save(tmp_path / "a.jpg", _solid(10))
    _save(tmp_path / "sub" / "b.PNG", _solid(20))
    _save(tmp_path / "sub" / "deep" / "c.webp", _solid(30), fmt="WEBP")
    _save(tmp_path / "d.bmp", _solid(40))
    _save(tmp_path / "e.JPEG", _solid(50))
    _save(tmp_path / "gray.png", _solid(60), mode="L")
    rgba = np.dstack([_solid(70), np.zeros((40, 48, 1), np.uint8)])  # fully transparent
    _save(tmp_path / "rgba.png", rgba)
    _save(tmp_path / "sub" / "rgba.webp", np.dstack([_solid(80), rgba[..., 3:]]), fmt="WEBP")
    _save(tmp_path / "a_edge.png", _solid(255))
    (tmp_path / "notes.txt").write_text("not an image")

    files = list_images(str(tmp_path))
    names = [os.path.relpath(f, tmp_path) for f in files]
    assert names == [
        "a.jpg",
        "d.bmp",
        "e.JPEG",
        "gray.png",
        "rgba.png",
        "sub/b.PNG",
        "sub/rgba.webp",
        "sub/deep/c.webp",
    ]
    counter = SkipCounter()
    levels = _levels(_eval(str(tmp_path), skip_counter=counter))
    assert levels == [10, 40, 50, 60, 70, 20, 80, 30]
    assert counter.count == 0


def test_flist_paths_are_relative_to_the_list(tmp_path):
    _save(tmp_path / "imgs" / "a.png", _solid(10))
    _save(tmp_path / "imgs" / "b.png", _solid(20))
    absolute = _save(tmp_path / "elsewhere" / "c.png", _solid(30))
    flist = tmp_path / "lists" / "val.flist"
    flist.parent.mkdir()
    flist.write_text(f"../imgs/b.png\n\n  ../imgs/a.png  \n{absolute}\n\n")

    assert list_images(str(flist)) == [
        str(tmp_path / "imgs" / "b.png"),
        str(tmp_path / "imgs" / "a.png"),
        absolute,
    ]
    assert _levels(_eval(str(flist))) == [20, 10, 30]


def test_batch_shapes_dtypes_and_ranges(tmp_path):
    rng = np.random.default_rng(0)
    for i in range(5):
        noise = rng.integers(0, 256, (50, 60, 3), dtype=np.uint8)
        noise[0, 0], noise[0, 1] = 0, 255
        _save(tmp_path / f"{i}.png", noise)

    train = make_dataset(str(tmp_path), (32, 48), 4, training=True, mask_type=None)
    assert train.element_spec["image"].shape == (4, 32, 48, 3)
    batch = next(iter(train))
    assert set(batch) == {"image"}
    assert batch["image"].dtype == tf.float32
    assert batch["image"].shape == (4, 32, 48, 3)
    assert -1.0 <= batch["image"].numpy().min() < -0.9
    assert 0.9 < batch["image"].numpy().max() <= 1.0

    evaluation = _eval(str(tmp_path), size=(50, 60), batch=4)
    assert evaluation.element_spec["image"].shape.as_list() == [None, 50, 60, 3]
    full = np.concatenate([b["image"].numpy() for b in evaluation])
    assert full.shape == (5, 50, 60, 3)
    assert full.min() == -1.0 and full.max() == 1.0


def test_random_crop_upscales_small_images_without_padding(tmp_path):
    _save(tmp_path / "small.png", _solid(200, height=20, width=30))
    batch = next(iter(make_dataset(str(tmp_path), 64, 2, training=True, mask_type=None)))
    np.testing.assert_allclose(batch["image"].numpy(), 200 / 127.5 - 1, atol=1e-5)

    halves = np.zeros((16, 16, 3), np.uint8)
    halves[:, 8:] = 255
    _save(tmp_path / "small.png", halves)
    image = next(iter(_eval(str(tmp_path))))["image"].numpy()[0]
    assert image.shape == (32, 32, 3)
    np.testing.assert_allclose(image[:, :7], -1.0)
    np.testing.assert_allclose(image[:, -7:], 1.0)


def test_random_crop_cuts_large_images_unscaled(tmp_path):
    columns = np.broadcast_to((np.arange(80) * 3)[None, :, None], (40, 80, 3)).astype(np.uint8)
    _save(tmp_path / "wide.png", columns)
    image = next(iter(_eval(str(tmp_path))))["image"].numpy()[0]
    np.testing.assert_allclose(image, columns[4:36, 24:56] / 127.5 - 1, atol=1e-6)

    batch = next(iter(make_dataset(str(tmp_path), 32, 8, training=True, mask_type=None)))
    lefts = {int(round((img[0, 0, 0] + 1) * 127.5)) // 3 for img in batch["image"].numpy()}
    assert len(lefts) > 1
    for img in batch["image"].numpy():
        left = int(round((img[0, 0, 0] + 1) * 127.5)) // 3
        expected = (np.arange(left, left + 32) * 3) / 127.5 - 1
        np.testing.assert_allclose(img[0, :, 0], expected, atol=1e-6)


def test_resize_mode_resizes_the_whole_image(tmp_path):
    stripes = np.zeros((40, 100, 3), np.uint8)
    stripes[:, :30] = 255
    stripes[:, 70:] = 255
    _save(tmp_path / "stripes.png", stripes)
    image = next(iter(_eval(str(tmp_path), crop="resize")))["image"].numpy()[0]
    expected = tf.image.resize(stripes.astype(np.float32), (32, 32)).numpy() / 127.5 - 1
    np.testing.assert_allclose(image, expected, atol=1e-5)
    assert image[:, 0].min() == 1.0 and image[:, 16].max() == -1.0
    centre = next(iter(_eval(str(tmp_path))))["image"].numpy()[0]
    assert centre[:, 0].max() == -1.0


def test_evaluation_is_deterministic(tmp_path):
    rng = np.random.default_rng(1)
    for i in range(6):
        _save(tmp_path / f"{i}.jpg", rng.integers(0, 256, (50 + i, 70, 3), dtype=np.uint8))
    ds = _eval(str(tmp_path), batch=4)
    first = np.concatenate([b["image"].numpy() for b in ds])
    again = np.concatenate([b["image"].numpy() for b in _eval(str(tmp_path), batch=4)])
    assert first.shape == (6, 32, 32, 3)
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(first, np.concatenate([b["image"].numpy() for b in ds]))


def test_training_order_is_seeded_and_reproducible(tmp_path):
    for i in range(8):
        _save(tmp_path / f"{i}.png", _solid(10 * (i + 1)))

    def order(seed):
        ds = make_dataset(str(tmp_path), 32, 1, training=True, mask_type=None, seed=seed)
        return _levels(_take(ds, 24))

    first = order(3)
    assert first == order(3)
    assert first != order(4)
    for epoch in range(3):
        assert sorted(first[8 * epoch : 8 * epoch + 8]) == [10 * (i + 1) for i in range(8)]
    assert first[:8] != first[8:16]


def test_corrupt_files_are_skipped_with_a_warning_and_counted(tmp_path, caplog):
    for i in range(3):
        _save(tmp_path / f"good{i}.png", _solid(10 * (i + 1)))
    png = (tmp_path / "good0.png").read_bytes()
    bad = {
        "garbage.jpg": b"this is not a jpeg",
        "truncated.png": png[: len(png) // 2],
        "broken.webp": b"RIFF\x10\x00\x00\x00WEBPVP8 garbage",
        "empty.bmp": b"",
    }
    for name, content in bad.items():
        (tmp_path / name).write_bytes(content)

    counter = SkipCounter()
    with caplog.at_level(logging.WARNING):
        assert _levels(_eval(str(tmp_path), skip_counter=counter)) == [10, 20, 30]
    assert sorted(counter.files) == sorted(str(tmp_path / name) for name in bad)
    assert counter.count == 4
    for name in bad:
        assert str(tmp_path / name) in caplog.text

    training_counter = SkipCounter()
    train = make_dataset(
        str(tmp_path), 32, 4, training=True, mask_type=None, seed=1, skip_counter=training_counter
    )
    assert len(_levels(_take(train, 5))) == 20
    assert training_counter.count == 4


def test_a_source_with_only_corrupt_files_raises_instead_of_spinning(tmp_path):
    (tmp_path / "bad.png").write_bytes(b"nope")
    ds = make_dataset(str(tmp_path), 32, 2, training=True, mask_type=None)
    with pytest.raises(tf.errors.OpError, match="None of the 1 images"):
        next(iter(ds))


def test_empty_and_missing_sources_fail_at_once_naming_the_path(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("x")
    _save(empty / "only_edge.png", _solid(1))
    with pytest.raises(ValueError, match=str(empty)):
        _eval(str(empty))
    missing = tmp_path / "missing"
    with pytest.raises(FileNotFoundError, match=str(missing)):
        _eval(str(missing))
    flist = tmp_path / "empty.flist"
    flist.write_text("\n  \n")
    with pytest.raises(ValueError, match=str(flist)):
        _eval(str(flist))
    flist.write_text("nowhere/a.png\n")
    with pytest.raises(FileNotFoundError, match="nowhere/a.png"):
        _eval(str(flist))


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the data pipeline tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def test_tfds_without_data_gives_a_clear_message_and_no_download(tmp_path, no_network):
    with pytest.raises(FileNotFoundError) as error:
        _eval("tfds:mnist:test", data_dir=str(tmp_path))
    message = str(error.value)
    for part in ("'mnist'", str(tmp_path), "--tfds_download", "tfds build mnist", "--data_dir"):
        assert part in message
    assert not any(tmp_path.iterdir())
    with pytest.raises(ValueError, match="no dataset named"):
        _eval("tfds:surely_not_a_dataset_xyz", data_dir=str(tmp_path))


class GatedInpaintTinyImages(tfds.core.GeneratorBasedBuilder):
    """Eight uniform images of different sizes (levels 10..80), built locally for the tests."""

    VERSION = tfds.core.Version("1.0.0")

    def _info(self):
        return self.dataset_info_from_configs(
            features=tfds.features.FeaturesDict(
                {"image": tfds.features.Image(shape=(None, None, 3))}
            )
        )

    def _split_generators(self, dl_manager):
        return {"train": self._generate_examples()}

    def _generate_examples(self):
        for i in range(8):
            yield i, {"image": _solid(10 * (i + 1), height=20 + 4 * i)}


def test_tfds_source_reads_and_shards_a_prepared_dataset(tmp_path, no_network):
    GatedInpaintTinyImages(data_dir=str(tmp_path)).download_and_prepare()
    source = "tfds:gated_inpaint_tiny_images:train"
    everything = sorted(_levels(_eval(source, data_dir=str(tmp_path))))
    assert everything == [10 * (i + 1) for i in range(8)]

    shards = [
        _levels(
            _eval(
                source,
                data_dir=str(tmp_path),
                input_context=tf.distribute.InputContext(2, pipeline, 2),
            )
        )
        for pipeline in range(2)
    ]
    assert not set(shards[0]) & set(shards[1])
    assert sorted(shards[0] + shards[1]) == everything

    train = make_dataset(source, 32, 4, training=True, data_dir=str(tmp_path), mask_type=None)
    assert next(iter(train))["image"].shape == (4, 32, 32, 3)


def test_sharding_gives_each_pipeline_its_own_files(tmp_path):
    for i in range(7):
        _save(tmp_path / f"{i}.png", _solid(10 * (i + 1)))

    def context(pipeline):
        return tf.distribute.InputContext(
            num_input_pipelines=2, input_pipeline_id=pipeline, num_replicas_in_sync=2
        )

    shards = [set(_levels(_eval(str(tmp_path), input_context=context(p)))) for p in range(2)]
    assert shards[0].isdisjoint(shards[1])
    assert shards[0] | shards[1] == {10 * (i + 1) for i in range(7)}
    for p in range(2):
        train = make_dataset(
            str(tmp_path), 32, 4, training=True, mask_type=None, input_context=context(p)
        )
        assert set(_levels(_take(train, 4))) == shards[p]


def test_guided_edges_come_from_edge_files_or_sobel(tmp_path):
    _save(tmp_path / "a.png", _solid(100, height=32, width=32))
    edge = np.zeros((32, 32), np.uint8)
    edge[:, :10] = 255
    edge[:, 10:20] = 150  # 150 / 255 = 0.59: below the 0.6 threshold
    edge[:, 20:] = 160  # 0.63: above it
    _save(tmp_path / "a_edge.png", edge)
    boundary = np.zeros((32, 32, 3), np.uint8)
    boundary[:, 16:] = 255
    _save(tmp_path / "b.jpg", boundary)

    assert len(list_images(str(tmp_path))) == 2
    batch = next(iter(_eval(str(tmp_path), guided=True)))
    assert batch["edge"].shape == (2, 32, 32, 1) and batch["edge"].dtype == tf.float32
    from_file, computed = batch["edge"].numpy()[..., 0]
    np.testing.assert_array_equal(from_file[:, :10], 1.0)
    np.testing.assert_array_equal(from_file[:, 10:20], 0.0)
    np.testing.assert_array_equal(from_file[:, 20:], 1.0)
    np.testing.assert_array_equal(computed[:, 15:17], 1.0)
    assert computed[:, :14].max() == 0.0 and computed[:, 18:].max() == 0.0
    np.testing.assert_array_equal(computed, sobel_edge_map(boundary)[..., 0].numpy())

    train = next(iter(make_dataset(str(tmp_path), 16, 2, training=True, guided=True)))
    assert set(np.unique(train["edge"].numpy())) <= {0.0, 1.0}
    assert set(train) == {"image", "edge", "mask"}


def test_a_corrupt_edge_map_skips_its_image_and_says_so(tmp_path, caplog):
    _save(tmp_path / "a.png", _solid(10))
    _save(tmp_path / "b.png", _solid(20))
    (tmp_path / "b_edge.png").write_bytes(b"broken")
    counter = SkipCounter()
    with caplog.at_level(logging.WARNING):
        assert _levels(_eval(str(tmp_path), guided=True, skip_counter=counter)) == [10]
    assert counter.files == [str(tmp_path / "b.png")]
    assert f"edge map {tmp_path / 'b_edge.png'}" in caplog.text


@pytest.mark.parametrize(
    "source, expected",
    [
        ("tfds:places365_small", ("places365_small", "train")),
        ("tfds:mnist:test", ("mnist", "test")),
        ("tfds:mnist:3.0.1:test[:10%]", ("mnist:3.0.1", "test[:10%]")),
        ("tfds:celeb_a_hq/256:train+validation", ("celeb_a_hq/256", "train+validation")),
    ],
)
def test_tfds_sources_parse_name_and_split(source, expected):
    assert parse_tfds(source) == expected


def test_demo_set_yields_batches():
    files = list_images(str(DEMO_DIR))
    assert len(files) >= 16
    attribution = (DEMO_DIR / "ATTRIBUTION.md").read_text()
    for path in files:
        assert os.path.basename(path) in attribution
    counter = SkipCounter()
    batch = next(iter(make_dataset(str(DEMO_DIR), 256, 4, training=True, mask_type=None)))
    assert batch["image"].shape == (4, 256, 256, 3)
    images = np.concatenate(
        [b["image"].numpy() for b in _eval(str(DEMO_DIR), size=256, skip_counter=counter)]
    )
    assert images.shape == (len(files), 256, 256, 3)
    assert counter.count == 0
    assert images.std(axis=(1, 2, 3)).min() > 0.1


def test_each_sample_gets_its_own_mask(tmp_path):
    for i in range(4):
        _save(tmp_path / f"{i}.png", _solid(10 * (i + 1)))
    masks = []
    for pipeline in range(2):
        context = tf.distribute.InputContext(2, pipeline, 2)
        ds = make_dataset(str(tmp_path), 64, 2, training=True, input_context=context)
        batch = next(iter(ds))
        assert batch["mask"].shape == (2, 64, 64, 1) and batch["mask"].dtype == tf.float32
        assert set(np.unique(batch["mask"].numpy())) <= {0.0, 1.0}
        assert not np.array_equal(batch["mask"][0], batch["mask"][1])
        masks.append(batch["mask"].numpy())
    assert not np.array_equal(masks[0], masks[1])
