import numpy as np
import pytest

from gated_inpaint.inference.uint8_graph import inpaint_uint8, pad_to_multiple


@pytest.mark.parametrize("size", [(37, 50), (8, 16), (1, 1), (3, 13)])
def test_padding_reflects_to_a_multiple_of_eight(rng, size):
    x = rng.uniform(size=(2, *size, 3)).astype("float32")
    padded = pad_to_multiple(x).numpy()
    assert padded.shape[1] % 8 == 0 and padded.shape[2] % 8 == 0
    assert padded.shape[1] - size[0] < 8 and padded.shape[2] - size[1] < 8
    np.testing.assert_array_equal(padded[:, : size[0], : size[1]], x)
    pad_h, pad_w = padded.shape[1] - size[0], padded.shape[2] - size[1]
    if pad_h < size[0] and pad_w < size[1]:
        np.testing.assert_array_equal(
            padded, np.pad(x, [(0, 0), (0, pad_h), (0, pad_w), (0, 0)], mode="reflect")
        )


def test_any_size_keeps_known_pixels_and_fills_holes(rng, tiny_generator):
    images = rng.integers(0, 256, size=(2, 37, 50, 3), dtype=np.uint8)
    masks = np.zeros((2, 37, 50, 1), np.uint8)
    masks[0, 5:20, 10:30] = 255
    masks[1, 20:35, 3:12] = 1
    out = inpaint_uint8(tiny_generator, images, masks).numpy()
    assert out.shape == images.shape and out.dtype == np.uint8
    known = np.broadcast_to(masks == 0, images.shape)
    np.testing.assert_array_equal(out[known], images[known])
    x = np.pad(images / np.float32(127.5) - 1, [(0, 0), (0, 3), (0, 6), (0, 0)], mode="reflect")
    m = np.pad((masks > 0).astype("float32"), [(0, 0), (0, 3), (0, 6), (0, 0)], mode="reflect")
    _, x2 = tiny_generator(x.astype("float32"), m)
    expected = np.clip((x2.numpy()[:, :37, :50] + 1) * 127.5, 0, 255).astype(np.uint8)
    hole = ~known
    assert np.abs(out[hole].astype(int) - expected[hole].astype(int)).max() <= 1
    assert (out[hole] != images[hole]).mean() > 0.5


def test_masks_are_per_image(rng, tiny_generator):
    image = rng.integers(0, 256, size=(1, 24, 32, 3), dtype=np.uint8)
    images = np.repeat(image, 2, axis=0)
    masks = np.zeros((2, 24, 32, 1), bool)
    masks[0, 2:10, 2:10] = True
    masks[1, 12:22, 18:30] = True
    out = inpaint_uint8(tiny_generator, images, masks).numpy()
    single = inpaint_uint8(tiny_generator, images[1:], masks[1:]).numpy()
    np.testing.assert_array_equal(out[0, 12:22, 18:30], image[0, 12:22, 18:30])
    assert np.abs(out[1:].astype(int) - single.astype(int)).max() <= 1
