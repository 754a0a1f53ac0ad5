"""Colour science: conversions (``convert`` in torch, ``convert_np`` in NumPy), CIEDE2000,
gamut mapping, colour emotion (``emotion``), distinct and legible colours (``distinct``) and
the assignment that matches colours to colours (``assignment``).

The conversions are re-exported here (``m2p.colour.ciede2000``, ``m2p.colour.gamut_map_lch``,
...); importing the package itself imports no torch.
"""

from m2p._internal.lazy import attach

_CONVERT = (
    "srgb_to_linear", "linear_to_srgb", "srgb_to_xyz", "xyz_to_srgb", "xyz_to_lab", "lab_to_xyz",
    "lab_to_lch", "lch_to_lab", "srgb_to_lab", "lab_to_srgb", "srgb_to_lch", "lch_to_srgb",
    "ciede2000", "ciede2000_matrix", "in_srgb_gamut", "gamut_map_lch", "lch_to_hex",
    "hex_to_lch", "hex_to_rgb", "lch_to_rgb8", "as_float", "safe_sqrt", "WHITE_D65_XY",
    "WHITE_D65_XYZ", "MATRIX_SRGB_TO_XYZ", "MATRIX_XYZ_TO_SRGB",
)

__getattr__, __dir__, __all__ = attach(__name__, {
    **{name: "m2p.colour.convert" for name in _CONVERT},
    "relative_luminance": "m2p.colour.convert_np",
    "rgb8_to_hex": "m2p.colour.convert_np",
    "palette_emotion": "m2p.colour.emotion",
    "palette_valence_arousal": "m2p.colour.emotion",
})
