"""TF Serving warm-up requests (`assets.extra/tf_serving_warmup_requests`): one small request
per signature, replayed by the server when it loads the model."""

from __future__ import annotations

import os

import numpy as np
import tensorflow as tf

from gated_inpaint.inference.options import SERVING_SIGNATURE, TENSOR_SIGNATURE

WARMUP_FILE = os.path.join("assets.extra", "tf_serving_warmup_requests")
WARMUP_SIZE = (40, 56)


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


def predict_log_record(signature_name: str, inputs: dict[str, np.ndarray]) -> bytes:
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


def warmup_requests(guided: bool) -> list[bytes]:
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
        predict_log_record(SERVING_SIGNATURE, encoded),
        predict_log_record(TENSOR_SIGNATURE, tensors),
    ]
