"""The exported SavedModel, checked the way TF Serving runs it: reloaded in a fresh process,
through a TF1 Session by SignatureDef, from PredictRequest protos and REST JSON bodies."""

import base64
import json
import os
import subprocess
import sys

import numpy as np
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2, prediction_log_pb2

from gated_inpaint.testing import (
    assert_uint8_equal_up_to_rounding,
    decode_image,
    run_signature_def,
)

ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")


RELOAD_SCRIPT = """
import sys
import numpy as np
import tensorflow as tf

path, inputs, outputs = sys.argv[1:]
data = np.load(inputs, allow_pickle=True)
model = tf.saved_model.load(path)
tensors = model.signatures["inpaint_tensors"](
    image=tf.constant(data["image"]), mask=tf.constant(data["mask"]))
encoded = model.signatures["serving_default"](
    image_bytes=tf.constant(list(data["image_bytes"])),
    mask_bytes=tf.constant(list(data["mask_bytes"])))
np.savez(outputs, output=tensors["output"].numpy(),
         output_bytes=np.array(list(encoded["output_bytes"].numpy()), dtype=object),
         imported_gated_inpaint=any(m.startswith("gated_inpaint") for m in sys.modules))
"""


def test_fresh_process_reload_matches_in_memory_inpainting(
    export_path, data, bytes_request, expected, tmp_path
):
    inputs, outputs = tmp_path / "inputs.npz", tmp_path / "outputs.npz"
    np.savez(
        inputs,
        image=data["images"],
        mask=data["masks"],
        image_bytes=np.array(bytes_request["image_bytes"], dtype=object),
        mask_bytes=np.array(bytes_request["mask_bytes"], dtype=object),
    )
    command = [sys.executable, "-c", RELOAD_SCRIPT, export_path, str(inputs), str(outputs)]
    done = subprocess.run(command, capture_output=True, text=True, env=ENV, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = np.load(outputs, allow_pickle=True)
    assert not result["imported_gated_inpaint"]  # the SavedModel needs no Python code
    assert_uint8_equal_up_to_rounding(result["output"], expected["batch"])
    for png, want in zip(result["output_bytes"], expected["single"], strict=True):
        assert_uint8_equal_up_to_rounding(decode_image(png), want)


def test_tf1_session_by_signature_def(session, data, bytes_request, expected):
    _, signature_defs = session
    serving = signature_defs["serving_default"]
    assert serving.method_name == "tensorflow/serving/predict"
    assert {k: v.dtype for k, v in serving.inputs.items()} == {
        "image_bytes": tf.string.as_datatype_enum,
        "mask_bytes": tf.string.as_datatype_enum,
    }
    assert {k: v.dtype for k, v in serving.outputs.items()} == {
        "output_bytes": tf.string.as_datatype_enum
    }
    tensors = signature_defs["inpaint_tensors"]
    assert {k: v.dtype for k, v in tensors.inputs.items()} == {
        "image": tf.uint8.as_datatype_enum,
        "mask": tf.uint8.as_datatype_enum,
    }
    assert list(tensors.outputs) == ["output"]

    out = run_signature_def(
        session, "inpaint_tensors", {"image": data["images"], "mask": data["masks"]}
    )
    assert_uint8_equal_up_to_rounding(out["output"], expected["batch"])
    out = run_signature_def(session, "serving_default", bytes_request)
    for png, want in zip(out["output_bytes"], expected["single"], strict=True):
        assert_uint8_equal_up_to_rounding(decode_image(png), want)


def _predict_request(signature_name: str, inputs: dict) -> predict_pb2.PredictRequest:
    """A gRPC PredictRequest as a client builds it, after a trip over the wire."""
    request = predict_pb2.PredictRequest()
    request.model_spec.name = "gated_inpaint"
    request.model_spec.signature_name = signature_name
    for name, value in inputs.items():
        request.inputs[name].CopyFrom(tf.make_tensor_proto(value))
    return predict_pb2.PredictRequest.FromString(request.SerializeToString())


def _serve_predict(session, request: predict_pb2.PredictRequest) -> predict_pb2.PredictResponse:
    """What TF Serving does with a PredictRequest: TensorProtos to tensors, Session.run by
    the SignatureDef, outputs back to TensorProtos."""
    inputs = {name: tf.make_ndarray(proto) for name, proto in request.inputs.items()}
    outputs = run_signature_def(session, request.model_spec.signature_name, inputs)
    response = predict_pb2.PredictResponse()
    response.model_spec.CopyFrom(request.model_spec)
    for name, value in outputs.items():
        response.outputs[name].CopyFrom(tf.make_tensor_proto(value))
    return predict_pb2.PredictResponse.FromString(response.SerializeToString())


def test_grpc_predict_requests(session, data, bytes_request, expected):
    request = _predict_request("serving_default", bytes_request)
    assert request.inputs["image_bytes"].dtype == tf.string.as_datatype_enum
    response = _serve_predict(session, request)
    pngs = tf.make_ndarray(response.outputs["output_bytes"])
    for png, want in zip(pngs, expected["single"], strict=True):
        assert_uint8_equal_up_to_rounding(decode_image(png), want)

    request = _predict_request("inpaint_tensors", {"image": data["images"], "mask": data["masks"]})
    assert request.inputs["image"].dtype == tf.uint8.as_datatype_enum
    response = _serve_predict(session, request)
    assert_uint8_equal_up_to_rounding(
        tf.make_ndarray(response.outputs["output"]), expected["batch"]
    )


def _rest_predict(session, body: str) -> str:
    """TF Serving's REST `:predict` in row format, by its documented rules (api_rest.md).

    `{"b64": ...}` objects are bytes; each of `"instances"` holds one row of every named
    input, so the rows stack into the batch; other values take the SignatureDef's dtype.
    With a single output, `"predictions"` lists its rows without the output's name; an
    output whose name ends in `_bytes` is returned as `{"b64": ...}` objects.
    """
    request = json.loads(body)
    name = request.get("signature_name", "serving_default")
    signature = session[1][name]
    instances = request["instances"]

    def value(item):
        return base64.b64decode(item["b64"]) if isinstance(item, dict) else item

    inputs = {}
    for key, info in signature.inputs.items():
        dtype = tf.as_dtype(info.dtype)
        dtype = object if dtype == tf.string else dtype.as_numpy_dtype
        inputs[key] = np.array([value(row[key]) for row in instances], dtype=dtype)
    ((output_name, output),) = run_signature_def(session, name, inputs).items()
    if output_name.endswith("_bytes"):
        predictions = [{"b64": base64.b64encode(row).decode()} for row in output]
    else:
        predictions = output.tolist()
    return json.dumps({"predictions": predictions})


def test_rest_json_requests(session, data, bytes_request, expected):
    pairs = zip(bytes_request["image_bytes"], bytes_request["mask_bytes"], strict=True)
    instances = [
        {"image_bytes": {"b64": base64.b64encode(image).decode()},
         "mask_bytes": {"b64": base64.b64encode(mask).decode()}}
        for image, mask in pairs
    ]  # fmt: skip
    response = json.loads(_rest_predict(session, json.dumps({"instances": instances})))
    assert len(response["predictions"]) == 3
    for item, want in zip(response["predictions"], expected["single"], strict=True):
        assert_uint8_equal_up_to_rounding(decode_image(base64.b64decode(item["b64"])), want)

    body = {
        "signature_name": "inpaint_tensors",
        "instances": [{"image": data["images"][1].tolist(), "mask": data["masks"][1].tolist()}],
    }
    response = json.loads(_rest_predict(session, json.dumps(body)))
    assert_uint8_equal_up_to_rounding(
        np.array(response["predictions"]), expected["single"][2][None]
    )


def test_warmup_records_are_prediction_logs_that_run(export_path, session):
    path = os.path.join(export_path, "assets.extra", "tf_serving_warmup_requests")
    records = [r.numpy() for r in tf.data.TFRecordDataset(path)]
    logs = [prediction_log_pb2.PredictionLog.FromString(r) for r in records]
    assert [log.WhichOneof("log_type") for log in logs] == ["predict_log"] * 2
    assert [log.SerializeToString(deterministic=True) for log in logs] == records
    requests = [log.predict_log.request for log in logs]
    assert [r.model_spec.signature_name for r in requests] == ["serving_default", "inpaint_tensors"]
    assert sorted(requests[0].inputs) == ["image_bytes", "mask_bytes"]
    for request in requests:  # as TF Serving replays them when it loads the model
        response = _serve_predict(session, request)
        (output,) = response.outputs.values()
        assert output.tensor_shape.dim[0].size == 1
