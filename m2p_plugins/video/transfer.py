"""Palette-based colour transfer (after Chang et al. 2015), evaluated on a 3-D LUT grid.

Three steps, all in CIELAB (D65):

1. :func:`dominant_colors` finds the image's *source palette* by weighted k-means on a
   ``16**3`` RGB histogram (bin means as samples, pixel counts as weights), seeded
   deterministically as in Chang et al. (pick the heaviest bin, attenuate its neighbourhood,
   repeat).
2. :func:`match_palettes` pairs each source colour with a target (music) colour by Hungarian
   matching on CIEDE2000 (averaged over time for a palette track, so correspondences stay fixed).
3. :func:`transfer_lut` moves every colour of the sRGB cube by a smooth function of its colour:
   lightness through a monotone piecewise-linear curve through the (source L*, target L*) pairs
   (so the luminance order of the image is kept), and a*, b* by the RBF-interpolated (Gaussian
   kernel, exact at the source colours, clamped and normalised) per-entry offsets. The offset
   is damped for skin-like hues and near black and white, scaled by ``strength``, gamut-mapped
   by chroma reduction at constant L* and hue, and tabulated on an ``N**3`` grid: the result is
   a LUT (:mod:`.lut`).

References: Chang, Fried, Liu, DiVerdi, Finkelstein (2015), *Palette-based photo recoloring*,
ACM TOG 34(4); Reinhard et al. (2001) for the simple statistics baseline.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from m2p._internal import checks
from m2p.colour.convert_np import lch_to_lab
from m2p.errors import InvalidArgumentError
from m2p.palette_types import Palette

from m2p_plugins.video.lut import DEFAULT_SIZE, lut_grid

SKIN_HUE_DEGREES = 50.0
"""Centre of the protected skin-tone hue band (CIELAB h_ab, degrees); see :func:`transfer_lut`."""

SKIN_HUE_WIDTH = 18.0
"""Gaussian half-width of the skin band in degrees of hue."""

SHADOW_L = 25.0
"""Below this L* the colour shift fades out smoothly to nothing at black (blacks stay black)."""

NEUTRAL_CHROMA = (6.0, 20.0)
"""C* range over which a colour goes from *neutral* (below: a gentle tint that depends on
lightness only) to *chromatic* (above: the full palette transfer)."""

NEUTRAL_TINT = 0.5
"""Share of the palette offset a neutral colour receives (colourists tint greys, never
recolour them)."""

NEUTRAL_TINT_SIGMA_L = 12.0
"""Lightness width (L* units) over which the tint of neutrals is averaged between palette
colours, so neighbouring greys never split into different hues."""


def dominant_colors(image: np.ndarray, k: int = 5, *, bins: int = 16, iterations: int = 12,
                     max_pixels: int = 250_000) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` dominant colours of an image (or a stack of frames), in CIELAB.

    Parameters
    ----------
    image
        ``(..., 3)`` or ``(..., 4)`` sRGB, uint8 or float in ``[0, 1]``; any leading shape
        (one image ``(H, W, 3)`` or frames ``(F, H, W, 3)``). Alpha, if any, is ignored
        (fully transparent pixels are dropped).
    k
        Number of colours, at least 1.
    bins
        Histogram bins per RGB axis.
    iterations
        Weighted Lloyd iterations after the deterministic seeding.
    max_pixels
        Pixels are subsampled with a regular stride above this count.

    Returns
    -------
    lab : numpy.ndarray
        ``(k, 3)`` float64 CIELAB colours sorted by L* (ascending).
    weights : numpy.ndarray
        ``(k,)`` share of the pixels closest to each colour (sums to 1).
    """
    import torch

    from m2p.colour.convert import srgb_to_lab

    arr = checks.image(image, empty=False)
    pix = arr.reshape(-1, arr.shape[-1])
    if pix.shape[1] == 4:
        alpha = pix[:, 3].astype(np.float64) / (255.0 if arr.dtype == np.uint8 else 1.0)
        pix = pix[alpha > 0.0] if np.any(alpha > 0.0) else pix
    pix = pix[:, :3]
    if pix.shape[0] > max_pixels:
        pix = pix[:: int(np.ceil(pix.shape[0] / max_pixels))]
    rgb = pix.astype(np.float64) / (255.0 if arr.dtype == np.uint8 else 1.0)
    rgb = np.clip(rgb, 0.0, 1.0)
    q = np.minimum((rgb * bins).astype(np.int64), bins - 1)
    idx = (q[:, 0] * bins + q[:, 1]) * bins + q[:, 2]
    counts = np.bincount(idx, minlength=bins ** 3).astype(np.float64)
    sums = np.stack([np.bincount(idx, weights=rgb[:, c], minlength=bins ** 3) for c in range(3)], 1)
    used = counts > 0
    means = sums[used] / counts[used, None]
    weight = counts[used]
    lab = srgb_to_lab(torch.from_numpy(means)).numpy()

    centres = _seed_centres(lab, weight, k)
    for _ in range(iterations):
        d2 = ((lab[:, None, :] - centres[None, :, :]) ** 2).sum(-1)
        nearest = d2.argmin(1)
        for j in range(k):
            m = nearest == j
            if np.any(m):
                centres[j] = np.average(lab[m], axis=0, weights=weight[m])
    d2 = ((lab[:, None, :] - centres[None, :, :]) ** 2).sum(-1)
    share = np.bincount(d2.argmin(1), weights=weight, minlength=k)
    share = share / share.sum()
    order = np.argsort(centres[:, 0], kind="stable")
    return centres[order], share[order]


