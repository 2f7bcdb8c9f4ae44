r"""TF Serving SavedModels of an `InpaintGenerator`: the serving module (two signatures,
inputs validated in the graph), its warm-up requests, and atomic versioned export.

Written in TF Serving's layout: `EXPORT_DIR/<version>/` with `saved_model.pb`, `variables/`
and `assets.extra/tf_serving_warmup_requests`. Serve it (REST on port 8501; add
`-p 8500:8500` for gRPC):

    docker run -p 8501:8501 -v $PWD/exports/gated_inpaint:/models/gated_inpaint \
        -e MODEL_NAME=gated_inpaint tensorflow/serving

and fill the white pixels of `mask.png` in `photo.png` over REST (bytes go in as
`{"b64": ...}` objects; `output_bytes` comes back as one because its name ends in `_bytes`):

    python3 -c 'import base64, json; print(json.dumps({"instances": [{
        key: {"b64": base64.b64encode(open(path, "rb").read()).decode()}
        for key, path in [("image_bytes", "photo.png"), ("mask_bytes", "mask.png")]}]}))' \
        > request.json
    curl -s -X POST -H 'Content-Type: application/json' -d @request.json \
        http://localhost:8501/v1/models/gated_inpaint:predict > response.json
    python3 -c 'import base64, json; open("filled.png", "wb").write(base64.b64decode(
        json.load(open("response.json"))["predictions"][0]["b64"]))'

A rejected request gets HTTP 400 with `{"error": "assertion failed: [mask_bytes[0] is
30x50 pixels but its image is 37x50] ..."}` (gRPC: status INVALID_ARGUMENT, same message).
"""

from __future__ import annotations

import functools

import tensorflow as tf

from gated_inpaint.inference.hd_strategy import inpaint_uint8_hd
from gated_inpaint.inference.options import (
    DEFAULT_HD,
    SERVING_SIGNATURE,
    TENSOR_SIGNATURE,
    HDStrategy,
)
from gated_inpaint.inference.xla import compilable
from gated_inpaint.models import InpaintGenerator
from gated_inpaint.serving.graph_checks import (
    after_checks,
    check,
    encoded_size,
    same_size_checks,
    with_rank,
)
from gated_inpaint.serving.options import DEFAULT_MAX_PIXELS

BYTES_THRESHOLD = 127  # decoded mask/edge value above which a pixel is hole/edge


def painted(plane: tf.Tensor) -> tf.Tensor:
    """bool `[H, W]` of a decoded 8-bit mask or edge map `[H, W, C]` (C = 1 to 4), by the input
    rules (`inference.input_rules`): with transparent pixels (C = 2 or 4), the opaque ones;
    otherwise those whose brightest colour channel is above `BYTES_THRESHOLD`."""
    channels = tf.shape(plane)[-1]
    has_alpha = tf.logical_or(tf.equal(channels, 2), tf.equal(channels, 4))
    colours = tf.where(has_alpha, channels - 1, channels)
    brightest = tf.reduce_max(plane[..., :colours], axis=-1)
    alpha = plane[..., -1]
    transparent = tf.logical_and(has_alpha, tf.reduce_min(alpha) <= BYTES_THRESHOLD)
    return tf.where(transparent, alpha > BYTES_THRESHOLD, brightest > BYTES_THRESHOLD)


