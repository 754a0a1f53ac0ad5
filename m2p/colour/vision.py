"""How colours are seen: colour-vision deficiency and WCAG 2 contrast, in NumPy.

* :func:`simulate_cvd`: dichromacy (deuteranopia, protanopia) after Machado et al. (2009);
  :func:`pairwise_distances` and :func:`min_pairwise_distance` measure CIEDE2000 as seen in
  normal vision and in those two, which is how :mod:`m2p.colour.distinct` keeps colours
  apart for colour-blind readers.
* :func:`relative_luminance`, :func:`contrast_ratio` (the one contrast function of the
  package) and :func:`lightness_for_contrast`, the CIELAB lightness range that keeps a given
  contrast against a background, which is how callers keep lines and text legible while
  moving lightness only.

Examples
--------
>>> float(contrast_ratio("#ffffff", "#000000"))
21.0
>>> [round(v, 2) for v in lightness_for_contrast("#ffffff", 4.5)]
[0.0, 49.85]

References
----------
Machado, G. M., Oliveira, M. M. and Fernandes, L. A. F. (2009). A physiologically-based model
    for simulation of color vision deficiency. IEEE Transactions on Visualization and Computer
    Graphics 15(6), 1291-1298. (Severity-1.0 matrices from the paper's supplementary table, as
    in colour-science's ``colour.blindness.CVD_MATRICES_MACHADO2010``.)
W3C (2018). Web Content Accessibility Guidelines 2.1: relative luminance, contrast ratio;
    1.4.11 non-text contrast.
CIE 15:2004, Colorimetry (L* from Y).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from m2p.colour.convert_np import as_srgb, linear_to_srgb, srgb_to_lab, srgb_to_linear
from m2p.colour.difference import ciede2000
from m2p.errors import InvalidArgumentError

__all__ = [
    "MACHADO_2009",
    "VISIONS",
    "LUMINANCE_WEIGHTS",
    "simulate_cvd",
    "pairwise_distances",
    "min_pairwise_distance",
    "relative_luminance",
    "contrast_ratio",
    "lightness_for_contrast",
    "is_dark",
]

MACHADO_2009 = {
    "protanopia": np.array([[0.152286, 1.052583, -0.204868],
                            [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968],
                              [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
}
"""Machado et al. (2009) simulation matrices at severity 1.0, acting on *linear* sRGB (3, 3)."""

VISIONS = ("normal", "deuteranopia", "protanopia")
"""The visions in which :mod:`m2p.colour.distinct` keeps its distance."""

LUMINANCE_WEIGHTS = (0.2126, 0.7152, 0.0722)
"""Weights of linear R, G, B in relative luminance Y (BT.709 primaries, WCAG 2)."""

# Inward margin on the lightness bounds of lightness_for_contrast (float error).
_L_MARGIN = 0.05
# Relative luminance below which a background counts as dark (colours go lighter than it).
_DARK_BACKGROUND = 0.18


# ----------------------------------------------------------------------------------------------
# Colour-vision deficiency
# ----------------------------------------------------------------------------------------------


def simulate_cvd(rgb: Any, deficiency: str) -> np.ndarray:
    """Simulate dichromacy on sRGB colours (Machado et al. 2009, severity 1.0).

    Parameters
    ----------
    rgb
        (..., 3) sRGB in [0, 1] (encoded).
    deficiency
        ``"deuteranopia"`` or ``"protanopia"`` (``"normal"`` returns the input).

    Returns
    -------
    numpy.ndarray
        (..., 3) encoded sRGB in [0, 1]: the matrix applied in linear light, clipped.

    Raises
    ------
    m2p.errors.InvalidArgumentError
        ``deficiency`` is not one of :data:`VISIONS`.
    """
    rgb = np.asarray(rgb, dtype=np.float64)
    if deficiency == "normal":
        return rgb
    if deficiency not in MACHADO_2009:
        raise InvalidArgumentError(f"deficiency must be one of {VISIONS}, got {deficiency!r}")
    linear = srgb_to_linear(rgb) @ MACHADO_2009[deficiency].T
    return linear_to_srgb(np.clip(linear, 0.0, 1.0))


def pairwise_distances(rgb: Any, *, vision: str = "normal") -> np.ndarray:
    """(n, n) CIEDE2000 between sRGB colours (n, 3) in [0, 1], as seen with ``vision``."""
    lab = srgb_to_lab(simulate_cvd(np.asarray(rgb, dtype=np.float64).reshape(-1, 3), vision))
    return ciede2000(lab[:, None, :], lab[None, :, :])


def min_pairwise_distance(rgb: Any) -> float:
    """Smallest CIEDE2000 between two of the sRGB colours (n, 3) over all :data:`VISIONS`
    (inf for fewer than two colours)."""
    rgb = np.asarray(rgb, dtype=np.float64).reshape(-1, 3)
    if len(rgb) < 2:
        return math.inf
    lab = srgb_to_lab(np.stack([simulate_cvd(rgb, v) for v in VISIONS]))  # (V, n, 3), one go
    dist = ciede2000(lab[:, :, None, :], lab[:, None, :, :])
    return float(dist[:, ~np.eye(len(rgb), dtype=bool)].min())


# ----------------------------------------------------------------------------------------------
# WCAG 2 contrast
# ----------------------------------------------------------------------------------------------


def relative_luminance(rgb: Any) -> np.ndarray:
    """WCAG 2 relative luminance of sRGB colours in [0, 1], shape ``(..., 3) -> (...)``."""
    return srgb_to_linear(rgb) @ np.asarray(LUMINANCE_WEIGHTS)


def contrast_ratio(a: Any, b: Any) -> Any:
    """WCAG 2 contrast ratio, 1 to 21, between colours.

    Parameters
    ----------
    a, b
        Hex strings (one or a list) or sRGB arrays (..., 3) in [0, 1]; broadcast together.

    Returns
    -------
    numpy.float64 or numpy.ndarray
        A number for two single colours, else an array of the broadcast shape.
    """
    ya, yb = relative_luminance(as_srgb(a)), relative_luminance(as_srgb(b))
    return ((np.maximum(ya, yb) + 0.05) / (np.minimum(ya, yb) + 0.05))[()]


def lightness_for_contrast(background: Any, ratio: float) -> tuple[float, float]:
    """CIELAB L* range of colours with WCAG contrast >= ``ratio`` against ``background``.

    Colours go darker than a light background and lighter than a dark one (relative luminance
    below 0.18). WCAG's relative luminance is CIE Y of sRGB, and L* depends on Y alone, so the
    bound is exact for any hue and chroma.

    Parameters
    ----------
    background
        Hex string or sRGB triple in [0, 1].
    ratio
        Contrast ratio, 1 to 21.

    Returns
    -------
    (float, float)
        ``(low, high)`` L*.

    Raises
    ------
    m2p.errors.InvalidArgumentError
        No sRGB colour reaches ``ratio`` on that side of the background.
    """
    ratio = float(ratio)
    if not (math.isfinite(ratio) and 1.0 <= ratio <= 21.0):
        raise InvalidArgumentError(f"contrast ratio must be between 1 and 21, got {ratio!r}")
    y_bg = float(relative_luminance(as_srgb(background).reshape(3)))
    if y_bg < _DARK_BACKGROUND:
        y = ratio * (y_bg + 0.05) - 0.05
        if y > 1.0:
            raise InvalidArgumentError(f"no colour reaches contrast {ratio:g} on this dark "
                                       "background")
        return min(_y_to_lightness(y) + _L_MARGIN, 100.0 - 2 * _L_MARGIN), 100.0
    y = (y_bg + 0.05) / ratio - 0.05
    if y < 0.0:
        raise InvalidArgumentError(f"no colour reaches contrast {ratio:g} on this light background")
    return 0.0, max(_y_to_lightness(y) - _L_MARGIN, 2 * _L_MARGIN)


def is_dark(background: Any) -> bool:
    """Whether colours on ``background`` (hex or sRGB triple) go lighter than it to contrast:
    its relative luminance is below 0.18, where :func:`lightness_for_contrast` turns."""
    return bool(relative_luminance(as_srgb(background).reshape(3)) < _DARK_BACKGROUND)


def _y_to_lightness(y: float) -> float:
    """CIE 1976 L* of relative luminance Y in [0, 1] (CIE 15:2004)."""
    delta = 6.0 / 29.0
    f = y ** (1.0 / 3.0) if y > delta**3 else y / (3.0 * delta**2) + 4.0 / 29.0
    return 116.0 * f - 16.0
