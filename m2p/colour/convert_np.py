"""Colour conversions: sRGB, CIE XYZ, CIELAB 1976, CIELCh and hex codes, on NumPy arrays.

The colour spaces are the ones every other module speaks: sRGB (IEC 61966-2-1, D65), CIE XYZ,
CIELAB 1976 and its polar form CIELCh (CIE 15:2004), all relative to the D65 white of the
CIE 1931 2 degree observer. Importing this module needs only NumPy.

Each formula is written once and computes in the library of its input (see
:mod:`m2p.colour._arrays`): array-likes give float64 NumPy arrays, torch tensors give tensors
with gradients that stay finite everywhere, including the achromatic axis (C = 0), black and
white, where the textbook formulas have infinite or undefined derivatives.
:mod:`m2p.colour.convert` is the torch face of this module (array-likes in, tensors out).

Ranges
    sRGB in [0, 1] (gamma encoded), linear RGB in [0, 1], XYZ with Y in [0, 1],
    L* in [0, 100], a* and b* roughly in [-128, 128], C* >= 0, h in degrees [0, 360).
    Conversions do not clip: colours outside the sRGB gamut give sRGB values outside [0, 1];
    use :func:`m2p.colour.gamut.gamut_map_lch` to bring them in.

NaN
    NaN propagates element-wise (a NaN in one colour makes that colour's outputs NaN and leaves
    the other colours alone); nothing raises. The functions that produce display colours
    (:func:`m2p.colour.gamut.lch_to_hex`, :func:`m2p.colour.gamut.lch_to_rgb8`) raise instead,
    because no display colour stands for "unknown".

Examples
--------
>>> lch = hex_to_lch(["#ff0000", "#ffffff"])
>>> lch.round(2).tolist()
[[53.24, 104.55, 40.0], [100.0, 0.0, 0.0]]
>>> rgb_to_hex(lch_to_srgb(lch))
['#ff0000', '#ffffff']

References
----------
IEC 61966-2-1:1999, Multimedia systems and equipment - Colour measurement and management -
    Part 2-1: Default RGB colour space - sRGB.
CIE 15:2004, Colorimetry, 3rd edition. Commission Internationale de l'Eclairage.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import numpy as np

from m2p.colour._arrays import as_float, constant, namespace
from m2p.errors import InvalidArgumentError

__all__ = [
    "srgb_to_linear",
    "linear_to_srgb",
    "srgb_to_xyz",
    "xyz_to_srgb",
    "xyz_to_lab",
    "lab_to_xyz",
    "lab_to_lch",
    "lch_to_lab",
    "srgb_to_lab",
    "lab_to_srgb",
    "srgb_to_lch",
    "lch_to_srgb",
    "hex_to_rgb",
    "hex_to_lch",
    "rgb8_to_lch",
    "rgb8_to_hex",
    "rgb_to_hex",
    "as_srgb",
    "safe_sqrt",
    "SRGB_THRESHOLD",
    "LINEAR_THRESHOLD",
    "WHITE_D65_XY",
    "WHITE_D65_XYZ",
    "MATRIX_SRGB_TO_XYZ",
    "MATRIX_XYZ_TO_SRGB",
]

# ----------------------------------------------------------------------------------------------
# Constants
# ----------------------------------------------------------------------------------------------

SRGB_THRESHOLD = 0.04045
"""Encoded sRGB value below which the transfer curve is linear (IEC 61966-2-1)."""

LINEAR_THRESHOLD = 0.0031308
"""Linear-light value below which the inverse transfer curve is linear (IEC 61966-2-1)."""

#: CIE 1931 2 degree chromaticity of illuminant D65 as used by IEC 61966-2-1 (x, y).
WHITE_D65_XY = (0.3127, 0.3290)

#: D65 white point tristimulus values, Y = 1 (about 0.95047, 1.0, 1.08883).
WHITE_D65_XYZ = (WHITE_D65_XY[0] / WHITE_D65_XY[1], 1.0,
                 (1.0 - WHITE_D65_XY[0] - WHITE_D65_XY[1]) / WHITE_D65_XY[1])

# sRGB primaries (x, y) from IEC 61966-2-1 (the ITU-R BT.709 primaries).
_SRGB_PRIMARIES_XY = ((0.64, 0.33), (0.30, 0.60), (0.15, 0.06))


def _rgb_to_xyz_matrix() -> np.ndarray:
    # Derived from the primaries and the white point (rather than the standard's 4-decimal
    # rounding) so that RGB (1, 1, 1) lands exactly on the Lab white point; this is also how
    # colour-science builds its sRGB matrix, which the tests compare against.
    xyz_primaries = np.array([[x / y, 1.0, (1.0 - x - y) / y] for x, y in _SRGB_PRIMARIES_XY]).T
    scale = np.linalg.solve(xyz_primaries, np.array(WHITE_D65_XYZ))
    return xyz_primaries * scale[None, :]


#: Linear sRGB -> XYZ (D65) matrix, row-major, float64 numpy array (3, 3).
MATRIX_SRGB_TO_XYZ = _rgb_to_xyz_matrix()
#: XYZ (D65) -> linear sRGB matrix, the inverse of :data:`MATRIX_SRGB_TO_XYZ`.
MATRIX_XYZ_TO_SRGB = np.linalg.inv(MATRIX_SRGB_TO_XYZ)

# CIE 15:2004 CIELAB constants written exactly: epsilon = (6/29)^3 = 216/24389,
# the slope of the linear segment 1 / (3 (6/29)^2) = 841/108, offset 4/29.
_LAB_DELTA = 6.0 / 29.0
_LAB_EPSILON = _LAB_DELTA**3
_LAB_SLOPE = 1.0 / (3.0 * _LAB_DELTA**2)
_LAB_OFFSET = 4.0 / 29.0

_HEX_RE = re.compile(r"^#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})$")


# ----------------------------------------------------------------------------------------------
# sRGB transfer function
# ----------------------------------------------------------------------------------------------


def srgb_to_linear(rgb: Any) -> Any:
    """Decode gamma-encoded sRGB to linear RGB (IEC 61966-2-1 transfer function).

    Parameters
    ----------
    rgb
        Array (..., 3) (or any shape; the function is element-wise), sRGB values, nominally
        in [0, 1]. Values below zero follow the linear segment, values above one the power law.

    Returns
    -------
    array
        Linear RGB, same shape.

    Notes
    -----
    ``V <= 0.04045: V / 12.92``; otherwise ``((V + 0.055) / 1.055) ** 2.4``.

    References
    ----------
    IEC 61966-2-1:1999, section 5.2.
    """
    rgb = as_float(rgb)
    xp = namespace(rgb)
    # The power branch is evaluated on a clamped copy so that `where` does not back-propagate
    # NaN from a negative base in the branch it discards.
    power = ((xp.clip(rgb, SRGB_THRESHOLD, None) + 0.055) / 1.055) ** 2.4
    return xp.where(rgb <= SRGB_THRESHOLD, rgb / 12.92, power)


def linear_to_srgb(rgb: Any) -> Any:
    """Encode linear RGB to gamma-encoded sRGB (IEC 61966-2-1 transfer function).

    Parameters
    ----------
    rgb
        Array (..., 3), linear RGB, nominally in [0, 1]; not clipped.

    Returns
    -------
    array
        sRGB values, same shape.

    Notes
    -----
    ``L <= 0.0031308: 12.92 L``; otherwise ``1.055 L ** (1 / 2.4) - 0.055``.

    References
    ----------
    IEC 61966-2-1:1999, section 5.3.
    """
    rgb = as_float(rgb)
    xp = namespace(rgb)
    power = 1.055 * xp.clip(rgb, LINEAR_THRESHOLD, None) ** (1.0 / 2.4) - 0.055
    return xp.where(rgb <= LINEAR_THRESHOLD, 12.92 * rgb, power)


# ----------------------------------------------------------------------------------------------
# sRGB <-> XYZ
# ----------------------------------------------------------------------------------------------


def srgb_to_xyz(rgb: Any) -> Any:
    """Convert gamma-encoded sRGB to CIE XYZ (D65, Y of white = 1).

    Parameters
    ----------
    rgb
        Array (..., 3), sRGB in [0, 1].

    Returns
    -------
    array
        (..., 3) XYZ tristimulus values with Y in [0, 1] for in-gamut colours.

    References
    ----------
    IEC 61966-2-1:1999, sections 5.2 and 5.3 (matrix derived from the primaries and the D65
    white point).
    """
    linear = srgb_to_linear(rgb)
    return linear @ constant(MATRIX_SRGB_TO_XYZ, linear).T


def xyz_to_srgb(xyz: Any) -> Any:
    """Convert CIE XYZ (D65, Y of white = 1) to gamma-encoded sRGB, without clipping.

    Parameters
    ----------
    xyz
        Array (..., 3), XYZ tristimulus values.

    Returns
    -------
    array
        (..., 3) sRGB; out-of-gamut colours give values outside [0, 1].

    References
    ----------
    IEC 61966-2-1:1999, section 5.3.
    """
    xyz = as_float(xyz)
    return linear_to_srgb(xyz @ constant(MATRIX_XYZ_TO_SRGB, xyz).T)


# ----------------------------------------------------------------------------------------------
# XYZ <-> CIELAB <-> CIELCh
# ----------------------------------------------------------------------------------------------


def xyz_to_lab(xyz: Any) -> Any:
    """Convert CIE XYZ to CIELAB 1976 relative to the D65 white.

    Parameters
    ----------
    xyz
        Array (..., 3), XYZ with Y of white = 1.

    Returns
    -------
    array
        (..., 3) (L*, a*, b*); L* in [0, 100] for Y in [0, 1].

    Notes
    -----
    ``f(t) = t ** (1/3)`` for ``t > (6/29) ** 3``, else ``t / (3 (6/29) ** 2) + 4/29``;
    ``L* = 116 f(Y/Yn) - 16``, ``a* = 500 (f(X/Xn) - f(Y/Yn))``, ``b* = 200 (f(Y/Yn) - f(Z/Zn))``.
    The cube root is evaluated on a clamped copy so its infinite slope at zero never reaches
    the gradient.

    References
    ----------
    CIE 15:2004, section 8.2.1.
    """
    xyz = as_float(xyz)
    xp = namespace(xyz)
    t = xyz / constant(WHITE_D65_XYZ, xyz)
    cube_root = xp.clip(t, _LAB_EPSILON, None) ** (1.0 / 3.0)
    f = xp.where(t > _LAB_EPSILON, cube_root, t * _LAB_SLOPE + _LAB_OFFSET)
    fx, fy, fz = f[..., 0], f[..., 1], f[..., 2]
    return xp.stack((116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)), -1)


def lab_to_xyz(lab: Any) -> Any:
    """Convert CIELAB 1976 (D65 white) to CIE XYZ.

    Parameters
    ----------
    lab
        Array (..., 3), (L*, a*, b*).

    Returns
    -------
    array
        (..., 3) XYZ with Y of white = 1.

    Notes
    -----
    Inverse of :func:`xyz_to_lab`: ``f^-1(u) = u ** 3`` for ``u > 6/29``, else
    ``3 (6/29) ** 2 (u - 4/29)``.

    References
    ----------
    CIE 15:2004, section 8.2.1 (inverse as given in its note 3).
    """
    lab = as_float(lab)
    xp = namespace(lab)
    fy = (lab[..., 0] + 16.0) / 116.0
    f = xp.stack((fy + lab[..., 1] / 500.0, fy, fy - lab[..., 2] / 200.0), -1)
    t = xp.where(f > _LAB_DELTA, f**3, (f - _LAB_OFFSET) / _LAB_SLOPE)
    return t * constant(WHITE_D65_XYZ, lab)


def lab_to_lch(lab: Any) -> Any:
    """Convert CIELAB to CIELCh (polar form), with finite gradients on the neutral axis.

    Parameters
    ----------
    lab
        Array (..., 3), (L*, a*, b*).

    Returns
    -------
    array
        (..., 3) (L*, C*ab, h_ab) with C* >= 0 and h in degrees [0, 360). Neutral colours
        (a* = b* = 0) get h = 0 by convention.

    Notes
    -----
    ``C = sqrt(a^2 + b^2)``, ``h = atan2(b, a)``. At a = b = 0 both have no derivative; the
    implementation substitutes a safe point there, so the gradient is zero (a subgradient of C
    and an arbitrary but finite choice for h) instead of NaN.

    References
    ----------
    CIE 15:2004, section 8.2.2.
    """
    lab = as_float(lab)
    a, b = lab[..., 1], lab[..., 2]
    return namespace(lab).stack((lab[..., 0], safe_hypot(a, b), hue_degrees(a, b)), -1)


def lch_to_lab(lch: Any) -> Any:
    """Convert CIELCh to CIELAB.

    Parameters
    ----------
    lch
        Array (..., 3), (L*, C*, h in degrees). Any hue value is accepted (it is periodic).

    Returns
    -------
    array
        (..., 3) (L*, a*, b*) with ``a = C cos h``, ``b = C sin h``.

    References
    ----------
    CIE 15:2004, section 8.2.2.
    """
    lch = as_float(lch)
    xp = namespace(lch)
    C, h_rad = lch[..., 1], xp.deg2rad(lch[..., 2])
    return xp.stack((lch[..., 0], C * xp.cos(h_rad), C * xp.sin(h_rad)), -1)


# ----------------------------------------------------------------------------------------------
# Composites
# ----------------------------------------------------------------------------------------------


def srgb_to_lab(rgb: Any) -> Any:
    """sRGB (..., 3) in [0, 1] -> CIELAB (..., 3); see :func:`srgb_to_xyz`, :func:`xyz_to_lab`."""
    return xyz_to_lab(srgb_to_xyz(rgb))


def lab_to_srgb(lab: Any) -> Any:
    """CIELAB (..., 3) -> sRGB (..., 3), unclipped; see :func:`lab_to_xyz`, :func:`xyz_to_srgb`."""
    return xyz_to_srgb(lab_to_xyz(lab))


def srgb_to_lch(rgb: Any) -> Any:
    """sRGB (..., 3) in [0, 1] -> CIELCh (..., 3) with h in degrees [0, 360)."""
    return lab_to_lch(srgb_to_lab(rgb))


def lch_to_srgb(lch: Any) -> Any:
    """CIELCh (..., 3), h in degrees -> sRGB (..., 3), unclipped
    (see :func:`m2p.colour.gamut.gamut_map_lch`)."""
    return lab_to_srgb(lch_to_lab(lch))


# ----------------------------------------------------------------------------------------------
# Hex codes
# ----------------------------------------------------------------------------------------------


def hex_to_rgb(hexes: str | Iterable[str]) -> np.ndarray:
    """Parse hex colours (``'#rrggbb'``, ``'rrggbb'`` or ``'#rgb'``) into sRGB.

    Parameters
    ----------
    hexes
        One string or an iterable of strings.

    Returns
    -------
    numpy.ndarray
        float64 array (n, 3), sRGB in [0, 1]; n = 1 for a single string.

    Raises
    ------
    m2p.errors.InvalidArgumentError
        (A ``ValueError``.) If a string is not a hex colour.

    Examples
    --------
    >>> hex_to_rgb("#f80").tolist()
    [[1.0, 0.5333333333333333, 0.0]]
    """
    items = [hexes] if isinstance(hexes, str) else list(hexes)
    rgb = np.empty((len(items), 3), dtype=np.float64)
    for i, item in enumerate(items):
        match = _HEX_RE.match(item.strip()) if isinstance(item, str) else None
        if match is None:
            raise InvalidArgumentError(f"not a hex colour: {item!r}")
        digits = match.group(1)
        if len(digits) == 3:
            digits = "".join(c * 2 for c in digits)
        rgb[i] = [int(digits[k:k + 2], 16) / 255.0 for k in (0, 2, 4)]
    return rgb


def hex_to_lch(hexes: str | Iterable[str]) -> np.ndarray:
    """Parse hex colours (``'#rrggbb'``, ``'rrggbb'`` or ``'#rgb'``) into CIELCh.

    Parameters
    ----------
    hexes
        One string or an iterable of strings.

    Returns
    -------
    numpy.ndarray
        float64 array (n, 3), (L*, C*, h in degrees [0, 360)); n = 1 for a single string.
        Greys (equal channels) are exactly neutral: C = 0 and h = 0.

    Raises
    ------
    m2p.errors.InvalidArgumentError
        (A ``ValueError``.) If a string is not a hex colour.

    Examples
    --------
    >>> hex_to_lch(["#777777", "#ffffff"]).round(4).tolist()
    [[50.0344, 0.0, 0.0], [100.0, 0.0, 0.0]]
    """
    return _exact_greys(hex_to_rgb(hexes))


def rgb8_to_lch(rgb8: Any) -> np.ndarray:
    """8-bit sRGB code values (n, 3) (or (3,)) to CIELCh (n, 3), float64; greys (equal
    channels) are exactly neutral, as in :func:`hex_to_lch`."""
    return _exact_greys(np.asarray(rgb8, dtype=np.float64).reshape(-1, 3) / 255.0)


def rgb8_to_hex(rgb8: np.ndarray | Iterable[Iterable[int]]) -> list[str]:
    """8-bit sRGB code values ``(n, 3)`` (or ``(3,)``) to lower-case ``'#rrggbb'`` strings.

    >>> rgb8_to_hex([16, 32, 48])
    ['#102030']
    """
    rows = np.asarray(rgb8).reshape(-1, 3)
    return ["#{:02x}{:02x}{:02x}".format(*map(int, row)) for row in rows]


def rgb_to_hex(rgb: Any) -> list[str]:
    """sRGB in [0, 1] ``(n, 3)`` (or ``(3,)``) to ``'#rrggbb'``: clipped, rounded to nearest.

    >>> rgb_to_hex([[1.0, 0.5, 0.0], [2.0, -1.0, 0.2]])
    ['#ff8000', '#ff0033']
    """
    rgb = np.clip(np.asarray(rgb, dtype=np.float64), 0.0, 1.0)
    return rgb8_to_hex(np.rint(rgb * 255.0).astype(np.uint8))


def as_srgb(colors: Any) -> np.ndarray:
    """Colours given as hex codes or as sRGB values in [0, 1], as a float64 sRGB array.

    Parameters
    ----------
    colors
        One hex string (gives shape (3,)), a list of hex strings (n, 3), or sRGB values
        (..., 3), returned as they are.

    Examples
    --------
    >>> as_srgb("#ff0000").tolist()
    [1.0, 0.0, 0.0]
    >>> as_srgb(["#000", "#fff"]).tolist()
    [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]]
    """
    if isinstance(colors, str):
        return hex_to_rgb(colors)[0]
    if isinstance(colors, (list, tuple)) and colors and all(isinstance(c, str) for c in colors):
        return hex_to_rgb(colors)
    return np.asarray(colors, dtype=np.float64)


def _exact_greys(rgb: np.ndarray) -> np.ndarray:
    """CIELCh of displayed sRGB colours (n, 3), greys exactly on the neutral axis.

    A grey (R = G = B) has a* = b* = 0 in exact arithmetic (the matrix maps sRGB white to the
    D65 white), but rounding in the transfer curve and the cube root leaves it a* and b* of
    about 1e-14, and so an arbitrary hue that differs between libraries and CPUs (and which
    :mod:`m2p.colour.distinct` would grow new colours around). Such colours get C = 0 and
    h = 0, the CIE convention for neutrals.
    """
    lch = srgb_to_lch(rgb)
    grey = (rgb[:, 0] == rgb[:, 1]) & (rgb[:, 1] == rgb[:, 2])
    lch[grey, 1:] = 0.0
    return lch


# ----------------------------------------------------------------------------------------------
# Safe elementary functions (finite gradients in torch; plain values in NumPy)
# ----------------------------------------------------------------------------------------------


def safe_sqrt(x: Any) -> Any:
    """Square root with a zero (sub)gradient at ``x <= 0`` instead of inf or NaN.

    Non-positive values give 0. The one NaN rule of the package: NaN propagates (a NaN in is a
    NaN out, never a silent 0), so a bad input stays visible downstream.

    >>> safe_sqrt(np.array([4.0, 0.0, -1.0, np.nan])).tolist()
    [2.0, 0.0, 0.0, nan]
    """
    xp = namespace(x)
    positive = x > 0
    root = xp.sqrt(xp.where(positive, x, xp.ones_like(x)))
    kept = xp.where(positive, root, x)  # x here is NaN or non-positive
    return xp.where(positive | xp.isnan(x), kept, xp.zeros_like(x))


def safe_hypot(a: Any, b: Any) -> Any:
    """``sqrt(a^2 + b^2)`` with a zero gradient at the origin (:func:`safe_sqrt`)."""
    return safe_sqrt(a * a + b * b)


def hue_degrees(a: Any, b: Any) -> Any:
    """Hue angle ``atan2(b, a)`` in degrees [0, 360); 0 (with zero gradient) at a = b = 0."""
    xp = namespace(a, b)
    # atan2 has derivative -b/(a^2+b^2), b/(a^2+b^2): 0/0 at the origin. Evaluate it at (1, 0)
    # there (hue 0, the convention of Sharma et al. and CIE) so the gradient is 0, not NaN.
    zero = (a == 0) & (b == 0)
    h = xp.rad2deg(xp.arctan2(xp.where(zero, xp.zeros_like(b), b),
                              xp.where(zero, xp.ones_like(a), a)))
    h = xp.where(h < 0, h + 360.0, h)
    # h + 360 can round to exactly 360 for h = -tiny; keep the range half-open.
    return xp.where(h >= 360.0, h - 360.0, h)
