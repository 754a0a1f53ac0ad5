"""The paper's palette metrics, implemented from their definitions (pure functions, NumPy in/out).

Colours are CIELCh arrays ``(n, 3)`` (L in [0, 100], C >= 0, h in degrees). Colour distances are
CIEDE2000 (``m2p.colour.difference.ciede2000_matrix``, evaluated in float64).

Per-palette metrics
    :func:`diversity`, :func:`palette_distance`, :func:`multimodality`.
Distribution metrics (two sets of colours, e.g. every colour generated on the test split
against every ground-truth colour)
    :func:`convex_hull_overlap`, :func:`bhattacharyya_coefficient`.
Emotion metrics (rows of 8-way emotion vectors)
    :func:`emotion_similarity`, :func:`js_divergence`.

Conventions chosen where the definitions leave room (documented in ``docs/results.md``):

* The LCh space is cylindrical, so hue wraps. Convex hulls are taken of the points
  ``(L, C cos h, C sin h)`` (the LCh cylinder in Cartesian form), so red at 359 degrees and
  red at 1 degree are neighbours.
* Histograms for the Bhattacharyya coefficient bin L, C and h directly (h bins are circular by
  construction).
* Jensen-Shannon divergence is in bits (log base 2), so it lies in [0, 1].
"""

from __future__ import annotations

import itertools
from typing import Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment, linprog
from scipy.spatial import ConvexHull, HalfspaceIntersection
from scipy.spatial import QhullError

from m2p.colour.convert_np import lch_to_lab
from m2p.colour.difference import ciede2000_matrix

__all__ = [
    "diversity",
    "palette_distance",
    "multimodality",
    "lch_to_cartesian",
    "convex_hull_overlap",
    "lch_histogram",
    "bhattacharyya_coefficient",
    "emotion_similarity",
    "js_divergence",
]

#: Default histogram ranges for :func:`lch_histogram` (L, C, h).
LCH_RANGES: tuple[tuple[float, float], ...] = ((0.0, 100.0), (0.0, 150.0), (0.0, 360.0))


def diversity(lch: np.ndarray) -> float:
    """Diversity: mean pairwise CIEDE2000 between the colours of one palette.

    Parameters
    ----------
    lch
        (n, 3) palette. A palette with fewer than two colours has diversity 0.

    Returns
    -------
    float
        Mean over the n(n-1)/2 unordered pairs.
    """
    lch = np.asarray(lch, dtype=np.float64).reshape(-1, 3)
    n = lch.shape[0]
    if n < 2:
        return 0.0
    d = ciede2000_matrix(lch)
    iu = np.triu_indices(n, k=1)
    return float(d[iu].mean())


def palette_distance(lch_a: np.ndarray, lch_b: np.ndarray) -> float:
    """Order-free distance between two palettes: mean CIEDE2000 after Hungarian matching.

    The optimal one-to-one assignment pairs ``min(n, m)`` colours; the distance is the mean
    over the assigned pairs. Identical palettes in any order have distance 0.
    """
    d = ciede2000_matrix(lch_a, lch_b)
    if d.size == 0:
        return 0.0
    rows, cols = linear_sum_assignment(d)
    return float(d[rows, cols].mean())


def multimodality(palettes: Sequence[np.ndarray]) -> float:
    """Multimodality: mean pairwise :func:`palette_distance` between palettes generated for the
    same input with different noise draws.

    Parameters
    ----------
    palettes
        Two or more (n_i, 3) LCh palettes for one input.

    Returns
    -------
    float
        0 when all palettes are identical (e.g. noise off).
    """
    if len(palettes) < 2:
        raise ValueError("multimodality needs at least two palettes for the same input")
    dists = [palette_distance(a, b) for a, b in itertools.combinations(palettes, 2)]
    return float(np.mean(dists))


def lch_to_cartesian(lch: np.ndarray) -> np.ndarray:
    """Map LCh (n, 3) to the Cartesian form of the LCh cylinder ``(L, C cos h, C sin h)``.

    That is CIELAB; the conversion is :func:`m2p.colour.convert_np.lch_to_lab`'s.
    """
    return lch_to_lab(np.asarray(lch, dtype=np.float64).reshape(-1, 3))


def convex_hull_overlap(points_a: np.ndarray, points_b: np.ndarray, *, lch: bool = True) -> float:
    """Convex Hull Overlap: intersection-over-union of the convex hulls of two colour sets.

    Parameters
    ----------
    points_a, points_b
        (n, d) point sets; LCh colours (mapped with :func:`lch_to_cartesian`) when ``lch`` is
        true, else arbitrary d-dimensional points (d >= 2), used as given.
    lch
        Whether the inputs are LCh colours.

    Returns
    -------
    float
        ``vol(A ∩ B) / vol(A ∪ B)`` in [0, 1], with ``vol(A ∪ B) = vol(A) + vol(B) - vol(A ∩ B)``.
        0 when either hull is degenerate (fewer than d + 1 affinely independent points, so
        zero volume) or the hulls do not intersect.
    """
    a = lch_to_cartesian(points_a) if lch else np.asarray(points_a, dtype=np.float64)
    b = lch_to_cartesian(points_b) if lch else np.asarray(points_b, dtype=np.float64)
    try:
        hull_a = ConvexHull(a)
        hull_b = ConvexHull(b)
    except (QhullError, ValueError):
        return 0.0
    vol_a, vol_b = float(hull_a.volume), float(hull_b.volume)
    if vol_a <= 0 or vol_b <= 0:
        return 0.0
    halfspaces = np.vstack([hull_a.equations, hull_b.equations])  # A x + b <= 0
    interior = _chebyshev_centre(halfspaces)
    if interior is None:
        return 0.0
    try:
        inter = HalfspaceIntersection(halfspaces, interior)
        vol_i = float(ConvexHull(inter.intersections).volume)
    except (QhullError, ValueError):
        return 0.0
    vol_i = min(vol_i, vol_a, vol_b)
    return float(vol_i / (vol_a + vol_b - vol_i))


