"""What the shipped (AST) music encoder hears: the 539-dim feature frames at 22,050 Hz
(``frames``), computed once over a stream (``stream``), and window-level music cues (``cues``:
mode, register, loudness...). Another encoder brings its own features (:mod:`m2p.model.encoder`)."""

from m2p._internal.lazy import attach

__getattr__, __dir__, __all__ = attach(__name__, {
    "FEATURE_DIM": "m2p.features.frames",
    "HOP_LENGTH": "m2p.features.frames",
    "extract_features": "m2p.features.frames",
    "standardise": "m2p.features.frames",
    "window_cues": "m2p.features.cues",
    "CUE_NAMES": "m2p.features.cues",
})
