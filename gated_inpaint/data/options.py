"""The choices of the training data's options, importable without TensorFlow (train.py's
--help shows them)."""

MASK_TYPES = ("union", "strokes", "bbox")  # data.masks.mask_dataset
CROP_MODES = ("random_crop", "resize")  # data.pipeline.make_dataset
