"""The colour conversions as torch functions: tensors in and out, differentiable.

The torch face of :mod:`m2p.colour.convert_np`, which holds each formula once (with its notes
and references): these functions turn their input into a floating tensor (array-likes and
integer tensors become float64; float32 and float64 tensors are kept as they are, on their
device) and run the same formula in torch. Shapes are ``(..., 3)``; gradients stay finite
everywhere, including the achromatic axis (C = 0), black and white. NaN propagates
element-wise. The model, the training losses and the colour-transfer code use this face;
values (palettes, hex codes) use the NumPy one.

>>> import numpy as np
>>> lab = srgb_to_lab(np.array([[1.0, 0.0, 0.0]]))
>>> lab.dtype, lab.round(decimals=2).tolist()
(torch.float64, [[53.24, 80.09, 67.2]])
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from m2p.colour import _arrays
from m2p.colour import convert_np as _np
from m2p.colour.convert_np import (
    MATRIX_SRGB_TO_XYZ,
    MATRIX_XYZ_TO_SRGB,
    WHITE_D65_XY,
    WHITE_D65_XYZ,
    safe_sqrt,
)

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
    "as_float",
    "safe_sqrt",
    "WHITE_D65_XY",
    "WHITE_D65_XYZ",
    "MATRIX_SRGB_TO_XYZ",
    "MATRIX_XYZ_TO_SRGB",
]


def as_float(x: Any) -> Tensor:
    """``x`` as a floating tensor: array-likes and integer tensors become float64; float32 and
    float64 tensors are kept as they are (no copy, same device)."""
    return _arrays.as_float(x, torch)


def srgb_to_linear(rgb: Any) -> Tensor:
    """Decode sRGB (..., 3) to linear RGB; :func:`m2p.colour.convert_np.srgb_to_linear`."""
    return _np.srgb_to_linear(as_float(rgb))


def linear_to_srgb(rgb: Any) -> Tensor:
    """Encode linear RGB (..., 3) to sRGB; :func:`m2p.colour.convert_np.linear_to_srgb`."""
    return _np.linear_to_srgb(as_float(rgb))


def srgb_to_xyz(rgb: Any) -> Tensor:
    """sRGB (..., 3) to CIE XYZ (D65, Y of white = 1); :func:`m2p.colour.convert_np.srgb_to_xyz`."""
    return _np.srgb_to_xyz(as_float(rgb))


def xyz_to_srgb(xyz: Any) -> Tensor:
    """CIE XYZ (..., 3) to sRGB, unclipped; :func:`m2p.colour.convert_np.xyz_to_srgb`."""
    return _np.xyz_to_srgb(as_float(xyz))


def xyz_to_lab(xyz: Any) -> Tensor:
    """CIE XYZ (..., 3) to CIELAB (D65); :func:`m2p.colour.convert_np.xyz_to_lab`."""
    return _np.xyz_to_lab(as_float(xyz))


def lab_to_xyz(lab: Any) -> Tensor:
    """CIELAB (..., 3) to CIE XYZ; :func:`m2p.colour.convert_np.lab_to_xyz`."""
    return _np.lab_to_xyz(as_float(lab))


def lab_to_lch(lab: Any) -> Tensor:
    """CIELAB (..., 3) to CIELCh, h in degrees [0, 360); :func:`m2p.colour.convert_np.lab_to_lch`."""
    return _np.lab_to_lch(as_float(lab))


def lch_to_lab(lch: Any) -> Tensor:
    """CIELCh (..., 3), h in degrees, to CIELAB; :func:`m2p.colour.convert_np.lch_to_lab`."""
    return _np.lch_to_lab(as_float(lch))


def srgb_to_lab(rgb: Any) -> Tensor:
    """sRGB (..., 3) to CIELAB; :func:`m2p.colour.convert_np.srgb_to_lab`."""
    return _np.srgb_to_lab(as_float(rgb))


def lab_to_srgb(lab: Any) -> Tensor:
    """CIELAB (..., 3) to sRGB, unclipped; :func:`m2p.colour.convert_np.lab_to_srgb`."""
    return _np.lab_to_srgb(as_float(lab))


def srgb_to_lch(rgb: Any) -> Tensor:
    """sRGB (..., 3) to CIELCh; :func:`m2p.colour.convert_np.srgb_to_lch`."""
    return _np.srgb_to_lch(as_float(rgb))


def lch_to_srgb(lch: Any) -> Tensor:
    """CIELCh (..., 3) to sRGB, unclipped; :func:`m2p.colour.convert_np.lch_to_srgb`."""
    return _np.lch_to_srgb(as_float(lch))
