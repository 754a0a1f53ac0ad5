"""Colour science, one concept per module.

``convert_np``
    conversions between sRGB, XYZ, CIELAB, CIELCh and hex codes (NumPy; the formulas also run
    on torch tensors), with ``convert`` as their torch face (tensors in and out, differentiable)
``difference``
    CIEDE2000
``gamut``
    the sRGB gamut test, gamut mapping at constant lightness and hue, 8-bit display colours
``vision``
    colour-vision deficiency (Machado 2009) and WCAG 2 contrast
``emotion``
    Russell's circumplex and the colour-emotion and harmony models of palettes
``distinct``
    distinct colours grown from a palette (``Palette.take``) and from every window of a track
``legibility``
    the colours of a chart: legible order, series colours that keep a contrast, text and
    backgrounds (what every plotting adapter uses)
``ramps``
    sequential and diverging ramps built in CIELAB
``assignment``
    the minimum-cost assignment that matches colours to colours

The most used functions are re-exported here (``m2p.colour.ciede2000``,
``m2p.colour.gamut_map_lch``, ...); importing the package imports nothing, and only the torch
face ``convert`` imports torch.
"""

from m2p._internal.lazy import attach

_TORCH_CONVERT = (
    "srgb_to_linear", "linear_to_srgb", "srgb_to_xyz", "xyz_to_srgb", "xyz_to_lab", "lab_to_xyz",
    "lab_to_lch", "lch_to_lab", "srgb_to_lab", "lab_to_srgb", "srgb_to_lch", "lch_to_srgb",
    "as_float",
)
_NUMPY_CONVERT = (
    "hex_to_lch", "hex_to_rgb", "rgb8_to_hex", "rgb_to_hex", "safe_sqrt", "WHITE_D65_XY",
    "WHITE_D65_XYZ", "MATRIX_SRGB_TO_XYZ", "MATRIX_XYZ_TO_SRGB",
)

__getattr__, __dir__, __all__ = attach(__name__, {
    **{name: "m2p.colour.convert" for name in _TORCH_CONVERT},
    **{name: "m2p.colour.convert_np" for name in _NUMPY_CONVERT},
    "ciede2000": "m2p.colour.difference",
    "ciede2000_matrix": "m2p.colour.difference",
    "in_srgb_gamut": "m2p.colour.gamut",
    "gamut_map_lch": "m2p.colour.gamut",
    "lch_to_hex": "m2p.colour.gamut",
    "lch_to_rgb8": "m2p.colour.gamut",
    "simulate_cvd": "m2p.colour.vision",
    "relative_luminance": "m2p.colour.vision",
    "contrast_ratio": "m2p.colour.vision",
    "lightness_for_contrast": "m2p.colour.vision",
    "palette_emotion": "m2p.colour.emotion",
    "palette_valence_arousal": "m2p.colour.emotion",
    "distinct_colors": "m2p.colour.distinct",
})
