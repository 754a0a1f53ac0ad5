"""Sequential and diverging colour ramps through a palette, built in CIELAB.

Both ramps interpolate in CIELAB, which is close to perceptually uniform, with lightness
running strictly monotonically (a sequential ramp reads dark to light, a diverging one from two
ends to a light centre); samples outside sRGB lose chroma at constant L* and hue
(:func:`m2p.colour.gamut.gamut_map_lch`), so lightness stays exactly as designed. The ends of a
diverging ramp stay apart for colour-blind readers (:mod:`m2p.colour.vision`). The plotting
adapters turn them into colormaps, colour scales and palettes.

Examples
--------
>>> from m2p.colour.convert_np import hex_to_lch, srgb_to_lab
>>> ramp = sequential_ramp(hex_to_lch(["#1d3557", "#e63946"]), 5)
>>> ramp.shape, bool((np.diff(srgb_to_lab(ramp)[:, 0]) > 0).all())
((5, 3), True)

References
----------
CIE 15:2004, Colorimetry (CIELAB).
Machado, G. M., Oliveira, M. M. and Fernandes, L. A. F. (2009). A physiologically-based model
    for simulation of color vision deficiency. IEEE TVCG 15(6), 1291-1298.
"""

from __future__ import annotations

import itertools

import numpy as np

from m2p.colour.convert_np import lab_to_lch, lch_to_lab, lch_to_srgb
from m2p.colour.gamut import gamut_map_lch
from m2p.colour.vision import VISIONS, pairwise_distances

__all__ = ["DIVERGING_SEPARATION", "sequential_ramp", "diverging_ramp"]

DIVERGING_SEPARATION = 20.0
"""Smallest CIEDE2000 between the two ends of a diverging ramp, in normal vision and under
simulated deuteranopia and protanopia (so a diverging map never runs red to green)."""


def sequential_ramp(lch: np.ndarray, n: int = 256, *, lightness: tuple[float, float] = (25.0, 92.0)
                    ) -> np.ndarray:
    """A sequential ramp through the palette, dark to light, with strictly increasing L*.

    The palette colours are placed along the ramp at their own lightness; L* runs linearly
    from the darker of ``lightness[0]`` and the darkest colour to the lighter of
    ``lightness[1]`` and the lightest colour, while a* and b* are interpolated linearly in
    CIELAB between the colours. Out-of-gamut samples lose chroma at constant L* and hue, so
    lightness stays exactly monotonic.

    Parameters
    ----------
    lch
        (k, 3) CIELCh palette.
    n
        Number of samples.
    lightness
        Minimum span of L* the ramp covers.

    Returns
    -------
    numpy.ndarray
        (n, 3) sRGB in [0, 1].
    """
    lch = np.asarray(lch, dtype=np.float64).reshape(-1, 3)
    lab = lch_to_lab(lch)
    order = np.argsort(lab[:, 0], kind="stable")
    lab = lab[order]
    lo = min(float(lab[0, 0]), lightness[0])
    hi = max(float(lab[-1, 0]), lightness[1])
    pos = (lab[:, 0] - lo) / (hi - lo)
    keep: list[int] = []
    for i in range(len(lab)):  # colours of near-equal lightness: keep the more chromatic
        if keep and pos[i] - pos[keep[-1]] < 0.03:
            if np.hypot(*lab[i, 1:]) > np.hypot(*lab[keep[-1], 1:]):
                keep[-1] = i
            continue
        keep.append(i)
    anchors, xs = lab[keep], pos[keep]
    t = np.linspace(0.0, 1.0, n)
    out = np.empty((n, 3))
    out[:, 0] = lo + t * (hi - lo)
    # Ends fade the nearest colour's chroma towards neutral so the extremes read as dark / light.
    xa = np.concatenate(([0.0], xs, [1.0]))
    a = np.concatenate(([anchors[0, 1] * 0.6], anchors[:, 1], [anchors[-1, 1] * 0.35]))
    b = np.concatenate(([anchors[0, 2] * 0.6], anchors[:, 2], [anchors[-1, 2] * 0.35]))
    xa, uniq = np.unique(xa, return_index=True)
    out[:, 1] = np.interp(t, xa, a[uniq])
    out[:, 2] = np.interp(t, xa, b[uniq])
    return _lab_to_srgb_mapped(out)


