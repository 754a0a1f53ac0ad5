"""Reference measures for the colour tests, computed with colour-science alone (independent of
``m2p.colour.distinct``): CIEDE2000 as seen in normal vision and with simulated deuteranopia and
protanopia (Machado et al. 2009, severity 1.0), and WCAG contrast."""

from __future__ import annotations

import numpy as np

VISIONS = {"normal": None, "deuteranopia": "Deuteranomaly", "protanopia": "Protanomaly"}


def hex_rgb(hexes) -> np.ndarray:
    """(n, 3) sRGB in [0, 1] of ``'#rrggbb'`` strings."""
    return np.array([[int(h[k:k + 2], 16) for k in (1, 3, 5)] for h in hexes]) / 255.0


def cs_lab(rgb: np.ndarray, vision: str) -> np.ndarray:
    """CIELAB of sRGB colours as seen with ``vision``."""
    import colour as cs

    linear = cs.cctf_decoding(rgb, function="sRGB")
    if VISIONS[vision]:
        linear = np.clip(linear @ cs.matrix_cvd_Machado2009(VISIONS[vision], 1.0).T, 0.0, 1.0)
    return cs.XYZ_to_Lab(cs.sRGB_to_XYZ(cs.cctf_encoding(linear, function="sRGB")))


def cs_min_distance(hexes) -> float:
    """Smallest pairwise CIEDE2000 over normal vision, deuteranopia and protanopia."""
    import colour as cs

    rgb = hex_rgb(hexes)
    i, j = np.triu_indices(len(rgb), 1)
    return min(float(cs.delta_E(cs_lab(rgb, v)[i], cs_lab(rgb, v)[j], method="CIE 2000").min())
               for v in VISIONS)


def cs_contrast(hexes, background: str) -> np.ndarray:
    """WCAG 2 contrast ratio of each colour against ``background``."""
    import colour as cs

    y = cs.sRGB_to_XYZ(hex_rgb(hexes))[:, 1]
    yb = cs.sRGB_to_XYZ(hex_rgb([background]))[0, 1]
    return (np.maximum(y, yb) + 0.05) / (np.minimum(y, yb) + 0.05)
