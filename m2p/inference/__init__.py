"""From audio to palettes: the one streaming engine (``engine``) used by whole files and by
live streams (``live``)."""

from m2p._internal.lazy import attach

__getattr__, __dir__, __all__ = attach(__name__, {
    "PaletteEngine": "m2p.inference.engine",
    "run_inference": "m2p.inference.engine",
    "PaletteStream": "m2p.inference.live",
    "live": "m2p.inference.live",
})
