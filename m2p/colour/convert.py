"""Colour conversions, colour difference and gamut mapping, in differentiable torch.

The colour spaces are the ones every other module speaks: sRGB (IEC 61966-2-1, D65), CIE XYZ,
CIELAB 1976 and its polar form CIELCh (CIE 15:2004), all relative to the D65 white of the
CIE 1931 2 degree observer. Torch functions take tensors of shape ``(..., 3)`` in float32 or
float64 and keep gradients finite everywhere, including the achromatic axis (C = 0), black and
white, where the textbook formulas have infinite or undefined derivatives.

Ranges
    sRGB in [0, 1] (gamma encoded), linear RGB in [0, 1], XYZ with Y in [0, 1],
    L* in [0, 100], a* and b* roughly in [-128, 128], C* >= 0, h in degrees [0, 360).
    Conversions do not clip: colours outside the sRGB gamut give sRGB values outside [0, 1];
    use :func:`gamut_map_lch` to bring them in.

NaN
    NaN propagates element-wise through every torch function (a NaN in one colour makes that
    colour's outputs NaN and leaves the other colours alone); nothing raises. The numpy helpers
    that produce display colours (:func:`lch_to_hex`, :func:`lch_to_rgb8`) raise ``ValueError``
    on non-finite input because no display colour stands for "unknown".

References
----------
IEC 61966-2-1:1999, Multimedia systems and equipment - Colour measurement and management -
    Part 2-1: Default RGB colour space - sRGB.
CIE 15:2004, Colorimetry, 3rd edition. Commission Internationale de l'Eclairage.
Sharma, G., Wu, W. and Dalal, E. N. (2005). The CIEDE2000 color-difference formula:
    implementation notes, supplementary test data, and mathematical observations.
    Color Research & Application 30(1), 21-30.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import torch
from torch import Tensor

from m2p.colour.convert_np import LINEAR_THRESHOLD, SRGB_THRESHOLD, rgb8_to_hex
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
    "ciede2000",
    "ciede2000_matrix",
    "in_srgb_gamut",
    "gamut_map_lch",
    "lch_to_hex",
    "hex_to_lch",
    "hex_to_rgb",
    "lch_to_rgb8",
    "as_float",
    "safe_sqrt",
    "WHITE_D65_XY",
    "WHITE_D65_XYZ",
    "MATRIX_SRGB_TO_XYZ",
    "MATRIX_XYZ_TO_SRGB",
]

# ----------------------------------------------------------------------------------------------
# Constants
# ----------------------------------------------------------------------------------------------

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

# sRGB transfer function constants (IEC 61966-2-1), shared with the NumPy layer.
_SRGB_THRESHOLD = SRGB_THRESHOLD
_LINEAR_THRESHOLD = LINEAR_THRESHOLD


# ----------------------------------------------------------------------------------------------
# sRGB transfer function
# ----------------------------------------------------------------------------------------------


def srgb_to_linear(rgb: Tensor) -> Tensor:
    """Decode gamma-encoded sRGB to linear RGB (IEC 61966-2-1 transfer function).

    Parameters
    ----------
    rgb
        Tensor (..., 3) (or any shape; the function is element-wise), sRGB values, nominally
        in [0, 1]. Values below zero follow the linear segment, values above one the power law.

    Returns
    -------
    Tensor
        Linear RGB, same shape and dtype.

    Notes
    -----
    ``V <= 0.04045: V / 12.92``; otherwise ``((V + 0.055) / 1.055) ** 2.4``.

    References
    ----------
    IEC 61966-2-1:1999, section 5.2.
    """
    rgb = as_float(rgb)
    # The power branch is evaluated on a clamped copy so that torch.where does not
    # back-propagate NaN from a negative base in the branch it discards.
    power = ((rgb.clamp_min(_SRGB_THRESHOLD) + 0.055) / 1.055) ** 2.4
    return torch.where(rgb <= _SRGB_THRESHOLD, rgb / 12.92, power)


def linear_to_srgb(rgb: Tensor) -> Tensor:
    """Encode linear RGB to gamma-encoded sRGB (IEC 61966-2-1 transfer function).

    Parameters
    ----------
    rgb
        Tensor (..., 3), linear RGB, nominally in [0, 1]; not clipped.

    Returns
    -------
    Tensor
        sRGB values, same shape and dtype.

    Notes
    -----
    ``L <= 0.0031308: 12.92 L``; otherwise ``1.055 L ** (1 / 2.4) - 0.055``.

    References
    ----------
    IEC 61966-2-1:1999, section 5.3.
    """
    rgb = as_float(rgb)
    power = 1.055 * rgb.clamp_min(_LINEAR_THRESHOLD) ** (1.0 / 2.4) - 0.055
    return torch.where(rgb <= _LINEAR_THRESHOLD, 12.92 * rgb, power)


# ----------------------------------------------------------------------------------------------
# sRGB <-> XYZ
# ----------------------------------------------------------------------------------------------


def srgb_to_xyz(rgb: Tensor) -> Tensor:
    """Convert gamma-encoded sRGB to CIE XYZ (D65, Y of white = 1).

    Parameters
    ----------
    rgb
        Tensor (..., 3), sRGB in [0, 1].

    Returns
    -------
    Tensor
        Tensor (..., 3), XYZ tristimulus values with Y in [0, 1] for in-gamut colours.

    References
    ----------
    IEC 61966-2-1:1999, sections 5.2 and 5.3 (matrix derived from the primaries and the D65
    white point).
    """
    linear = srgb_to_linear(rgb)
    return linear @ _matrix(MATRIX_SRGB_TO_XYZ, linear).T


def xyz_to_srgb(xyz: Tensor) -> Tensor:
    """Convert CIE XYZ (D65, Y of white = 1) to gamma-encoded sRGB, without clipping.

    Parameters
    ----------
    xyz
        Tensor (..., 3), XYZ tristimulus values.

    Returns
    -------
    Tensor
        Tensor (..., 3), sRGB; out-of-gamut colours give values outside [0, 1].

    References
    ----------
    IEC 61966-2-1:1999, section 5.3.
    """
    xyz = as_float(xyz)
    return linear_to_srgb(xyz @ _matrix(MATRIX_XYZ_TO_SRGB, xyz).T)


# ----------------------------------------------------------------------------------------------
# XYZ <-> CIELAB <-> CIELCh
# ----------------------------------------------------------------------------------------------


def xyz_to_lab(xyz: Tensor) -> Tensor:
    """Convert CIE XYZ to CIELAB 1976 relative to the D65 white.

    Parameters
    ----------
    xyz
        Tensor (..., 3), XYZ with Y of white = 1.

    Returns
    -------
    Tensor
        Tensor (..., 3), (L*, a*, b*); L* in [0, 100] for Y in [0, 1].

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
    t = xyz / torch.as_tensor(WHITE_D65_XYZ, dtype=xyz.dtype, device=xyz.device)
    cube_root = t.clamp_min(_LAB_EPSILON) ** (1.0 / 3.0)
    f = torch.where(t > _LAB_EPSILON, cube_root, t * _LAB_SLOPE + _LAB_OFFSET)
    fx, fy, fz = f.unbind(-1)
    return torch.stack((116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)), dim=-1)


