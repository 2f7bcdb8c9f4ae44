"""Classical inpainting baselines: OpenCV's `cv2.inpaint` (Telea 2004, Navier-Stokes 2001).

OpenCV is optional (`pip install 'gated_inpaint[eval]'`) and imported on first use.
"""

from __future__ import annotations

from types import ModuleType

import numpy as np

BASELINES = ("telea", "ns")
RADIUS = 3  # pixels around each hole pixel that the methods look at
INSTALL_HINT = "pip install 'gated_inpaint[eval]'"


def load_opencv() -> ModuleType:
    """The `cv2` module; raises ImportError with the install command if it is missing."""
    try:
        import cv2
    except ImportError as error:
        raise ImportError(
            f"the baselines need OpenCV, which is not installed: {INSTALL_HINT} "
            f"(or pip install opencv-python-headless)"
        ) from error
    return cv2


def opencv_inpaint(image: np.ndarray, hole: np.ndarray, method: str) -> np.ndarray:
    """Fills the hole of an RGB image with `cv2.inpaint` (radius `RADIUS`).

    Args:
        image: uint8 `[H, W, 3]` RGB.
        hole: bool `[H, W]`, True = hole.
        method: "telea" (`INPAINT_TELEA`) or "ns" (`INPAINT_NS`).

    Returns:
        uint8 `[H, W, 3]` RGB; OpenCV leaves the known pixels unchanged.
    """
    if method not in BASELINES:
        raise ValueError(f"unknown baseline {method!r}; expected one of {BASELINES}")
    cv2 = load_opencv()
    flag = {"telea": cv2.INPAINT_TELEA, "ns": cv2.INPAINT_NS}[method]
    bgr = np.ascontiguousarray(image[..., ::-1])
    filled = cv2.inpaint(bgr, hole.astype(np.uint8) * 255, RADIUS, flag)
    return np.ascontiguousarray(filled[..., ::-1])
