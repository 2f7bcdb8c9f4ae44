"""TensorFlow Datasets sources (`tfds:NAME[:SPLIT]`), read from a data folder, downloaded only
when asked."""

from __future__ import annotations

import re

import tensorflow as tf

TFDS_PREFIX = "tfds:"
TFDS_SHUFFLE_BUFFER = 512
_TFDS_SPEC = re.compile(r"^(?P<name>[^:\[\]]+(?::[\d*]+(?:\.[\d*]+)*)?)(?::(?P<split>.+))?$")


def parse_tfds(source: str) -> tuple[str, str]:
    match = _TFDS_SPEC.match(source[len(TFDS_PREFIX) :])
    if not match:
        raise ValueError(f"Cannot parse {source!r}: expected tfds:NAME[:SPLIT].")
    return match["name"], match["split"] or "train"


def tfds_builder(source: str, data_dir: str | None, download: bool):
    """The `tfds` builder of `source`, checked: the dataset exists, is prepared in `data_dir`
    (or `download` allows preparing it) and has an "image" feature. Downloads nothing.

    Raises:
        ValueError: no such dataset, or no image feature.
        FileNotFoundError: not prepared and `download` is False (the message says how to fix).
    """
    import tensorflow_datasets as tfds

    name, _ = parse_tfds(source)
    try:
        builder = tfds.builder(name, data_dir=data_dir)
    except tfds.core.registered.DatasetNotFoundError as e:
        raise ValueError(f"{source!r}: TFDS has no dataset named {name!r}.") from e
    if not builder.is_prepared() and not download:
        raise FileNotFoundError(
            f"TFDS dataset {name!r} is not prepared in {builder.data_dir} "
            f"(data_dir={data_dir!r}; unset means $TFDS_DATA_DIR or ~/tensorflow_datasets). "
            "Nothing is downloaded unless asked: run with --tfds_download "
            f"(tfds_download=True), or prepare it first with `tfds build {name} "
            "--data_dir=DIR`, or pass --data_dir pointing at a folder that already holds it."
        )
    if "image" not in builder.info.features:
        raise ValueError(
            f"{source!r} has no 'image' feature (features: {sorted(builder.info.features)})."
        )
    return builder


def tfds_records(
    source: str,
    data_dir: str | None,
    download: bool,
    training: bool,
    seed: int,
    input_context: tf.distribute.InputContext | None,
) -> tf.data.Dataset:
    """Encoded images of a TFDS split as {"name": tfds_id, "data": bytes, "edge": ""}."""
    import tensorflow_datasets as tfds

    builder = tfds_builder(source, data_dir, download)
    if not builder.is_prepared():
        builder.download_and_prepare()
    _, split = parse_tfds(source)
    if input_context is not None and input_context.num_input_pipelines > 1:
        split = tfds.even_splits(split, n=input_context.num_input_pipelines)[
            input_context.input_pipeline_id
        ]
    ds = builder.as_dataset(
        split=split,
        shuffle_files=training,
        decoders={"image": tfds.decode.SkipDecoding()},
        read_config=tfds.ReadConfig(shuffle_seed=seed, add_tfds_id=True),
    )
    ds = ds.map(lambda ex: {"name": ex["tfds_id"], "data": ex["image"], "edge": ""})
    if training:
        ds = ds.shuffle(TFDS_SHUFFLE_BUFFER, seed=seed).repeat()
    return ds