def lch_histogram(
    lch: np.ndarray,
    bins: Sequence[int] = (8, 8, 12),
    ranges: Sequence[tuple[float, float]] = LCH_RANGES,
) -> np.ndarray:
    """Normalised 3-D histogram of LCh colours.

    Parameters
    ----------
    lch
        (n, 3) colours; L and C are clipped into ``ranges``, h is taken modulo 360.
    bins
        Bins along L, C and h.
    ranges
        (low, high) per axis.

    Returns
    -------
    np.ndarray
        Histogram with shape ``bins`` summing to 1 (all zeros for an empty input).
    """
    pts = np.asarray(lch, dtype=np.float64).reshape(-1, 3).copy()
    if pts.shape[0] == 0:
        return np.zeros(tuple(bins))
    pts[:, 2] = np.mod(pts[:, 2], 360.0)
    for axis, (lo, hi) in enumerate(ranges):
        pts[:, axis] = np.clip(pts[:, axis], lo, hi - 1e-9 * (hi - lo))
    hist, _ = np.histogramdd(pts, bins=list(bins), range=list(ranges))
    return hist / hist.sum()


def bhattacharyya_coefficient(
    lch_a: np.ndarray,
    lch_b: np.ndarray,
    bins: Sequence[int] = (8, 8, 12),
    ranges: Sequence[tuple[float, float]] = LCH_RANGES,
) -> float:
    """Bhattacharyya coefficient ``sum_i sqrt(p_i q_i)`` of the normalised LCh histograms.

    1 for identical distributions, 0 for distributions with disjoint support.
    """
    p = lch_histogram(lch_a, bins, ranges)
    q = lch_histogram(lch_b, bins, ranges)
    return float(np.sqrt(p * q).sum())


def emotion_similarity(music: np.ndarray, palette: np.ndarray) -> float:
    """Emotion Similarity: mean cosine similarity between paired emotion vectors.

    Parameters
    ----------
    music, palette
        (N, k) or (k,) emotion vectors (row ``i`` of one pairs with row ``i`` of the other).

    Returns
    -------
    float
        Mean cosine; a zero vector gives similarity 0 for its pair.
    """
    a = np.atleast_2d(np.asarray(music, dtype=np.float64))
    b = np.atleast_2d(np.asarray(palette, dtype=np.float64))
    if a.shape != b.shape:
        raise ValueError(f"emotion arrays differ in shape: {a.shape} vs {b.shape}")
    num = (a * b).sum(axis=-1)
    den = np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1)
    cos = np.divide(num, den, out=np.zeros_like(num), where=den > 0)
    return float(cos.mean())


def js_divergence(p: np.ndarray, q: np.ndarray) -> float:
    """Mean Jensen-Shannon divergence (bits) between paired emotion distributions.

    Each row is normalised to sum to 1 first (non-negative inputs required); an all-zero row
    (no emotion, e.g. the neutral point) counts as the uniform distribution.
    ``JS(p, q) = (KL(p || m) + KL(q || m)) / 2`` with ``m = (p + q) / 2``; symmetric, 0 for
    identical rows, at most 1.
    """
    a = np.atleast_2d(np.asarray(p, dtype=np.float64))
    b = np.atleast_2d(np.asarray(q, dtype=np.float64))
    if a.shape != b.shape:
        raise ValueError(f"distribution arrays differ in shape: {a.shape} vs {b.shape}")
    if (a < 0).any() or (b < 0).any():
        raise ValueError("distributions must be non-negative")
    a, b = _normalise_rows(a), _normalise_rows(b)
    m = 0.5 * (a + b)
    js = 0.5 * (_kl_bits(a, m) + _kl_bits(b, m))
    return float(np.clip(js, 0.0, 1.0).mean())


# ---------------------------------------------------------------------------------- helpers


def _normalise_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to sum to 1; all-zero rows become uniform."""
    total = x.sum(axis=-1, keepdims=True)
    uniform = np.full_like(x, 1.0 / x.shape[-1])
    return np.where(total > 0, x / np.where(total > 0, total, 1.0), uniform)


def _kl_bits(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Row-wise KL(p || q) in bits, with 0 log 0 = 0 (q > 0 wherever p > 0 is assumed)."""
    ratio = np.divide(p, q, out=np.ones_like(p), where=p > 0)
    return (p * np.log2(ratio)).sum(axis=-1)


def _chebyshev_centre(halfspaces: np.ndarray) -> np.ndarray | None:
    """A point strictly inside ``{x : A x + b <= 0}`` (centre of the largest ball), or None."""
    a, b = halfspaces[:, :-1], halfspaces[:, -1]
    norms = np.linalg.norm(a, axis=1, keepdims=True)
    dim = a.shape[1]
    c = np.zeros(dim + 1)
    c[-1] = -1.0  # maximise the radius
    res = linprog(
        c,
        A_ub=np.hstack([a, norms]),
        b_ub=-b,
        bounds=[(None, None)] * dim + [(0, None)],
        method="highs",
    )
    if not res.success or res.x[-1] <= 1e-9:
        return None
    return res.x[:-1]
