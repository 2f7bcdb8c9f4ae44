"""The generator's default width and size rule, importable without TensorFlow (the commands'
--help and `TrainConfig` use them)."""

DEFAULT_CNUM = 48  # the official width
SIZE_MULTIPLE = 8  # image sides the generator takes are multiples of this