def lab_to_xyz(lab: Tensor) -> Tensor:
    """Convert CIELAB 1976 (D65 white) to CIE XYZ.

    Parameters
    ----------
    lab
        Tensor (..., 3), (L*, a*, b*).

    Returns
    -------
    Tensor
        Tensor (..., 3), XYZ with Y of white = 1.

    Notes
    -----
    Inverse of :func:`xyz_to_lab`: ``f^-1(u) = u ** 3`` for ``u > 6/29``, else
    ``3 (6/29) ** 2 (u - 4/29)``.

    References
    ----------
    CIE 15:2004, section 8.2.1 (inverse as given in its note 3).
    """
    lab = as_float(lab)
    L, a, b = lab.unbind(-1)
    fy = (L + 16.0) / 116.0
    f = torch.stack((fy + a / 500.0, fy, fy - b / 200.0), dim=-1)
    t = torch.where(f > _LAB_DELTA, f**3, (f - _LAB_OFFSET) / _LAB_SLOPE)
    return t * torch.as_tensor(WHITE_D65_XYZ, dtype=lab.dtype, device=lab.device)


def lab_to_lch(lab: Tensor) -> Tensor:
    """Convert CIELAB to CIELCh (polar form), with finite gradients on the neutral axis.

    Parameters
    ----------
    lab
        Tensor (..., 3), (L*, a*, b*).

    Returns
    -------
    Tensor
        Tensor (..., 3), (L*, C*ab, h_ab) with C* >= 0 and h in degrees [0, 360).
        Neutral colours (a* = b* = 0) get h = 0 by convention.

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
    L, a, b = lab.unbind(-1)
    C = _safe_hypot(a, b)
    return torch.stack((L, C, _safe_hue_degrees(a, b)), dim=-1)


def lch_to_lab(lch: Tensor) -> Tensor:
    """Convert CIELCh to CIELAB.

    Parameters
    ----------
    lch
        Tensor (..., 3), (L*, C*, h in degrees). Any hue value is accepted (it is periodic).

    Returns
    -------
    Tensor
        Tensor (..., 3), (L*, a*, b*) with ``a = C cos h``, ``b = C sin h``.

    References
    ----------
    CIE 15:2004, section 8.2.2.
    """
    lch = as_float(lch)
    L, C, h = lch.unbind(-1)
    h_rad = torch.deg2rad(h)
    return torch.stack((L, C * torch.cos(h_rad), C * torch.sin(h_rad)), dim=-1)


# ----------------------------------------------------------------------------------------------
# Composites
# ----------------------------------------------------------------------------------------------


def srgb_to_lab(rgb: Tensor) -> Tensor:
    """sRGB (..., 3) in [0, 1] -> CIELAB (..., 3); see :func:`srgb_to_xyz`, :func:`xyz_to_lab`."""
    return xyz_to_lab(srgb_to_xyz(rgb))


def lab_to_srgb(lab: Tensor) -> Tensor:
    """CIELAB (..., 3) -> sRGB (..., 3), unclipped; see :func:`lab_to_xyz`, :func:`xyz_to_srgb`."""
    return xyz_to_srgb(lab_to_xyz(lab))


def srgb_to_lch(rgb: Tensor) -> Tensor:
    """sRGB (..., 3) in [0, 1] -> CIELCh (..., 3) with h in degrees [0, 360)."""
    return lab_to_lch(srgb_to_lab(rgb))


def lch_to_srgb(lch: Tensor) -> Tensor:
    """CIELCh (..., 3), h in degrees -> sRGB (..., 3), unclipped (see :func:`gamut_map_lch`)."""
    return lab_to_srgb(lch_to_lab(lch))


# ----------------------------------------------------------------------------------------------
# CIEDE2000
# ----------------------------------------------------------------------------------------------


def ciede2000(lab1: Tensor, lab2: Tensor, *, k_L: float = 1.0, k_C: float = 1.0,
              k_H: float = 1.0) -> Tensor:
    """CIEDE2000 colour difference between two CIELAB colours, differentiable.

    Parameters
    ----------
    lab1, lab2
        Tensors (..., 3) of (L*, a*, b*); broadcast against each other.
    k_L, k_C, k_H
        Parametric weighting factors (1 for the reference conditions).

    Returns
    -------
    Tensor
        Tensor (...), Delta E_00 >= 0 (unitless CIELAB-like units). Symmetric in its arguments.

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
    lab1, lab2 = torch.broadcast_tensors(as_float(lab1), as_float(lab2))
    L1, a1, b1 = lab1.unbind(-1)
    L2, a2, b2 = lab2.unbind(-1)

    # (2)-(6): chroma-dependent stretch of a*, then C' and h'.
    C1 = _safe_hypot(a1, b1)
    C2 = _safe_hypot(a2, b2)
    C_bar = 0.5 * (C1 + C2)
    G = 0.5 * (1.0 - _chroma_weight_7(C_bar))
    a1p = (1.0 + G) * a1
    a2p = (1.0 + G) * a2
    C1p = _safe_hypot(a1p, b1)
    C2p = _safe_hypot(a2p, b2)
    h1p = _safe_hue_degrees(a1p, b1)
    h2p = _safe_hue_degrees(a2p, b2)

    # (8)-(10): differences. Hue difference wraps into [-180, 180]; zero if either is neutral.
    dLp = L2 - L1
    dCp = C2p - C1p
    chroma_product = C1p * C2p
    neutral = chroma_product == 0
    dh = h2p - h1p
    dh = torch.where(dh > 180.0, dh - 360.0, torch.where(dh < -180.0, dh + 360.0, dh))
    dh = torch.where(neutral, torch.zeros_like(dh), dh)
    dHp = 2.0 * safe_sqrt(chroma_product) * torch.sin(torch.deg2rad(dh) / 2.0)

    # (12)-(14): means. Mean hue follows the shorter arc; the plain sum if a colour is neutral.
    L_bar_p = 0.5 * (L1 + L2)
    C_bar_p = 0.5 * (C1p + C2p)
    h_sum = h1p + h2p
    far = (h1p - h2p).abs() > 180.0
    h_bar_p = torch.where(far, torch.where(h_sum < 360.0, h_sum + 360.0, h_sum - 360.0), h_sum)
    h_bar_p = torch.where(neutral, h_sum, 0.5 * h_bar_p)

    # (15)-(22): weighting functions and the rotation term.
    T = (1.0 - 0.17 * _cosd(h_bar_p - 30.0) + 0.24 * _cosd(2.0 * h_bar_p)
         + 0.32 * _cosd(3.0 * h_bar_p + 6.0) - 0.20 * _cosd(4.0 * h_bar_p - 63.0))
    d_theta = 30.0 * torch.exp(-(((h_bar_p - 275.0) / 25.0) ** 2))
    R_C = 2.0 * _chroma_weight_7(C_bar_p)
    L50 = (L_bar_p - 50.0) ** 2
    S_L = 1.0 + 0.015 * L50 / torch.sqrt(20.0 + L50)
    S_C = 1.0 + 0.045 * C_bar_p
    S_H = 1.0 + 0.015 * C_bar_p * T
    R_T = -torch.sin(torch.deg2rad(2.0 * d_theta)) * R_C

    tL = dLp / (k_L * S_L)
    tC = dCp / (k_C * S_C)
    tH = dHp / (k_H * S_H)
    return safe_sqrt(tL**2 + tC**2 + tH**2 + R_T * tC * tH)