class InpaintServingModule(tf.Module):
    """The served graph: a generator behind two signatures that validate their inputs.

    Both signatures run `hd_strategy.inpaint_uint8_hd` (images above `hd.max_size` cropped
    or scaled as `hd` says; reflect-pad to a multiple of 8, generator, known pixels
    unchanged, crop back); batch, height and width are dynamic.
    An invalid input fails the request with an `InvalidArgument` error naming the input
    and what is wrong, e.g. `assertion failed: [mask_bytes[1] is 30x40 pixels but its image
    is 37x50]`; the module keeps serving.

    `serving_default` (`serve_bytes`): encoded images, one network run per image (one at a
    time, which bounds memory), so the images of one request may differ in size.
        Inputs: `image_bytes` string `[B]`: PNG, JPEG, BMP or GIF (first frame), RGB; a
        16-bit PNG is scaled to 8 bits. EXIF orientation is NOT applied (a graph cannot
        read it): send photos upright, as the editor and `Inpainter` do.
        `mask_bytes` string `[B]`: same formats and size as its image; a hole where the
        brightest colour channel is above 127 (white or any bright stroke; thresholded, so
        JPEG masks work), or, for a mask with transparent pixels, where it is opaque
        (`painted`, the input rules of `inference.input_rules`).
        Guided generators only: `edge_bytes` string `[B]`, read like the mask.
        Output: `output_bytes` string `[B]`: PNG, RGB, the size of its image.

    `inpaint_tensors`: decoded pixels, one network run for the whole batch.
        Inputs: `image` uint8 `[B, H, W, 3]` RGB; `mask` uint8 `[B, H, W, 1]`, nonzero =
        hole; guided only: `edge` uint8 `[B, H, W, 1]`, nonzero = edge.
        Output: `output` uint8 `[B, H, W, 3]`.

    The SignatureDefs declare no shapes (unknown rank): shapes are checked in the graph,
    so a wrongly shaped tensor gets a message naming the expected shape rather than an
    error from inside the network.

    Args:
        generator: a built `InpaintGenerator` taking RGB.
        max_pixels: most pixels one network run may get (`height * width` of each image
            for `serving_default`, `batch * height * width` for `inpaint_tensors`), saved
            as the variable `max_pixels`. Images above `hd.max_size` run at most at that
            size with the default `crop` strategy (see `hd_strategy`).
        hd: how images larger than `hd.max_size` are filled (`hd_strategy.HDStrategy`).
        jit_compile: the network step compiled by XLA at each size it meets (`inference.xla`),
            e.g. for TF Serving on GPU; the generator is then copied by `xla.compilable`.
    """

    def __init__(
        self,
        generator: InpaintGenerator,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        hd: HDStrategy = DEFAULT_HD,
        jit_compile: bool = False,
    ):
        super().__init__(name="gated_inpaint")
        if max_pixels < 1:
            raise ValueError(f"max_pixels must be positive, got {max_pixels}.")
        # The tf.Variables behind the Keras weights are tracked (saved). Tracking the Keras
        # model or its keras.Variables instead would add Keras' serving function, or a
        # second copy of every variable that a TF1 Session (TF Serving) never restores.
        if jit_compile:
            generator = compilable(generator)
        self.generator_weights = [w.value for w in generator.weights]
        self._inpaint = functools.partial(
            inpaint_uint8_hd, generator, hd=hd, jit_compile=jit_compile
        )
        self.max_pixels = tf.Variable(max_pixels, dtype=tf.int64, trainable=False)
        self.guided = generator.guided
        planes = ["mask", "edge"] if self.guided else ["mask"]
        self.serve_bytes = tf.function(
            self._serve_bytes,
            autograph=False,
            input_signature=[
                tf.TensorSpec(None, tf.string, name=f"{name}_bytes") for name in ["image", *planes]
            ],
        )
        self.inpaint_tensors = tf.function(
            self._inpaint_tensors,
            autograph=False,
            input_signature=[tf.TensorSpec(None, tf.uint8, name=n) for n in ["image", *planes]],
        )

    def signatures(self) -> dict:
        """The functions to save as SignatureDefs, by signature name."""
        return {SERVING_SIGNATURE: self.serve_bytes, TENSOR_SIGNATURE: self.inpaint_tensors}

    def _pixel_limit(self, name: tuple, dims: list) -> tf.Operation:
        """Checks that one network run gets at most `max_pixels` pixels (`prod(dims)`)."""
        dims = [tf.cast(d, tf.int64) for d in dims]
        shape = [part for d in dims for part in ("x", d)][1:]
        pixels = functools.reduce(tf.multiply, dims)
        return check(
            pixels <= self.max_pixels,
            *name,
            " is ",
            *shape,
            " = ",
            pixels,
            " pixels, above the limit of ",
            self.max_pixels,
            " set at export (--max_pixels)",
        )

    def _inpaint_tensors(self, image, mask, edge=None):
        names = ["image", "mask", "edge"][: 2 if edge is None else 3]
        channels = [3, 1, 1]
        tensors = [
            with_rank(t, 4, n, f"[batch, height, width, {c}]")
            for t, n, c in zip([image, mask, edge], names, channels, strict=False)
        ]
        shapes = [tf.shape(t) for t in tensors]
        checks = [
            check(shapes[0][0] > 0, "image has an empty batch: shape ", shapes[0]),
            check(tf.reduce_all(shapes[0][1:3] > 0), "image is empty: shape ", shapes[0]),
            self._pixel_limit(("image",), [shapes[0][0], shapes[0][1], shapes[0][2]]),
        ]
        for name, c, shape in zip(names, channels, shapes, strict=False):
            checks.append(
                check(tf.equal(shape[3], c), f"{name} must have {c} channel(s), got ", shape[3])
            )
            if name != "image":
                checks.append(
                    check(
                        tf.reduce_all(tf.equal(shape[:3], shapes[0][:3])),
                        f"{name} has batch, height, width ",
                        shape[:3],
                        " but image has ",
                        shapes[0][:3],
                    )
                )
        tensors = after_checks(checks, *tensors)
        for t, c in zip(tensors, channels, strict=False):
            t.set_shape([None, None, None, c])
        return {"output": self._inpaint(*tensors)}

    def _serve_bytes(self, image_bytes, mask_bytes, edge_bytes=None):
        names = ["image_bytes", "mask_bytes", "edge_bytes"][: 2 if edge_bytes is None else 3]
        inputs = [
            with_rank(t, 1, n, "[batch], one encoded image each")
            for t, n in zip([image_bytes, mask_bytes, edge_bytes], names, strict=False)
        ]
        count = tf.shape(inputs[0])[0]
        checks = [
            check(
                tf.equal(tf.shape(t)[0], count),
                f"{name} has ",
                tf.shape(t)[0],
                " entries but image_bytes has ",
                count,
            )
            for t, name in zip(inputs[1:], names[1:], strict=True)
        ]
        outputs = tf.map_fn(
            lambda args: self._inpaint_encoded(*args),
            (tf.range(count), *after_checks(checks, *inputs)),
            fn_output_signature=tf.TensorSpec([], tf.string),
            parallel_iterations=1,
        )
        return {"output_bytes": outputs}

    def _inpaint_encoded(self, index, *encoded):
        """PNG of one filled image from its encoded image, mask (and edge map).

        Each file's header must claim at most `max_pixels` before it is decoded, so a small
        file that would decode to a huge image is refused; sizes are then checked on the
        decoded pixels (a GIF decodes to its frame size, whatever its header says).
        """
        names = [(f"{n}[", index, "]") for n in ["image_bytes", "mask_bytes", "edge_bytes"]]
        encoded, sizes = zip(*map(encoded_size, encoded, names), strict=False)
        checks = [self._pixel_limit(n, [s[0], s[1]]) for n, s in zip(names, sizes, strict=False)]
        image, *planes = after_checks(checks, *encoded)
        image = tf.io.decode_image(image, channels=3, dtype=tf.uint8, expand_animations=False)
        planes = [
            tf.io.decode_image(p, channels=0, dtype=tf.uint8, expand_animations=False)
            for p in planes
        ]
        sizes = [tf.shape(x)[:2] for x in [image, *planes]]
        checks = [
            self._pixel_limit(names[0], [sizes[0][0], sizes[0][1]]),
            *same_size_checks(names, sizes),
        ]
        image, *planes = after_checks(checks, image, *planes)
        planes = [tf.cast(painted(p), tf.uint8)[None, ..., None] for p in planes]
        return tf.io.encode_png(self._inpaint(image[None], *planes)[0])
