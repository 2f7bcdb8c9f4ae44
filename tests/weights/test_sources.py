"""Choosing the generator's weights source, as the export command names it."""

import pytest

from gated_inpaint.weights.sources import load_generator


def test_source_arguments_are_checked(generator, tmp_path):
    weights = str(tmp_path / "g.weights.h5")
    generator.save_weights(weights)
    with pytest.raises(ValueError, match="exactly one of --model_dir, --weights"):
        load_generator()
    with pytest.raises(ValueError, match="got --weights and --official_checkpoint"):
        load_generator(weights=weights, official_checkpoint=str(tmp_path))
    with pytest.raises(ValueError, match=r"--cnum=16 disagrees with .*g.weights.h5, where cnum=8"):
        load_generator(weights=weights, cnum=16)
    with pytest.raises(FileNotFoundError, match="No training checkpoint"):
        load_generator(model_dir=str(tmp_path))