def diverging_ramp(lch: np.ndarray, n: int = 256, *, centre_lightness: float = 96.0
                   ) -> np.ndarray:
    """A diverging ramp between two palette hues that stay apart for colour-blind readers.

    The ends are two of the palette's own hues, at one lightness and a chroma of at least 40,
    chosen as the pair farthest apart in CIEDE2000 in the *worst* of normal vision and
    simulated deuteranopia and protanopia (Machado et al. 2009); a red and a green of one
    lightness look alike to most colour-blind readers, so that pair loses. When no pair of the
    palette's hues keeps :data:`DIVERGING_SEPARATION` (a palette of warm hues only, say), the
    ramp runs from the palette's most vivid hue to the hue farthest from it for colour-blind
    readers, and for greys from blue to yellow-brown. L* rises linearly to a neutral centre and
    a*, b* fade linearly to zero, in CIELAB.

    Parameters
    ----------
    lch
        (k, 3) CIELCh palette.
    n
        Number of samples.
    centre_lightness
        L* of the neutral centre.

    Returns
    -------
    numpy.ndarray
        (n, 3) sRGB in [0, 1]; the first half has increasing, the second decreasing L*.
    """
    lab = lch_to_lab(np.asarray(lch, dtype=np.float64).reshape(-1, 3))
    end_l, ab = _diverging_ends(lab)
    hue = np.degrees(np.arctan2(ab[:, 1], ab[:, 0])) % 360.0
    if hue[0] > hue[1]:  # stable orientation: smaller hue angle on the left
        ab = ab[::-1]
    t = np.linspace(0.0, 1.0, n)
    out = np.empty((n, 3))
    left = t <= 0.5
    u = np.where(left, t / 0.5, (1.0 - t) / 0.5)  # 0 at the ends, 1 at the centre
    out[:, 0] = end_l + u * (centre_lightness - end_l)
    end_ab = np.where(left[:, None], ab[0], ab[1])
    out[:, 1:] = end_ab * (1.0 - u)[:, None]
    return _lab_to_srgb_mapped(out)


# ---------------------------------------------------------------------------------------------


def _diverging_ends(lab: np.ndarray) -> tuple[float, np.ndarray]:
    """End lightness and the (2, 2) a*b* of the two ends of :func:`diverging_ramp`.

    1. Two of the palette's own hues, both at one lightness (the palette's mean, clipped to
       [35, 55], or 40, or 50) and one chroma (the larger of the two, at least :data:`_END_CHROMA`, as far as
       the gamut allows): the pair farthest apart in the worst of normal and dichromat vision,
       if it keeps :data:`DIVERGING_SEPARATION`.
    2. Else the palette's most vivid hue and, on the hue circle (15-degree steps), the partner
       hue farthest from it in the worst vision.
    3. A grey palette: blue and yellow-brown.
    """
    chroma = np.hypot(lab[:, 1], lab[:, 2])
    hue = np.degrees(np.arctan2(lab[:, 2], lab[:, 1])) % 360.0
    light = float(np.clip(np.mean(lab[:, 0]), 35.0, 55.0))
    vivid = [int(i) for i in np.argsort(-chroma, kind="stable") if chroma[i] >= 5.0]
    pairs = []
    for i, j in itertools.combinations(vivid, 2):
        c = max(chroma[i], chroma[j], _END_CHROMA)
        for level in dict.fromkeys((light, 40.0, 50.0)):  # the palette's lightness first
            pairs.append((level, _ab(c, hue[i]), _ab(c, hue[j])))
    if pairs:
        score = [_worst_vision_distance(level, a, b) for level, a, b in pairs]
        best = int(np.argmax(score))
        if score[best] >= DIVERGING_SEPARATION:
            level, a, b = pairs[best]
            return level, np.stack([a, b])
    if vivid:
        first = vivid[0]
        c = max(chroma[first], _END_CHROMA)
        partners = [(_ab(c, hue[first]), _ab(c, h)) for h in np.arange(0.0, 360.0, 15.0)]
        score = [_worst_vision_distance(light, a, b) for a, b in partners]
        best = int(np.argmax(score))
        if score[best] >= DIVERGING_SEPARATION:
            return light, np.stack(partners[best])
    blue = np.array([-10.0, -40.0]) * 35.0 / np.hypot(10.0, 40.0)
    return 50.0, np.stack([blue, -blue])


_END_CHROMA = 40.0  # the least chroma of a diverging ramp's ends (muted palettes get it)


def _ab(chroma: float, hue: float) -> np.ndarray:
    """a*, b* of a chroma and hue (degrees)."""
    return np.array([chroma * np.cos(np.radians(hue)), chroma * np.sin(np.radians(hue))])


def _worst_vision_distance(light: float, ab_a: np.ndarray, ab_b: np.ndarray) -> float:
    """CIEDE2000 of two end colours (gamut-mapped) in the worst of normal and dichromat vision."""
    rgb = _lab_to_srgb_mapped(np.array([[light, *ab_a], [light, *ab_b]]))
    return min(float(pairwise_distances(rgb, vision=v)[0, 1]) for v in VISIONS)


def _lab_to_srgb_mapped(lab: np.ndarray) -> np.ndarray:
    """CIELAB (n, 3) -> sRGB (n, 3) in [0, 1], gamut-mapped at constant L* and hue."""
    return np.clip(lch_to_srgb(gamut_map_lch(lab_to_lch(lab))), 0.0, 1.0)
