"""From audio to palettes: the window layout (``windows``), what a track carries from window to
window (``track_state``), the one streaming engine (``engine``) used by whole files and by
live streams (``live``)."""

from m2p._internal.lazy import attach

__getattr__, __dir__, __all__ = attach(__name__, {
    "MIN_AUDIO_SECONDS": "m2p.inference.windows",
    "MIN_HOP_SECONDS": "m2p.inference.windows",
    "MAX_WINDOWS": "m2p.inference.windows",
    "DEFAULT_WINDOW": "m2p.inference.windows",
    "DEFAULT_HOP": "m2p.inference.windows",
    "window_layout": "m2p.inference.windows",
    "window_spans": "m2p.inference.windows",
    "DEFAULT_BATCH_SIZE": "m2p.inference.engine",
    "PaletteEngine": "m2p.inference.engine",
    "WindowPalette": "m2p.inference.engine",
    "resolve_model": "m2p.inference.engine",
    "run_inference": "m2p.inference.engine",
    "PaletteStream": "m2p.inference.live",
    "live": "m2p.inference.live",
})
