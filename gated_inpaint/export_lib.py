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
import os
import re
import shutil

import h5py
import numpy as np
import tensorflow as tf

from gated_inpaint import convert, hd_strategy, precision, trainer
from gated_inpaint.hd_strategy import DEFAULT_HD, HDStrategy, inpaint_uint8_hd
from gated_inpaint.models import InpaintGenerator

SERVING_SIGNATURE = "serving_default"
TENSOR_SIGNATURE = "inpaint_tensors"
DEFAULT_MAX_PIXELS = 4096 * 4096
BYTES_THRESHOLD = 127  # decoded mask/edge value above which a pixel is hole/edge
WARMUP_FILE = os.path.join("assets.extra", "tf_serving_warmup_requests")
WARMUP_SIZE = (40, 56)
TEMP_PREFIX = ".tmp-"

# First bytes of PNG, JPEG, GIF and BMP files, as `tf.io.decode_image` tells them apart.
_IMAGE_SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF8", b"BM")
_FIRST_CONV = "conv1"


def _check(condition: tf.Tensor, *parts) -> tf.Operation:
    """An assertion failing with `parts` (strings and scalar tensors, no braces) as message."""
    template = "".join(p if isinstance(p, str) else "{}" for p in parts)
    values = [p for p in parts if not isinstance(p, str)]
    return tf.debugging.Assert(condition, [tf.strings.format(template, values)])


def _after(checks: list, *tensors: tf.Tensor) -> list[tf.Tensor]:
    """`tensors`, available only once every check has passed."""
    with tf.control_dependencies(checks):
        return [tf.identity(t) for t in tensors]


def _with_rank(x: tf.Tensor, rank: int, name: str, shape: str) -> tf.Tensor:
    """`x` once its rank is checked, with that rank as static shape.

    The static shape is set without an `EnsureShape` op: Grappler may run that one before
    the check, and its message would not say what the input should be.
    """
    check = _check(
        tf.equal(tf.rank(x), rank), f"{name} must have shape {shape}, got shape ", tf.shape(x)
    )
    (x,) = _after([check], x)
    x.set_shape([None] * rank)
    return x


def _encoded_size(data: tf.Tensor, name: tuple) -> tuple[tf.Tensor, tf.Tensor]:
    """`(data, [height, width])` of one PNG/JPEG/GIF/BMP, read from its header (no decoding).

    `data` is returned gated on the format check. The sizes are those the decoders use
    (PNG IHDR, JPEG SOF, BMP info header with the sign of the height giving the row order),
    except for GIF, whose logical screen size may differ from its decoded frame size.
    """
    head = tf.strings.substr(data, 0, 8)
    matches = tf.stack([tf.strings.substr(head, 0, len(s)) == s for s in _IMAGE_SIGNATURES])
    check = _check(
        tf.reduce_any(matches),
        *name,
        " is not a PNG, JPEG, GIF or BMP file (",
        tf.strings.length(data),
        " bytes; over REST, send the file base64-encoded in a b64 object)",
    )
    (data,) = _after([check], data)
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