def dominant_colours(*args: Any, **kwargs: Any) -> tuple[np.ndarray, np.ndarray]:
    """Deprecated spelling of :func:`dominant_colors` (public names use US spelling)."""
    warnings.warn("dominant_colours is deprecated; use dominant_colors", DeprecationWarning,
                  stacklevel=2)
    return dominant_colors(*args, **kwargs)


def match_palettes(source_lab: np.ndarray, target_lab: np.ndarray) -> np.ndarray:
    """Hungarian matching of source colours to target colours on CIEDE2000.

    Parameters
    ----------
    source_lab
        ``(k, 3)`` CIELAB source palette.
    target_lab
        ``(n, 3)`` one target palette, or ``(T, n, 3)`` a slot-aligned palette track (the cost is
        the mean CIEDE2000 over time, so one fixed correspondence serves the whole track).

    Returns
    -------
    numpy.ndarray
        ``(k,)`` int: the target slot of each source colour. When ``k > n`` target slots are
        reused (each at most ``ceil(k / n)`` times).
    """
    import torch

    from m2p.colour.assignment import linear_sum_assignment
    from m2p.colour.difference import ciede2000

    src = np.asarray(source_lab, dtype=np.float64)
    tgt = np.asarray(target_lab, dtype=np.float64)
    if tgt.ndim == 2:
        tgt = tgt[None]
    k, n = src.shape[0], tgt.shape[1]
    cost = ciede2000(torch.from_numpy(src)[None, :, None, :],
                     torch.from_numpy(tgt)[:, None, :, :]).mean(0).numpy()  # (k, n)
    reps = int(np.ceil(k / n))
    rows, cols = linear_sum_assignment(np.tile(cost, (1, reps)))
    slots = np.empty(k, dtype=np.int64)
    slots[rows] = cols % n
    return slots


def check_strength(strength: object) -> float:
    """``strength`` as a float in [0, 1].

    Raises
    ------
    m2p.errors.InvalidArgumentError
        NaN, infinite, outside [0, 1] or not a number (NaN would make an all-black grade).
    """
    if isinstance(strength, bool) or not isinstance(strength, (int, float, np.integer, np.floating)):
        raise InvalidArgumentError(f"strength must be a number between 0 and 1, got {strength!r}")
    value = float(strength)
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise InvalidArgumentError(f"strength must be between 0 and 1, got {strength!r}")
    return value


