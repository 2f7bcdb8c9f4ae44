"""The generator settings (`cnum`, `guided`) a weights source implies, checked against what
the user passed."""

from __future__ import annotations

from gated_inpaint.models.options import DEFAULT_CNUM


def generator_settings(found: dict, cnum: int | None, guided: bool | None, source: str) -> dict:
    """`{"cnum", "guided"}`: what `source` says (`found`), else the arguments, else the
    generator's defaults (48, False).

    Raises:
        ValueError: an argument disagrees with what `source` says (`--cnum` and `--guided`
            are named, as the commands spell them).
    """
    settings = {"cnum": DEFAULT_CNUM, "guided": False}
    for key, value in {"cnum": cnum, "guided": guided}.items():
        if key in found and value is not None and value != found[key]:
            raise ValueError(f"--{key}={value} disagrees with {source}, where {key}={found[key]}.")
        settings[key] = found.get(key, settings[key] if value is None else value)
    return settings