def _same_size_checks(names: list, sizes: list) -> list:
    """Checks that the planes (mask, edge map) have the image's `[height, width]`."""
    return [
        _check(
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
        Inputs: `image_bytes` string `[B]`: PNG, JPEG, BMP or GIF (first frame), RGB.
        `mask_bytes` string `[B]`: same formats and size as its image; channel 0 is read
        and a value > 127 is a hole. (Not "nonzero": JPEG artefacts turn 0 into small
        nonzero values, so a JPEG mask only works thresholded; PNG masks are exact.)
        Guided generators only: `edge_bytes` string `[B]`, channel 0 > 127 = edge.
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
    """

    def __init__(
        self,
        generator: InpaintGenerator,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        hd: HDStrategy = DEFAULT_HD,
    ):
        super().__init__(name="gated_inpaint")
        if max_pixels < 1:
            raise ValueError(f"max_pixels must be positive, got {max_pixels}.")
        # The tf.Variables behind the Keras weights are tracked (saved). Tracking the Keras
        # model or its keras.Variables instead would add Keras' serving function, or a
        # second copy of every variable that a TF1 Session (TF Serving) never restores.
        self.generator_weights = [w.value for w in generator.weights]
        self._inpaint = functools.partial(inpaint_uint8_hd, generator, hd=hd)
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
        return _check(
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
            _with_rank(t, 4, n, f"[batch, height, width, {c}]")
            for t, n, c in zip([image, mask, edge], names, channels, strict=False)
        ]
        shapes = [tf.shape(t) for t in tensors]
        checks = [
            _check(shapes[0][0] > 0, "image has an empty batch: shape ", shapes[0]),
            _check(tf.reduce_all(shapes[0][1:3] > 0), "image is empty: shape ", shapes[0]),
            self._pixel_limit(("image",), [shapes[0][0], shapes[0][1], shapes[0][2]]),
        ]
        for name, c, shape in zip(names, channels, shapes, strict=False):
            checks.append(
                _check(tf.equal(shape[3], c), f"{name} must have {c} channel(s), got ", shape[3])
            )
            if name != "image":
                checks.append(
                    _check(
                        tf.reduce_all(tf.equal(shape[:3], shapes[0][:3])),
                        f"{name} has batch, height, width ",
                        shape[:3],
                        " but image has ",
                        shapes[0][:3],
                    )
                )
        tensors = _after(checks, *tensors)
        for t, c in zip(tensors, channels, strict=False):
            t.set_shape([None, None, None, c])
        return {"output": self._inpaint(*tensors)}

    def _serve_bytes(self, image_bytes, mask_bytes, edge_bytes=None):
        names = ["image_bytes", "mask_bytes", "edge_bytes"][: 2 if edge_bytes is None else 3]
        inputs = [
            _with_rank(t, 1, n, "[batch], one encoded image each")
            for t, n in zip([image_bytes, mask_bytes, edge_bytes], names, strict=False)
        ]
        count = tf.shape(inputs[0])[0]
        checks = [
            _check(
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
            (tf.range(count), *_after(checks, *inputs)),
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
        encoded, sizes = zip(*map(_encoded_size, encoded, names), strict=False)
        checks = [self._pixel_limit(n, [s[0], s[1]]) for n, s in zip(names, sizes, strict=False)]
        image, *planes = _after(checks, *encoded)
        image = tf.io.decode_image(image, channels=3, dtype=tf.uint8, expand_animations=False)
        planes = [
            tf.io.decode_image(p, channels=0, dtype=tf.uint8, expand_animations=False)[..., :1]
            for p in planes
        ]
        sizes = [tf.shape(x)[:2] for x in [image, *planes]]
        checks = [
            self._pixel_limit(names[0], [sizes[0][0], sizes[0][1]]),
            *_same_size_checks(names, sizes),
        ]
        image, *planes = _after(checks, image, *planes)
        planes = [tf.cast(p > BYTES_THRESHOLD, tf.uint8)[None] for p in planes]
        return tf.io.encode_png(self._inpaint(image[None], *planes)[0])


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _proto_field(number: int, payload: bytes) -> bytes:
    """One length-delimited protobuf field (wire type 2: string, bytes or message)."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _predict_log_record(signature_name: str, inputs: dict[str, np.ndarray]) -> bytes:
    """A serialized `tensorflow.serving.PredictionLog` holding one `PredictRequest`.

    Encoded field by field (PredictionLog.predict_log = 6 -> PredictLog.request = 1 ->
    PredictRequest {model_spec = 1 {signature_name = 3}, inputs = 2: map<string,
    TensorProto>}), so exporting does not need the tensorflow-serving-api package.
    """
    request = _proto_field(1, _proto_field(3, signature_name.encode()))
    for name in sorted(inputs):
        tensor = tf.make_tensor_proto(inputs[name]).SerializeToString()
        request += _proto_field(2, _proto_field(1, name.encode()) + _proto_field(2, tensor))
    return _proto_field(6, _proto_field(1, request))


def _warmup_requests(guided: bool) -> list[bytes]:
    """PredictionLog records for both signatures on one small image with a hole.

    TF Serving replays them when it loads the model, so the first real request does not
    pay for graph optimisation and kernel initialisation.
    """
    height, width = WARMUP_SIZE
    ramp = np.linspace(0, 255, width, dtype=np.float32)
    image = np.stack([np.broadcast_to(ramp, (height, width))] * 3, axis=-1).astype(np.uint8)
    mask = np.zeros((height, width, 1), np.uint8)
    mask[height // 4 : height // 2, width // 4 : width // 2] = 255
    planes = {"mask": mask, "edge": np.zeros_like(mask)} if guided else {"mask": mask}
    encoded = {
        f"{name}_bytes": np.array([tf.io.encode_png(pixels).numpy()], dtype=object)
        for name, pixels in {"image": image, **planes}.items()
    }
    tensors = {name: pixels[None] for name, pixels in {"image": image, **planes}.items()}
    return [
        _predict_log_record(SERVING_SIGNATURE, encoded),
        _predict_log_record(TENSOR_SIGNATURE, tensors),
    ]


def next_version(export_dir: str) -> int:
    """1 + the largest numeric subdirectory of `export_dir` (1 if there is none)."""
    if not os.path.isdir(export_dir):
        return 1
    versions = [
        int(name)
        for name in os.listdir(export_dir)
        if name.isdigit() and os.path.isdir(os.path.join(export_dir, name))
    ]
    return max(versions, default=0) + 1


def export_saved_model(
    generator: InpaintGenerator,
    export_dir: str,
    version: int | None = None,
    overwrite: bool = False,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    hd: HDStrategy = DEFAULT_HD,
    compute_precision: str = "float32",
) -> str:
    """Writes the SavedModel of `generator` into `export_dir/<version>/`, atomically.

    The model is written into the sibling `export_dir/.tmp-<version>-<pid>` (TF Serving
    only looks at numeric names) and renamed into place, so a server polling
    `export_dir` never sees a half-written version. The temporary directory is removed
    on failure.

    Args:
        generator: a built `InpaintGenerator` taking RGB.
        export_dir: the model's base directory (TF Serving's `--model_base_path`).
        version: the version number; default `next_version(export_dir)`.
        overwrite: replace an existing version (the old one is renamed aside, the new
            one renamed in, then the old one deleted).
        max_pixels, hd: see `InpaintServingModule`.
        compute_precision: `"float32"`, `"bfloat16"` or `"float16"` (`precision.PRECISIONS`):
            the precision the exported graph computes in; the weights are saved as float32.

    Returns:
        The version directory written.

    Raises:
        FileExistsError: the version exists and `overwrite` is false.
    """
    if version is not None and version < 0:
        raise ValueError(f"--version must be a non-negative integer, got {version}.")
    os.makedirs(export_dir, exist_ok=True)
    version = next_version(export_dir) if version is None else version
    final = os.path.join(export_dir, str(version))
    if os.path.exists(final) and not overwrite:
        raise FileExistsError(
            f"{final} exists; pass --overwrite to replace it, or omit --version to write "
            f"version {next_version(export_dir)}."
        )
    generator = precision.with_precision(generator, compute_precision)
    module = InpaintServingModule(generator, max_pixels, hd)
    temp = os.path.join(export_dir, f"{TEMP_PREFIX}{version}-{os.getpid()}")
    old = os.path.join(export_dir, f".old-{version}-{os.getpid()}")
    try:
        tf.saved_model.save(module, temp, signatures=module.signatures())
        os.makedirs(os.path.dirname(os.path.join(temp, WARMUP_FILE)))
        with tf.io.TFRecordWriter(os.path.join(temp, WARMUP_FILE)) as writer:
            for record in _warmup_requests(module.guided):
                writer.write(record)
        _move_into_place(temp, final, old if overwrite else None)
    finally:
        if os.path.exists(temp):
            shutil.rmtree(temp)
    return final


def _move_into_place(temp: str, final: str, old: str | None) -> None:
    """Renames `temp` to `final`; an existing `final` is first renamed to `old` if given."""
    if old is not None and os.path.exists(final):
        os.rename(final, old)
        try:
            os.rename(temp, final)
        except OSError:
            os.rename(old, final)
            raise
        shutil.rmtree(old)
        return
    try:
        os.rename(temp, final)
    except OSError as error:
        raise FileExistsError(
            f"{final} appeared while exporting; nothing was overwritten ({error})."
        ) from error


def _settings(found: dict, cnum: int | None, guided: bool | None, source: str) -> dict:
    """cnum and guided: what the source says, else the arguments, else the training defaults."""
    settings = {"cnum": trainer.TrainConfig.cnum, "guided": trainer.TrainConfig.guided}
    for key, value in {"cnum": cnum, "guided": guided}.items():
        if key in found and value is not None and value != found[key]:
            raise ValueError(f"--{key}={value} disagrees with {source}, where {key}={found[key]}.")
        settings[key] = found.get(key, settings[key] if value is None else value)
    return settings


def _read_train_flags(model_dir: str) -> dict:
    """`cnum` and `guided` from the `flags.txt` train.py writes into `model_dir` ({} if none)."""
    path = os.path.join(model_dir, "flags.txt")
    if not os.path.exists(path):
        return {}
    found = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if match := re.fullmatch(r"--cnum=(\d+)", line):
                found["cnum"] = int(match[1])
            elif line in ("--guided", "--noguided"):
                found["guided"] = line == "--guided"
    return found


def generator_from_model_dir(
    model_dir: str, cnum: int | None = None, guided: bool | None = None
) -> InpaintGenerator:
    """The generator of the latest training checkpoint in `model_dir`.

    cnum and guided come from `model_dir/flags.txt`, else from the arguments, else the
    training defaults (48, False). Only the generator is restored: the discriminator and
    optimizers in the checkpoint are ignored.
    """
    prefix = tf.train.latest_checkpoint(model_dir)
    if prefix is None:
        raise FileNotFoundError(
            f"No training checkpoint in {model_dir} (expected the 'checkpoint' file that "
            f"train.py writes beside ckpt-N.index)."
        )
    flags_file = os.path.join(model_dir, "flags.txt")
    settings = _settings(_read_train_flags(model_dir), cnum, guided, flags_file)
    model = trainer.build_model(trainer.TrainConfig(data="", model_dir=model_dir, **settings))
    networks = trainer.make_checkpoint(model).networks
    generator_only = tf.train.Checkpoint(
        networks={k: v for k, v in networks.items() if k.startswith("generator/")}
    )
    try:
        generator_only.restore(prefix).expect_partial().assert_existing_objects_matched()
    except (AssertionError, ValueError) as error:
        raise ValueError(
            f"The checkpoint {prefix} does not hold a generator with cnum={settings['cnum']}, "
            f"guided={settings['guided']} (set them with --cnum/--guided, or check "
            f"{flags_file}). Details: {error}"
        ) from error
    return model.generator


def weights_file_settings(path: str) -> dict:
    """`{"cnum", "guided"}` of the `InpaintGenerator` whose Keras `.weights.h5` file is `path`.

    Keras stores a layer's variables in a group named `vars` whose `name` attribute is
    the layer name, the kernel as dataset `0`; conv1's kernel is `[5, 5, 5 or 6, cnum]`.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No weights file at {path}.")
    kernels = []

    def visit(name, item):
        if isinstance(item, h5py.Group) and item.attrs.get("name") == _FIRST_CONV and "0" in item:
            kernels.append(item["0"].shape)

    try:
        with h5py.File(path, "r") as f:
            f.visititems(visit)
    except OSError as error:
        raise ValueError(f"{path} is not a Keras weights (HDF5) file: {error}") from error
    kernels = [k for k in kernels if len(k) == 4 and k[2] in (5, 6)]
    if len(kernels) != 1:
        raise ValueError(
            f"{path} is not an InpaintGenerator weights file: expected one {_FIRST_CONV!r} "
            f"kernel of shape [5, 5, 5 or 6, cnum], found {len(kernels)}."
        )
    _, _, channels_in, cnum = kernels[0]
    return {"cnum": int(cnum), "guided": channels_in == 6}


def generator_from_weights(
    path: str, cnum: int | None = None, guided: bool | None = None
) -> InpaintGenerator:
    """A generator loaded from a Keras `.weights.h5` file of an `InpaintGenerator`.

    cnum and guided are read from the shape of conv1's kernel in the file.
    """
    if not path.endswith(".weights.h5"):
        raise ValueError(f"{path}: expected a Keras generator weights file (*.weights.h5).")
    found = weights_file_settings(path)
    generator = InpaintGenerator(**_settings(found, cnum, guided, path))
    generator.build((1, None, None, 3))
    generator.load_weights(path)
    return generator


def generator_from_official(
    path: str, cnum: int | None = None, guided: bool | None = None
) -> InpaintGenerator:
    """A generator converted (to RGB) from an official DeepFill v2 TF1 checkpoint."""
    _settings(convert.inspect_generator(path), cnum, guided, path)  # cnum/guided must agree
    return convert.generator_from_official_checkpoint(path, channel_order="rgb")


def load_generator(
    model_dir: str | None = None,
    weights: str | None = None,
    official_checkpoint: str | None = None,
    cnum: int | None = None,
    guided: bool | None = None,
) -> InpaintGenerator:
    """The generator from exactly one source: a training `model_dir`, a converted
    `weights` file or an `official_checkpoint`; `cnum`/`guided` must agree with it."""
    sources = {
        "--model_dir": (model_dir, generator_from_model_dir),
        "--weights": (weights, generator_from_weights),
        "--official_checkpoint": (official_checkpoint, generator_from_official),
    }
    given = [flag for flag, (value, _) in sources.items() if value]
    if len(given) != 1:
        raise ValueError(
            f"Give exactly one of {', '.join(sources)}; got "
            f"{' and '.join(given) if given else 'none'}."
        )
    value, load = sources[given[0]]
    return load(value, cnum=cnum, guided=guided)


def add_export_arguments(parser) -> None:
    """Adds the arguments of `gated-inpaint export` (the flags of export.py) to `parser`."""
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--model_dir", help="training directory: its latest checkpoint")
    source.add_argument("--weights", help="generator weights file (*.weights.h5)")
    source.add_argument("--official_checkpoint", help="official DeepFill v2 TF1 checkpoint")
    parser.add_argument(
        "--export_dir",
        required=True,
        help="model base directory; the version goes into a numbered subfolder",
    )
    parser.add_argument("--version", type=int, help="version number (default: the next one)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing version")
    parser.add_argument(
        "--max_pixels",
        type=int,
        default=DEFAULT_MAX_PIXELS,
        help="most pixels of one request image (serving_default) or batch (inpaint_tensors); "
        "larger requests fail",
    )
    hd_strategy.add_hd_arguments(parser)
    precision.add_precision_argument(parser)
    parser.add_argument("--cnum", type=int, help="generator width if the source does not say it")
    parser.add_argument(
        "--guided",
        action="store_true",
        default=None,
        help="the generator takes an edge map (if the source does not say it)",
    )


def run_export(args) -> str:
    """`gated-inpaint export`: exports the generator of one source; returns the version path."""
    generator = load_generator(
        model_dir=args.model_dir, weights=args.weights,
        official_checkpoint=args.official_checkpoint, cnum=args.cnum, guided=args.guided,
    )  # fmt: skip
    return export_saved_model(generator, args.export_dir, version=args.version,
                              overwrite=args.overwrite, max_pixels=args.max_pixels,
                              hd=hd_strategy.hd_from_args(args),
                              compute_precision=args.precision)  # fmt: skip