def transfer_lut(source_lab: np.ndarray, target_lab: np.ndarray, *, strength: float = 0.6,
                 size: int = DEFAULT_SIZE, luminance: float = 0.5, skin: float = 0.8,
                 sigma: float | None = None) -> np.ndarray:
    """The LUT that moves ``source_lab`` toward ``target_lab`` and everything else smoothly.

    Parameters
    ----------
    source_lab, target_lab
        ``(k, 3)`` CIELAB, paired row by row (see :func:`match_palettes`).
    strength
        0 gives the identity, 1 the full transfer; in between the shift is scaled linearly.
    size
        LUT nodes per axis.
    luminance
        Share of the lightness curve applied (0 keeps L* exactly; 1 follows the palette L*
        fully). The curve is monotone, so the luminance order of pixels never flips.
    skin
        Protection of skin-like colours (h_ab near 50 degrees, moderate chroma): their shift is
        multiplied by ``1 - skin * w`` with ``w`` in [0, 1] a smooth skin membership.
    sigma
        RBF width in CIELAB units; default the mean distance between source colours (Chang et al.).

    Returns
    -------
    numpy.ndarray
        float32 ``(size, size, size, 3)`` LUT indexed ``lut[r, g, b]``, output in ``[0, 1]``.
    """
    import torch

    from m2p.colour.convert import lab_to_lch, lab_to_srgb, lch_to_srgb, srgb_to_lab
    from m2p.colour.gamut import gamut_map_lch

    src = np.asarray(source_lab, dtype=np.float64).reshape(-1, 3)
    tgt = np.asarray(target_lab, dtype=np.float64).reshape(-1, 3)
    if src.shape != tgt.shape:
        raise ValueError(f"source and target palettes must pair up, got {src.shape} and "
                         f"{tgt.shape}")
    strength = check_strength(strength)
    grid = lut_grid(size).astype(np.float64)
    lab = srgb_to_lab(torch.from_numpy(grid)).numpy()
    L = lab[:, 0]

    # Lightness: monotone curve through the palette pairs, anchored at black and white.
    order = np.argsort(src[:, 0], kind="stable")
    xs = np.concatenate([[0.0], np.clip(src[order, 0], 0.5, 99.5), [100.0]])
    ys = np.concatenate([[0.0], np.clip(tgt[order, 0], 0.5, 99.5), [100.0]])
    xs = xs + np.arange(xs.size) * 1e-6  # strictly increasing for np.interp
    ys = _isotonic(ys)  # pool adjacent violators: the closest non-decreasing curve
    d_l = luminance * (np.interp(L, xs, ys) - L)

    # Chroma: normalised Gaussian RBF weights on the distance to each source colour.
    if sigma is None:
        if src.shape[0] > 1:
            pair = np.sqrt(((src[:, None] - src[None]) ** 2).sum(-1))
            sigma = float(pair[np.triu_indices(src.shape[0], 1)].mean())
        else:
            sigma = 50.0
    sigma = max(float(sigma), 5.0)
    # Interpolating RBF (Chang et al.): weights are exact at the source colours (w(c_i) = e_i),
    # negative weights are clamped and the rest normalised (a partition of unity).
    def kernel(d2: np.ndarray) -> np.ndarray:
        return np.exp(-d2 / (2.0 * sigma ** 2))

    gram = kernel(((src[:, None, :] - src[None, :, :]) ** 2).sum(-1))
    coef = np.linalg.pinv(gram + 1e-9 * np.eye(src.shape[0]))
    phi = np.maximum(kernel(((lab[:, None, :] - src[None, :, :]) ** 2).sum(-1)) @ coef, 0.0)
    total = phi.sum(1, keepdims=True)
    phi = np.where(total > 1e-12, phi / np.maximum(total, 1e-12), 1.0 / src.shape[0])
    d_ab = phi @ (tgt[:, 1:] - src[:, 1:])

    lch = lab_to_lch(torch.from_numpy(lab)).numpy()
    d_ab = protect_neutrals(d_ab, lch, src, tgt)

    # Protections: skin-like hues, and the neutral extremes (keeps pure black/white clean).
    hue_diff = (lch[:, 2] - SKIN_HUE_DEGREES + 180.0) % 360.0 - 180.0
    w_skin = (np.exp(-0.5 * (hue_diff / SKIN_HUE_WIDTH) ** 2) * _smoothstep(lch[:, 1], 6.0, 14.0)
              * (1.0 - _smoothstep(lch[:, 1], 45.0, 65.0)) * _smoothstep(L, 20.0, 30.0)
              * (1.0 - _smoothstep(L, 88.0, 96.0)))
    keep = 1.0 - float(np.clip(skin, 0.0, 1.0)) * w_skin
    ends = _smoothstep(L, 0.0, SHADOW_L) * (1.0 - _smoothstep(L, 90.0, 100.0))

    out = lab.copy()
    out[:, 0] += strength * keep * d_l
    out[:, 1:] += (strength * keep * ends)[:, None] * d_ab
    rgb = lab_to_srgb(torch.from_numpy(out)).numpy()
    outside = np.any((rgb < -1e-6) | (rgb > 1.0 + 1e-6), axis=1)
    if np.any(outside):  # chroma reduction at constant L*, h for the out-of-gamut entries only
        mapped = gamut_map_lch(lab_to_lch(torch.from_numpy(out[outside])), iterations=24)
        rgb[outside] = lch_to_srgb(mapped).numpy()
    rgb = np.clip(np.nan_to_num(rgb, nan=0.0), 0.0, 1.0)
    return rgb.reshape(size, size, size, 3).astype(np.float32)


