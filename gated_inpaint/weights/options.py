"""The choices of the weights' options, importable without TensorFlow (the commands' --help
shows them)."""

CHANNEL_ORDERS = ("rgb", "bgr")  # colour orders an official checkpoint converts to