# ----------------------------------------------------------------------------------------------
# Gamut mapping
# ----------------------------------------------------------------------------------------------


def in_srgb_gamut(lch: Tensor, *, atol: float = 1e-7) -> Tensor:
    """Whether CIELCh colours are inside the sRGB gamut.

    Parameters
    ----------
    lch
        Tensor (..., 3), (L*, C*, h in degrees).
    atol
        Tolerance on the sRGB values: a colour is inside when every channel is in
        ``[-atol, 1 + atol]``. The default absorbs float64 rounding; float32 needs about 1e-5.

    Returns
    -------
    Tensor
        Bool tensor (...). NaN colours are outside.
    """
    rgb = lch_to_srgb(lch)
    return ((rgb >= -atol) & (rgb <= 1.0 + atol)).all(dim=-1)


def gamut_map_lch(lch: Tensor, *, iterations: int = 40) -> Tensor:
    """Map CIELCh colours into the sRGB gamut by reducing chroma at constant lightness and hue.

    Parameters
    ----------
    lch
        Tensor (..., 3), (L*, C*, h in degrees). Negative chroma is treated as zero.
    iterations
        Bisection steps; 40 halvings of a chroma interval of at most a few hundred units reach
        about 1e-10, well below float32 resolution.

    Returns
    -------
    Tensor
        Tensor (..., 3), same dtype: L* clipped to [0, 100], h reduced to [0, 360), and C* the
        input chroma if the colour is inside sRGB, else the largest chroma inside sRGB at that
        L* and h (found by bisection, to within the tolerance of :func:`in_srgb_gamut`).
        NaN in any component of a colour gives NaN in all of that colour's outputs.

    Notes
    -----
    Chroma reduction toward the neutral axis at constant L* and h is the hue- and
    lightness-preserving clipping direction of CIE 156:2004 (its "HPMINDE"-like family);
    unlike per-channel clipping of RGB it never shifts hue, which matters for palettes where the
    hue is the message. The neutral axis is inside the gamut for every L* in [0, 100], so
    the bisection bracket [0, C] is always valid.

    Gradients: flow to L (where not clipped), to h, and to C where the colour was in gamut;
    the boundary chroma of out-of-gamut colours is computed without gradient (it is the result
    of a search), so their C* output has zero gradient.

    References
    ----------
    CIE 156:2004, Guidelines for the evaluation of gamut mapping algorithms.
    Morovic, J. (2008). Color Gamut Mapping. Wiley. Chapter 10 (clipping along lines of
    constant lightness and hue).
    """
    lch = as_float(lch)
    L, C, h = lch.unbind(-1)
    L = L.clamp(0.0, 100.0)
    C = C.clamp_min(0.0)
    h = torch.remainder(h, 360.0)
    h = torch.where(h >= 360.0, h - 360.0, h)  # remainder(-tiny, 360) rounds to 360
    with torch.no_grad():
        # The search runs in float64 so that the boundary it finds is also in gamut when
        # re-checked in float64 downstream.
        L64, C64, h64 = L.double(), C.double(), h.double()
        inside = in_srgb_gamut(torch.stack((L64, C64, h64), dim=-1))
        lo = torch.zeros_like(C64)
        hi = C64.clone()
        for _ in range(iterations):
            mid = 0.5 * (lo + hi)
            ok = in_srgb_gamut(torch.stack((L64, mid, h64), dim=-1))
            lo = torch.where(ok, mid, lo)
            hi = torch.where(ok, hi, mid)
        boundary = torch.where(inside, C64, lo).to(C.dtype)
    C_out = torch.where(inside.to(C.device), C, boundary.to(C.device))
    out = torch.stack((L, C_out, h), dim=-1)
    # Propagate NaN: a NaN anywhere in a colour poisons all its outputs (defined behaviour).
    bad = torch.isnan(lch).any(dim=-1, keepdim=True)
    return torch.where(bad, torch.full_like(out, float("nan")), out)


