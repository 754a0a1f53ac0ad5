"""The sRGB gamut: which CIELCh colours a screen can show, and the nearest it can show.

:func:`in_srgb_gamut` tests, :func:`gamut_map_lch` brings colours in by reducing chroma at
constant lightness and hue (NumPy arrays or torch tensors, as :mod:`m2p.colour.convert_np`),
and :func:`lch_to_rgb8` / :func:`lch_to_hex` give the 8-bit display colours of the result,
which is what :attr:`m2p.palette_types.Palette.hex` shows.

Examples
--------
A red beyond sRGB keeps its lightness and hue and loses chroma:

>>> gamut_map_lch([50.0, 150.0, 40.0]).round(1).tolist()
[50.0, 99.7, 40.0]
>>> lch_to_hex([[50.0, 150.0, 40.0], [100.0, 0.0, 0.0]])
['#ef0000', '#ffffff']

References
----------
CIE 156:2004, Guidelines for the evaluation of gamut mapping algorithms.
Morovic, J. (2008). Color Gamut Mapping. Wiley. Chapter 10 (clipping along lines of
    constant lightness and hue).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from m2p.colour._arrays import as_float, namespace, no_grad, to_dtype
from m2p.colour.convert_np import lch_to_srgb, rgb8_to_hex
from m2p.errors import InvalidArgumentError

__all__ = ["in_srgb_gamut", "gamut_map_lch", "lch_to_rgb8", "lch_to_hex"]


def in_srgb_gamut(lch: Any, *, atol: float = 1e-7) -> Any:
    """Whether CIELCh colours are inside the sRGB gamut.

    Parameters
    ----------
    lch
        Array (..., 3), (L*, C*, h in degrees); NumPy or torch.
    atol
        Tolerance on the sRGB values: a colour is inside when every channel is in
        ``[-atol, 1 + atol]``. The default absorbs float64 rounding; float32 needs about 1e-5.

    Returns
    -------
    array
        Boolean (...), of the input's library. NaN colours are outside.
    """
    rgb = lch_to_srgb(lch)
    return ((rgb >= -atol) & (rgb <= 1.0 + atol)).all(-1)


def gamut_map_lch(lch: Any, *, iterations: int = 40) -> Any:
    """Map CIELCh colours into the sRGB gamut by reducing chroma at constant lightness and hue.

    Parameters
    ----------
    lch
        Array (..., 3), (L*, C*, h in degrees); NumPy (float64) or torch (its dtype kept).
        Negative chroma is treated as zero.
    iterations
        Bisection steps; 40 halvings of a chroma interval of at most a few hundred units reach
        about 1e-10, well below float32 resolution.

    Returns
    -------
    array
        (..., 3): L* clipped to [0, 100], h reduced to [0, 360), and C* the input chroma if
        the colour is inside sRGB, else the largest chroma inside sRGB at that L* and h (found
        by bisection, to within the tolerance of :func:`in_srgb_gamut`). NaN in any component
        of a colour gives NaN in all of that colour's outputs.

    Notes
    -----
    Chroma reduction toward the neutral axis at constant L* and h is the hue- and
    lightness-preserving clipping direction of CIE 156:2004 (its "HPMINDE"-like family);
    unlike per-channel clipping of RGB it never shifts hue, which matters for palettes where the
    hue is the message. The neutral axis is inside the gamut for every L* in [0, 100], so
    the bisection bracket [0, C] is always valid.

    Gradients (torch): flow to L (where not clipped), to h, and to C where the colour was in
    gamut; the boundary chroma of out-of-gamut colours is computed without gradient (it is the
    result of a search), so their C* output has zero gradient.

    References
    ----------
    CIE 156:2004, Guidelines for the evaluation of gamut mapping algorithms.
    Morovic, J. (2008). Color Gamut Mapping. Wiley. Chapter 10.
    """
    lch = as_float(lch)
    xp = namespace(lch)
    L = xp.clip(lch[..., 0], 0.0, 100.0)
    C = xp.clip(lch[..., 1], 0.0, None)
    h = xp.remainder(lch[..., 2], 360.0)
    h = xp.where(h >= 360.0, h - 360.0, h)  # remainder(-tiny, 360) rounds to 360
    with no_grad(lch):
        # The search runs in float64 so that the boundary it finds is also in gamut when
        # re-checked in float64 downstream.
        L64, C64, h64 = (to_dtype(v, xp.float64) for v in (L, C, h))
        inside = in_srgb_gamut(xp.stack((L64, C64, h64), -1))
        lo, hi = xp.zeros_like(C64), C64
        for _ in range(iterations):
            mid = 0.5 * (lo + hi)
            ok = in_srgb_gamut(xp.stack((L64, mid, h64), -1))
            lo = xp.where(ok, mid, lo)
            hi = xp.where(ok, hi, mid)
        boundary = to_dtype(xp.where(inside, C64, lo), C.dtype)
    out = xp.stack((L, xp.where(inside, C, boundary), h), -1)
    # Propagate NaN: a NaN anywhere in a colour poisons all its outputs (defined behaviour).
    bad = xp.isnan(lch).any(-1)[..., None]
    return xp.where(bad, xp.full_like(out, float("nan")), out)


def lch_to_rgb8(lch: Any) -> np.ndarray:
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
    rgb = lch_to_srgb(gamut_map_lch(arr))
    # Clipping here only removes the bisection tolerance (< 1e-7), never a visible change.
    return np.rint(np.clip(rgb, 0.0, 1.0) * 255.0).astype(np.uint8)


def lch_to_hex(lch: Any) -> list[str]:
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
