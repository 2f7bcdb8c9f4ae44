"""The default pixel limits of the exports, importable without TensorFlow (the commands' --help
shows them)."""

DEFAULT_MAX_PIXELS = 4096 * 4096  # SavedModel: pixels of one network run
# LiteRT keeps every intermediate of a graph with unknown sizes, so memory grows faster than in
# TensorFlow: cnum=48 float32 peaked at 1.0 GB at 512x512, 1.8-1.9 GB at 640x640 (the default
# limit) and 2.4 GB at 704x704 (bench/device_formats.py --probe).
LITERT_MAX_PIXELS = 640 * 640
# onnxruntime's memory grows linearly with the pixels (cnum=48 float32: 0.5 GB at 512x512,
# 1.05 GB at 768x768, 1.9 GB at 960x960, the default limit, 2.0 GB at 1024x1024).
ONNX_MAX_PIXELS = 960 * 960
