"""CIEDE2000 colour difference (CIE 142-2001), for NumPy arrays and torch tensors.

:func:`ciede2000` is the formula, written once: NumPy arrays give NumPy results, torch tensors
give differentiable tensors (the training losses), with gradients that stay finite for
identical and for neutral colours. :func:`ciede2000_matrix` compares every colour of one CIELCh
palette with every colour of another, in NumPy (slot alignment, section boundaries, metrics,
legible orders).

Examples
--------
The first pair of Sharma et al.'s test data:

>>> float(ciede2000([50.0, 2.6772, -79.7751], [50.0, 0.0, -82.7485])).__round__(4)
2.0425

References
----------
CIE 142-2001, Improvement to industrial colour-difference evaluation.
Sharma, G., Wu, W. and Dalal, E. N. (2005). The CIEDE2000 color-difference formula:
    implementation notes, supplementary test data, and mathematical observations.
    Color Research & Application 30(1), 21-30.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from m2p.colour._arrays import as_float, broadcast, namespace
from m2p.colour.convert_np import hue_degrees, lch_to_lab, safe_hypot, safe_sqrt

__all__ = ["ciede2000", "ciede2000_fast", "ciede2000_matrix"]


def ciede2000(lab1: Any, lab2: Any, *, k_L: float = 1.0, k_C: float = 1.0,
              k_H: float = 1.0) -> Any:
    """CIEDE2000 colour difference between two CIELAB colours.

    Parameters
    ----------
    lab1, lab2
        Arrays (..., 3) of (L*, a*, b*); broadcast against each other. If either is a torch
        tensor the result is a tensor (differentiable), else a float64 NumPy array.
    k_L, k_C, k_H
        Parametric weighting factors (1 for the reference conditions).

    Returns
    -------
    array
        (...) Delta E_00 >= 0 (unitless CIELAB-like units). Symmetric in its arguments.

    Notes
    -----
    Follows the implementation notes of Sharma et al. (2005), equations (1)-(22), including
    their conventions for the hue of neutral colours (h' = 0 where a' = b' = 0), for the hue
    difference and the mean hue when one colour is neutral (C'1 C'2 = 0), and the 180 degree
    branch rules. The square roots whose derivative is infinite at zero (the final distance,
    sqrt(C'1 C'2), C'ab and the hue angles) are guarded, so gradients stay finite for
    identical and for neutral colours.

    References
    ----------
    CIE 142-2001, Improvement to industrial colour-difference evaluation.
    Sharma, G., Wu, W. and Dalal, E. N. (2005). Color Research & Application 30(1), 21-30.
    """
    xp = namespace(lab1, lab2)
    lab1, lab2 = broadcast(as_float(lab1, xp), as_float(lab2, xp))
    L1, a1, b1 = lab1[..., 0], lab1[..., 1], lab1[..., 2]
    L2, a2, b2 = lab2[..., 0], lab2[..., 1], lab2[..., 2]

    # (2)-(6): chroma-dependent stretch of a*, then C' and h'.
    C1 = safe_hypot(a1, b1)
    C2 = safe_hypot(a2, b2)
    C_bar = 0.5 * (C1 + C2)
    G = 0.5 * (1.0 - _chroma_weight_7(C_bar))
    a1p = (1.0 + G) * a1
    a2p = (1.0 + G) * a2
    C1p = safe_hypot(a1p, b1)
    C2p = safe_hypot(a2p, b2)
    h1p = hue_degrees(a1p, b1)
    h2p = hue_degrees(a2p, b2)

    # (8)-(10): differences. Hue difference wraps into [-180, 180]; zero if either is neutral.
    dLp = L2 - L1
    dCp = C2p - C1p
    chroma_product = C1p * C2p
    neutral = chroma_product == 0
    dh = h2p - h1p
    dh = xp.where(dh > 180.0, dh - 360.0, xp.where(dh < -180.0, dh + 360.0, dh))
    dh = xp.where(neutral, xp.zeros_like(dh), dh)
    dHp = 2.0 * safe_sqrt(chroma_product) * xp.sin(xp.deg2rad(dh) / 2.0)

    # (12)-(14): means. Mean hue follows the shorter arc; the plain sum if a colour is neutral.
    L_bar_p = 0.5 * (L1 + L2)
    C_bar_p = 0.5 * (C1p + C2p)
    h_sum = h1p + h2p
    far = xp.abs(h1p - h2p) > 180.0
    h_bar_p = xp.where(far, xp.where(h_sum < 360.0, h_sum + 360.0, h_sum - 360.0), h_sum)
    h_bar_p = xp.where(neutral, h_sum, 0.5 * h_bar_p)

    # (15)-(22): weighting functions and the rotation term.
    T = (1.0 - 0.17 * _cosd(xp, h_bar_p - 30.0) + 0.24 * _cosd(xp, 2.0 * h_bar_p)
         + 0.32 * _cosd(xp, 3.0 * h_bar_p + 6.0) - 0.20 * _cosd(xp, 4.0 * h_bar_p - 63.0))
    d_theta = 30.0 * xp.exp(-(((h_bar_p - 275.0) / 25.0) ** 2))
    R_C = 2.0 * _chroma_weight_7(C_bar_p)
    L50 = (L_bar_p - 50.0) ** 2
    S_L = 1.0 + 0.015 * L50 / xp.sqrt(20.0 + L50)
    S_C = 1.0 + 0.045 * C_bar_p
    S_H = 1.0 + 0.015 * C_bar_p * T
    R_T = -xp.sin(xp.deg2rad(2.0 * d_theta)) * R_C

    tL = dLp / (k_L * S_L)
    tC = dCp / (k_C * S_C)
    tH = dHp / (k_H * S_H)
    return safe_sqrt(tL**2 + tC**2 + tH**2 + R_T * tC * tH)


def ciede2000_fast(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """:func:`ciede2000` for NumPy arrays, about twice as fast (no gradients, no torch).

    The same formula, written with hue *vectors* instead of hue angles: the hue difference
    as the chord between the two unit hue vectors times ``sqrt(C'1 C'2)`` (its sign from their
    cross product), the mean hue as the direction of their sum (the bisector of the shorter
    arc, as the formula's branch rules pick it; at exactly opposite hues the lower hue plus 90
    degrees, as the formula gives), and the weighting function T from multiple-angle
    identities. That leaves one arctangent, one exponential and one sine per pair (the angle
    form needs two arctangents, four cosines, two sines and two powers), which matters where
    millions of pairs are measured (:mod:`m2p.colour.distinct`'s search). In double precision
    it agrees with :func:`ciede2000` to about 1e-10 (Sharma et al.'s 34 pairs included).

    Parameters
    ----------
    lab1, lab2
        Arrays (..., 3) of CIELAB (L*, a*, b*), broadcast against each other. Two float32
        arrays are measured in single precision (error up to ~1e-4 for differences below 35,
        more for far pairs at near-opposite hues); anything else in double.

    Returns
    -------
    numpy.ndarray
        (...) Delta E_00 >= 0, float32 for float32 inputs, else float64.
    """
    lab1, lab2 = np.asarray(lab1), np.asarray(lab2)
    if not (lab1.dtype == lab2.dtype == np.float32):
        lab1, lab2 = lab1.astype(np.float64), lab2.astype(np.float64)
    # Contiguous components: every step below is then a vectorised loop.
    L1, a1, b1 = (np.ascontiguousarray(lab1[..., i]) for i in range(3))
    L2, a2, b2 = (np.ascontiguousarray(lab2[..., i]) for i in range(3))
    C_bar = 0.5 * (np.sqrt(a1 * a1 + b1 * b1) + np.sqrt(a2 * a2 + b2 * b2))
    G = 1.5 - 0.5 * _chroma_weight_7_fast(C_bar)  # 1 + G of the formula
    a1p, a2p = G * a1, G * a2
    C1p = np.sqrt(a1p * a1p + b1 * b1)
    C2p = np.sqrt(a2p * a2p + b2 * b2)
    # Unit hue vectors (zero for a neutral colour, whose hue the formula leaves out).
    inv1 = np.divide(1.0, C1p, out=np.zeros_like(C1p), where=C1p > 0.0)
    inv2 = np.divide(1.0, C2p, out=np.zeros_like(C2p), where=C2p > 0.0)
    x1, y1, x2, y2 = a1p * inv1, b1 * inv1, a2p * inv2, b2 * inv2
    # Mean hue: the direction of the sum of the unit vectors (a neutral colour adds none, so
    # the other's hue is the mean, as the formula's rule for C'1 C'2 = 0 gives). At exactly
    # opposite hues the sum vanishes and the formula takes the lower hue plus 90 degrees.
    x, y = x1 + x2, y1 + y2
    length = np.sqrt(x * x + y * y)
    first_lower = (y1 > 0.0) | ((y1 == 0.0) & (x1 > 0.0))  # its hue lies in [0, 180)
    opposite = (length < 1e-12) & (C1p * C2p > 0.0)
    if opposite.any():  # rare: fixed up where it happens (np.where over all is slow)
        lower = opposite & first_lower
        upper = opposite & ~first_lower
        x[lower], y[lower] = -y1[lower], x1[lower]
        x[upper], y[upper] = -y2[upper], x2[upper]
        length[opposite] = 1.0
    # Both neutral: no hue at all, and the formula's mean hue is 0 (cos 1, sin 0).
    none = length == 0.0
    x, length = x + none, length + none
    cos1, sin1 = x / length, y / length
    # Hue difference 2 sqrt(C'1 C'2) sin(dh / 2): the chord between the unit vectors is
    # 2 |sin(dh / 2)| (no cancellation for near hues); its sign is that of sin(dh), and at
    # exactly opposite hues that of h'2 - h'1.
    cross = x1 * y2 - x2 * y1
    negative = (cross < 0.0) | ((cross == 0.0) & ~first_lower)
    dHp = np.sqrt((x2 - x1) ** 2 + (y2 - y1) ** 2) * np.sqrt(C1p * C2p)
    np.negative(dHp, out=dHp, where=negative)
    h_bar = np.degrees(np.arctan2(sin1, cos1))  # (-180, 180]; the formula's is [0, 360)
    h_bar += 360.0 * (h_bar < 0.0)
    cos2, sin2 = cos1 * cos1 - sin1 * sin1, 2.0 * sin1 * cos1
    cos3, sin3 = cos1 * cos2 - sin1 * sin2, sin1 * cos2 + cos1 * sin2
    cos4, sin4 = cos2 * cos2 - sin2 * sin2, 2.0 * sin2 * cos2
    T = (1.0 - 0.17 * (cos1 * _COS30 + sin1 * _SIN30) + 0.24 * cos2
         + 0.32 * (cos3 * _COS6 - sin3 * _SIN6) - 0.20 * (cos4 * _COS63 + sin4 * _SIN63))
    d_theta = 30.0 * np.exp(-(((h_bar - 275.0) / 25.0) ** 2))
    C_bar_p = 0.5 * (C1p + C2p)
    L50 = (0.5 * (L1 + L2) - 50.0) ** 2
    S_L = 1.0 + 0.015 * L50 / np.sqrt(20.0 + L50)
    S_C = 1.0 + 0.045 * C_bar_p
    S_H = 1.0 + 0.015 * C_bar_p * T
    R_T = -np.sin(np.deg2rad(2.0 * d_theta)) * 2.0 * _chroma_weight_7_fast(C_bar_p)
    tL = (L2 - L1) / S_L
    tC = (C2p - C1p) / S_C
    tH = dHp / S_H
    return np.sqrt(np.maximum(tL * tL + tC * tC + tH * tH + R_T * tC * tH, 0.0))


def ciede2000_matrix(lch_a: Any, lch_b: Any | None = None) -> np.ndarray:
    """CIEDE2000 differences between every colour of two CIELCh palettes.

    Parameters
    ----------
    lch_a
        Array (n, 3), CIELCh (L 0-100, C >= 0, h degrees).
    lch_b
        Array (m, 3); ``None`` compares ``lch_a`` with itself.

    Returns
    -------
    numpy.ndarray
        (n, m) float64, ``[i, j]`` = :func:`ciede2000` between colour i of ``lch_a`` and
        colour j of ``lch_b``.

    Examples
    --------
    >>> ciede2000_matrix([[50.0, 0.0, 0.0], [60.0, 0.0, 0.0]]).round(2).tolist()
    [[0.0, 9.47], [9.47, 0.0]]
    """
    a = lch_to_lab(np.array(lch_a, dtype=np.float64).reshape(-1, 3))
    b = a if lch_b is None else lch_to_lab(np.array(lch_b, dtype=np.float64).reshape(-1, 3))
    return ciede2000(a[:, None, :], b[None, :, :])


def _chroma_weight_7(c: Any) -> Any:
    # sqrt(c^7 / (c^7 + 25^7)) written as c^3.5 / sqrt(c^7 + 25^7): the same value, but the
    # derivative at c = 0 is 0 rather than 0 * inf.
    xp = namespace(c)
    c = xp.clip(c, 0.0, None)
    return c**3.5 / xp.sqrt(c**7 + 25.0**7)


def _cosd(xp: Any, deg: Any) -> Any:
    return xp.cos(xp.deg2rad(deg))


def _chroma_weight_7_fast(c: np.ndarray) -> np.ndarray:
    # sqrt(c^7 / (c^7 + 25^7)), c^7 by multiplications (a power is a transcendental call).
    c2 = c * c
    c7 = c2 * c2 * c2 * c
    return np.sqrt(c7 / (c7 + 25.0**7))


_COS30, _SIN30 = math.cos(math.radians(30.0)), math.sin(math.radians(30.0))
_COS6, _SIN6 = math.cos(math.radians(6.0)), math.sin(math.radians(6.0))
_COS63, _SIN63 = math.cos(math.radians(63.0)), math.sin(math.radians(63.0))