# ----------------------------------------------------------------------------------------------
# numpy helpers
# ----------------------------------------------------------------------------------------------

_HEX_RE = re.compile(r"^#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})$")


def ciede2000_matrix(lch_a: np.ndarray, lch_b: np.ndarray | None = None) -> np.ndarray:
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
    """
    a = torch.as_tensor(np.array(lch_a, dtype=np.float64).reshape(-1, 3))
    b = a if lch_b is None else torch.as_tensor(np.array(lch_b, dtype=np.float64).reshape(-1, 3))
    with torch.no_grad():
        return ciede2000(lch_to_lab(a)[:, None, :], lch_to_lab(b)[None, :, :]).numpy()


def lch_to_rgb8(lch: np.ndarray) -> np.ndarray:
    """Gamut-map CIELCh colours and quantise them to 8-bit sRGB.

    Parameters
    ----------
    lch
        Array-like (n, 3) (or (3,) for one colour), (L*, C*, h in degrees).

    Returns
    -------
    numpy.ndarray
        uint8 array (n, 3) (or (3,)), sRGB code values 0-255, rounded to nearest.

    Raises
    ------
    m2p.errors.InvalidArgumentError
        (A ``ValueError``.) If the input is not (..., 3) or contains NaN or infinity.
    """
    arr = np.asarray(lch, dtype=np.float64)
    if arr.ndim == 0 or arr.shape[-1] != 3:
        raise InvalidArgumentError(f"expected CIELCh colours of shape (n, 3), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise InvalidArgumentError("CIELCh colours contain NaN or infinity; no display colour for them")
    with torch.no_grad():
        rgb = lch_to_srgb(gamut_map_lch(torch.from_numpy(arr))).numpy()
    # Clipping here only removes the bisection tolerance (< 1e-7), never a visible change.
    return np.rint(np.clip(rgb, 0.0, 1.0) * 255.0).astype(np.uint8)


def lch_to_hex(lch: np.ndarray) -> list[str]:
    """Gamut-map CIELCh colours and format them as lower-case ``'#rrggbb'`` strings.

    Parameters
    ----------
    lch
        Array-like (n, 3), (L*, C*, h in degrees); a single colour (3,) gives a one-item list.

    Returns
    -------
    list of str
        ``n`` strings such as ``'#1f77b4'``.

    Raises
    ------
    m2p.errors.InvalidArgumentError
        (A ``ValueError``.) If the input is not (..., 3) or is not finite.
    """
    return rgb8_to_hex(lch_to_rgb8(lch))


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

    Raises
    ------
    m2p.errors.InvalidArgumentError
        (A ``ValueError``.) If a string is not a hex colour.
    """
    with torch.no_grad():
        return srgb_to_lch(torch.from_numpy(hex_to_rgb(hexes))).numpy()


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


