"""The generator's default width, importable without TensorFlow (the commands' --help and
`TrainConfig` show it)."""

DEFAULT_CNUM = 48  # the official width
