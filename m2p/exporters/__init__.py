"""Palettes out to other tools: swatch files (``swatches``: json, css, gpl, ase, svg, png),
sections of a track (``sections``) and pictures (``render``: strips, timelines, terminal
swatches).

>>> import m2p.exporters
>>> m2p.exporters.export_palette("song.mp3", "song.ase", sections="auto")  # doctest: +SKIP
"""

from m2p._internal.lazy import attach

__getattr__, __dir__, __all__ = attach(__name__, {
    **{name: "m2p.exporters.swatches" for name in (
        "SWATCH_FORMATS", "NamedPalette", "export_palette", "to_ase", "to_css", "to_gpl",
        "to_json", "to_png", "to_svg", "write_swatches")},
    "track_sections": "m2p.exporters.sections",
})
