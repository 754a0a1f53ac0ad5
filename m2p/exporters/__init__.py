"""Palettes out to other tools: the export formats by name (``formats``: the registry behind
``m2p export``, which adapters extend), the palettes an export writes (``groups``), swatch files
(``swatches``: json, css, gpl, ase, svg, png), sections of a track (``sections``) and pictures
(``render``: strips, timelines, terminal swatches).

>>> import m2p.exporters
>>> m2p.exporters.export_palette("song.mp3", "song.ase", sections="auto")  # doctest: +SKIP
>>> m2p.exporters.export("song.mp3", "look.cube", options={"strength": 0.8})  # doctest: +SKIP
"""

from m2p._internal.lazy import attach

__getattr__, __dir__, __all__ = attach(__name__, {
    **{name: "m2p.exporters.formats" for name in (
        "ExportFormat", "FormatOption", "export", "export_formats", "export_palette")},
    **{name: "m2p.exporters.groups" for name in ("NamedPalette", "palette_groups")},
    **{name: "m2p.exporters.swatches" for name in (
        "SWATCH_FORMATS", "to_ase", "to_css", "to_gpl", "to_json", "to_png", "to_svg",
        "write_swatches")},
    "track_sections": "m2p.exporters.sections",
})