def protect_neutrals(d_ab: np.ndarray, lch: np.ndarray, source_lab: np.ndarray,
                     target_lab: np.ndarray) -> np.ndarray:
    """Replace the a*b* shift of near-neutral colours by a gentle, lightness-only tint.

    The palette transfer moves each colour by the offsets of the source colours *near it*;
    for greys, whose neighbours in a*b* are all about equally near, that choice flips with
    noise and lightness, and a flat grey wall splits into patches of opposite hues (yellow
    and cyan). Colourists instead tint neutrals by tone (shadows one way, highlights another)
    and weight the grade by saturation. So a colour of chroma below
    :data:`NEUTRAL_CHROMA` gets :data:`NEUTRAL_TINT` of the palette offsets averaged with a
    Gaussian in L* (:data:`NEUTRAL_TINT_SIGMA_L`), which varies slowly with lightness;
    chromatic colours keep the full transfer; in between the two blend smoothly.

    Parameters
    ----------
    d_ab
        ``(M, 2)`` a*b* shifts of the transfer at ``M`` colours.
    lch
        ``(M, 3)`` CIELCh of those colours.
    source_lab, target_lab
        ``(k, 3)`` paired palettes.

    Returns
    -------
    numpy.ndarray
        ``(M, 2)`` the protected shifts.
    """
    light, chroma = lch[:, 0], lch[:, 1]
    near = np.exp(-0.5 * ((light[:, None] - source_lab[None, :, 0]) / NEUTRAL_TINT_SIGMA_L) ** 2)
    near = near / np.maximum(near.sum(1, keepdims=True), 1e-12)
    tint = NEUTRAL_TINT * (near @ (target_lab[:, 1:] - source_lab[:, 1:]))
    chromatic = _smoothstep(chroma, *NEUTRAL_CHROMA)[:, None]
    return chromatic * d_ab + (1.0 - chromatic) * tint


def palette_lab(palette: object) -> np.ndarray:
    """CIELAB ``(n, 3)`` of an :class:`m2p.palette_types.Palette` (or an ``(n, 3)`` LCh array)."""
    lch = palette.lch if isinstance(palette, Palette) else palette
    return lch_to_lab(np.asarray(lch, dtype=np.float64).reshape(-1, 3))


def neutral_source(target_lab: np.ndarray) -> np.ndarray:
    """A grey source palette at the target's lightnesses (for LUTs made without footage).

    Used by ``m2p export`` when no reference image is given: the LUT then tints each lightness
    band toward the palette colour of that lightness (a split-tone look), keeping L*.
    """
    tgt = np.asarray(target_lab, dtype=np.float64).reshape(-1, 3)
    src = np.zeros_like(tgt)
    src[:, 0] = tgt[:, 0]
    return src


def _seed_centres(lab: np.ndarray, weight: np.ndarray, k: int) -> np.ndarray:
    """Chang et al. seeding: heaviest bin, then attenuate by 1 - exp(-d^2 / sigma_a^2)."""
    sigma_a = 80.0
    w = weight.astype(np.float64).copy()
    centres = []
    for _ in range(k):
        j = int(np.argmax(w))
        centres.append(lab[j].copy())
        w = w * (1.0 - np.exp(-((lab - lab[j]) ** 2).sum(-1) / sigma_a ** 2))
    return np.asarray(centres)


def _isotonic(y: np.ndarray) -> np.ndarray:
    """Least-squares non-decreasing fit of ``y`` (pool-adjacent-violators)."""
    blocks: list[list[float]] = []  # [mean, count]
    for value in np.asarray(y, dtype=np.float64):
        blocks.append([float(value), 1.0])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, c2 = blocks.pop()
            m1, c1 = blocks[-1]
            blocks[-1] = [(m1 * c1 + m2 * c2) / (c1 + c2), c1 + c2]
    return np.concatenate([np.full(int(c), m) for m, c in blocks])


def _smoothstep(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    t = np.clip((x - lo) / (hi - lo), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


__all__ = [
    "NEUTRAL_CHROMA",
    "NEUTRAL_TINT",
    "NEUTRAL_TINT_SIGMA_L",
    "SHADOW_L",
    "SKIN_HUE_DEGREES",
    "SKIN_HUE_WIDTH",
    "check_strength",
    "dominant_colors",
    "dominant_colours",
    "match_palettes",
    "neutral_source",
    "protect_neutrals",
    "palette_lab",
    "transfer_lut",
]
