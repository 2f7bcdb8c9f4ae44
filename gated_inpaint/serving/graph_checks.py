"""Input checks inside the served graph: assertions whose messages name the input and say
what is wrong, and the size of an encoded image read from its header."""

from __future__ import annotations

import tensorflow as tf

# First bytes of PNG, JPEG, GIF and BMP files, as `tf.io.decode_image` tells them apart.
IMAGE_SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF8", b"BM")


def check(condition: tf.Tensor, *parts) -> tf.Operation:
    """An assertion failing with `parts` (strings and scalar tensors, no braces) as message."""
    template = "".join(p if isinstance(p, str) else "{}" for p in parts)
    values = [p for p in parts if not isinstance(p, str)]
    return tf.debugging.Assert(condition, [tf.strings.format(template, values)])


def after_checks(checks: list, *tensors: tf.Tensor) -> list[tf.Tensor]:
    """`tensors`, available only once every check has passed."""
    with tf.control_dependencies(checks):
        return [tf.identity(t) for t in tensors]


def with_rank(x: tf.Tensor, rank: int, name: str, shape: str) -> tf.Tensor:
    """`x` once its rank is checked, with that rank as static shape.

    The static shape is set without an `EnsureShape` op: Grappler may run that one before
    the check, and its message would not say what the input should be.
    """
    rank_check = check(
        tf.equal(tf.rank(x), rank), f"{name} must have shape {shape}, got shape ", tf.shape(x)
    )
    (x,) = after_checks([rank_check], x)
    x.set_shape([None] * rank)
    return x


def encoded_size(data: tf.Tensor, name: tuple) -> tuple[tf.Tensor, tf.Tensor]:
    """`(data, [height, width])` of one PNG/JPEG/GIF/BMP, read from its header (no decoding).

    `data` is returned gated on the format check. The sizes are those the decoders use
    (PNG IHDR, JPEG SOF, BMP info header with the sign of the height giving the row order),
    except for GIF, whose logical screen size may differ from its decoded frame size.
    """
    head = tf.strings.substr(data, 0, 8)
    matches = tf.stack([tf.strings.substr(head, 0, len(s)) == s for s in IMAGE_SIGNATURES])
    format_check = check(
        tf.reduce_any(matches),
        *name,
        " is not a PNG, JPEG, GIF or BMP file (",
        tf.strings.length(data),
        " bytes; over REST, send the file base64-encoded in a b64 object)",
    )
    (data,) = after_checks([format_check], data)
    padded = tf.strings.join([tf.strings.substr(data, 0, 26), "\0" * 26])
    b = tf.cast(tf.io.decode_raw(tf.strings.substr(padded, 0, 26), tf.uint8), tf.int64)

    def little(i, n):
        return sum(b[i + k] * 256**k for k in range(n))

    def big(i, n):
        return sum(b[i + k] * 256 ** (n - 1 - k) for k in range(n))

    def bmp_side(i):
        value = little(i, 4)
        return tf.abs(tf.where(value >= 2**31, value - 2**32, value))

    size = tf.switch_case(
        tf.argmax(tf.cast(matches, tf.int32), output_type=tf.int32),
        [
            lambda: tf.stack([big(20, 4), big(16, 4)]),
            lambda: tf.cast(tf.io.extract_jpeg_shape(data)[:2], tf.int64),
            lambda: tf.stack([little(8, 2), little(6, 2)]),
            lambda: tf.stack([bmp_side(22), bmp_side(18)]),
        ],
    )
    return data, size


def same_size_checks(names: list, sizes: list) -> list:
    """Checks that the planes (mask, edge map) have the image's `[height, width]`."""
    return [
        check(
            tf.reduce_all(tf.equal(size, sizes[0])),
            *name,
            " is ",
            size[0],
            "x",
            size[1],
            " pixels but its image is ",
            sizes[0][0],
            "x",
            sizes[0][1],
        )
        for name, size in zip(names[1:], sizes[1:], strict=False)
    ]
