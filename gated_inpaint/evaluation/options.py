"""Limits of the evaluation options, importable without TensorFlow (`gated-inpaint masks
--help` shows them)."""

MIN_SIZE = 32  # smallest side of a mask set's masks (`mask_set.bucket_mask`)
