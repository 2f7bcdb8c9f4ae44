"""Starting TensorFlow for a command: its start-up and information lines kept off the
terminal unless `--verbose`.

On import and on its first device query TensorFlow's C++ side writes to the process's stderr
(file descriptor 2), before and around `absl::InitializeLog`, so `TF_CPP_MIN_LOG_LEVEL` does
not hold all of it back: that oneDNN is on, that no CUDA driver was found, which CPU
instructions the binary could use, and on CPU-only machines an error line, `failed call to
cuInit`. The commands import TensorFlow with descriptor 2 redirected to a temporary file, then
write back every line of it that is not one of these. (`TF_CPP_MIN_LOG_LEVEL` does hold back
the `cuInit` line, but only at 3, which hides every C++ error too.)
"""

from __future__ import annotations

import functools
import logging
import os
import re
import sys
import tempfile

from gated_inpaint.commands.flags import Flag

VERBOSE_FLAG = Flag(
    "verbose",
    "Show TensorFlow's start-up and information lines (hidden by default; its warnings and "
    "errors always show).",
    kind=bool,
    default=False,
)
# What TensorFlow always says at start-up, by its C++ source file or its own text.
START_UP_LINES = re.compile(
    r"WARNING: All log messages before absl::InitializeLog\(\) is called"
    r"|^[IWE]\d{4} [\d:. ]+\d+ (port|cudart_stub|cpu_feature_guard|cuda_platform|cuda_executor"
    r"|cuda_dnn|cuda_fft|cuda_blas)\.cc:\d+\]"
    r"|^To enable the following instructions: .* rebuild TensorFlow"
)


def start_tensorflow(verbose: bool = False) -> None:
    """Imports TensorFlow and lists its devices; unless `verbose`, hides its information
    lines (C++: `TF_CPP_MIN_LOG_LEVEL=1` if not set; Python: the INFO records that its own
    files log, e.g. what saving a SavedModel does, which absl's handler shows in the root
    scripts) and the start-up lines above. Its warnings and errors, and any other line
    (train.py's progress), still show. Does nothing once TensorFlow is imported."""
    if "tensorflow" in sys.modules:
        return
    if verbose:
        import tensorflow as tf

        tf.config.list_physical_devices()
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow as tf

            tf.config.list_physical_devices()
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            lines = captured.read().decode(errors="replace").splitlines(keepends=True)
            sys.stderr.write("".join(line for line in lines if not START_UP_LINES.search(line)))
            sys.stderr.flush()
    for logger in (tf.get_logger(), logging.getLogger("absl")):
        logger.addFilter(functools.partial(_not_tensorflow_info, os.path.dirname(tf.__file__)))


def _not_tensorflow_info(package: str, record: logging.LogRecord) -> bool:
    """False for a record below WARNING logged from a file under `package`."""
    return record.levelno >= logging.WARNING or not record.pathname.startswith(package)
