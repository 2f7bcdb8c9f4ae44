"""The generator of one weights source, as the export command names them: a training run's
folder, a `*.weights.h5` file or an official checkpoint."""

from __future__ import annotations

from gated_inpaint.models import InpaintGenerator
from gated_inpaint.weights.official import generator_from_official_checkpoint
from gated_inpaint.weights.run_folder import generator_from_model_dir
from gated_inpaint.weights.weights_file import generator_from_weights


def load_generator(
    model_dir: str | None = None,
    weights: str | None = None,
    official_checkpoint: str | None = None,
    cnum: int | None = None,
    guided: bool | None = None,
) -> InpaintGenerator:
    """The generator from exactly one source: a training `model_dir`, a converted `weights`
    file or an `official_checkpoint` (converted to RGB); `cnum`/`guided` must agree with it.

    Raises:
        ValueError: not exactly one source, or settings that disagree with it.
        FileNotFoundError: the source does not exist.
    """
    sources = {
        "--model_dir": (model_dir, generator_from_model_dir),
        "--weights": (weights, generator_from_weights),
        "--official_checkpoint": (official_checkpoint, generator_from_official_checkpoint),
    }
    given = [flag for flag, (value, _) in sources.items() if value]
    if len(given) != 1:
        raise ValueError(
            f"Give exactly one of {', '.join(sources)}; got "
            f"{' and '.join(given) if given else 'none'}."
        )
    value, load = sources[given[0]]
    return load(value, cnum=cnum, guided=guided)
