"""The NumPy colour layer: the small conversions that need no gradient and no torch.

:mod:`m2p.colour.convert` holds the differentiable torch maths (CIEDE2000, gamut mapping, the full
sRGB <-> XYZ <-> CIELAB chain). The adapters, the metrics and the value types also need a few
conversions on plain arrays (LCh <-> Lab, the sRGB transfer curve, WCAG relative luminance,
hex formatting); they live here, once, and :mod:`m2p.colour.convert` takes the shared constants from
this module, so both layers follow one definition. Importing this module needs only NumPy.

References
----------
IEC 61966-2-1:1999, sRGB. W3C, Web Content Accessibility Guidelines 2.1, "relative luminance".
CIE 15:2004, Colorimetry (CIELAB, CIELCh).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

SRGB_THRESHOLD = 0.04045
"""Encoded sRGB value below which the transfer curve is linear (IEC 61966-2-1)."""

LINEAR_THRESHOLD = 0.0031308
"""Linear-light value below which the inverse transfer curve is linear (IEC 61966-2-1)."""

LUMINANCE_WEIGHTS = (0.2126, 0.7152, 0.0722)
"""Weights of linear R, G, B in relative luminance Y (BT.709 primaries, WCAG 2)."""


def lch_to_lab(lch: np.ndarray) -> np.ndarray:
    """CIELCh ``(..., 3)`` (h in degrees) to CIELAB ``(..., 3)``, float64."""
    lch = np.asarray(lch, dtype=np.float64)
    h = np.deg2rad(lch[..., 2])
    return np.stack([lch[..., 0], lch[..., 1] * np.cos(h), lch[..., 1] * np.sin(h)], axis=-1)


def lab_to_lch(lab: np.ndarray) -> np.ndarray:
    """CIELAB ``(..., 3)`` to CIELCh ``(..., 3)``, h in degrees in [0, 360), float64."""
    lab = np.asarray(lab, dtype=np.float64)
    h = np.rad2deg(np.arctan2(lab[..., 2], lab[..., 1])) % 360.0
    return np.stack([lab[..., 0], np.hypot(lab[..., 1], lab[..., 2]), h], axis=-1)


def srgb_to_linear(rgb: np.ndarray) -> np.ndarray:
    """The sRGB decoding curve: encoded values in [0, 1] to linear light, float64."""
    rgb = np.asarray(rgb, dtype=np.float64)
    power = ((np.maximum(rgb, SRGB_THRESHOLD) + 0.055) / 1.055) ** 2.4
    return np.where(rgb <= SRGB_THRESHOLD, rgb / 12.92, power)


def linear_to_srgb(rgb: np.ndarray) -> np.ndarray:
    """The sRGB encoding curve: linear light in [0, 1] to encoded values, float64."""
    rgb = np.asarray(rgb, dtype=np.float64)
    power = 1.055 * np.maximum(rgb, LINEAR_THRESHOLD) ** (1.0 / 2.4) - 0.055
    return np.where(rgb <= LINEAR_THRESHOLD, 12.92 * rgb, power)


def relative_luminance(rgb: np.ndarray) -> np.ndarray:
    """WCAG 2 relative luminance of sRGB colours in [0, 1], shape ``(..., 3) -> (...)``."""
    return srgb_to_linear(rgb) @ np.asarray(LUMINANCE_WEIGHTS)


def rgb8_to_hex(rgb8: np.ndarray | Iterable[Iterable[int]]) -> list[str]:
    """8-bit sRGB code values ``(n, 3)`` (or ``(3,)``) to lower-case ``'#rrggbb'`` strings."""
    rows = np.asarray(rgb8).reshape(-1, 3)
    return ["#{:02x}{:02x}{:02x}".format(*map(int, row)) for row in rows]


def rgb_to_hex(rgb: np.ndarray) -> list[str]:
    """sRGB in [0, 1] ``(n, 3)`` (or ``(3,)``) to ``'#rrggbb'``: clipped, rounded to nearest."""
    rgb = np.clip(np.asarray(rgb, dtype=np.float64), 0.0, 1.0)
    return rgb8_to_hex(np.rint(rgb * 255.0).astype(np.uint8))


__all__ = [
    "LINEAR_THRESHOLD",
    "LUMINANCE_WEIGHTS",
    "SRGB_THRESHOLD",
    "lab_to_lch",
    "lch_to_lab",
    "linear_to_srgb",
    "relative_luminance",
    "rgb8_to_hex",
    "rgb_to_hex",
    "srgb_to_linear",
]


def pad_palettes(palettes: Iterable[np.ndarray], width: int | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Variable-length palettes as one batch: zero-padded colours ``(N, width, 3)`` float64
    and the mask of real colours ``(N, width)`` bool; ``width`` defaults to the longest
    palette (the ``(lch, mask)`` pair the torch palette-emotion functions take)."""
    palettes = [np.asarray(p, dtype=np.float64).reshape(-1, 3) for p in palettes]
    n = max((len(p) for p in palettes), default=0) if width is None else int(width)
    colours = np.zeros((len(palettes), n, 3))
    mask = np.zeros((len(palettes), n), dtype=bool)
    for i, p in enumerate(palettes):
        colours[i, : len(p)] = p
        mask[i, : len(p)] = True
    return colours, mask