# ----------------------------------------------------------------------------------------------
# Private helpers
# ----------------------------------------------------------------------------------------------


def as_float(x: Tensor) -> Tensor:
    """``x`` as a floating tensor: array-likes and integer tensors become float64; float32 and
    float64 tensors are kept as they are (no copy, same device)."""
    x = torch.as_tensor(x)
    if not torch.is_floating_point(x):
        x = x.to(torch.float64)
    return x


def _matrix(m: np.ndarray, like: Tensor) -> Tensor:
    return torch.as_tensor(m, dtype=like.dtype, device=like.device)


def safe_sqrt(x: Tensor) -> Tensor:
    """Square root with a zero (sub)gradient at ``x <= 0`` instead of inf or NaN.

    Non-positive values give 0. The one NaN rule of the package: NaN propagates (a NaN in is a
    NaN out, never a silent 0), so a bad input stays visible downstream.
    """
    positive = x > 0
    root = torch.sqrt(torch.where(positive, x, torch.ones_like(x)))
    kept = torch.where(positive, root, x)  # x here is NaN or non-positive
    return torch.where(positive | torch.isnan(x), kept, torch.zeros_like(x))


def _safe_hypot(a: Tensor, b: Tensor) -> Tensor:
    return safe_sqrt(a * a + b * b)


def _safe_hue_degrees(a: Tensor, b: Tensor) -> Tensor:
    # atan2 has derivative -b/(a^2+b^2), b/(a^2+b^2): 0/0 at the origin. Evaluate it at (1, 0)
    # there (hue 0, the convention of Sharma et al. and CIE) so the gradient is 0, not NaN.
    zero = (a == 0) & (b == 0)
    h = torch.rad2deg(torch.atan2(torch.where(zero, torch.zeros_like(b), b),
                                  torch.where(zero, torch.ones_like(a), a)))
    h = torch.where(h < 0, h + 360.0, h)
    # h + 360 can round to exactly 360 for h = -tiny; keep the range half-open.
    return torch.where(h >= 360.0, h - 360.0, h)


def _chroma_weight_7(c: Tensor) -> Tensor:
    # sqrt(c^7 / (c^7 + 25^7)) written as c^3.5 / sqrt(c^7 + 25^7): the same value, but the
    # derivative at c = 0 is 0 rather than 0 * inf.
    c = c.clamp_min(0.0)
    return c**3.5 / torch.sqrt(c**7 + 25.0**7)


def _cosd(deg: Tensor) -> Tensor:
    return torch.cos(torch.deg2rad(deg))

