"""Audio input: decoding any file or array to mono float32 at 22,050 Hz, streamed in blocks.

``decode`` (probe, stream, load), ``resample`` (polyphase resampling, NumPy only) and
``prefetch`` (decoding a few blocks ahead in a thread).
"""

from m2p._internal.lazy import attach

__getattr__, __dir__, __all__ = attach(__name__, {
    "SAMPLE_RATE": "m2p.audio.decode",
    "AudioInfo": "m2p.audio.decode",
    "probe": "m2p.audio.decode",
    "stream": "m2p.audio.decode",
    "load": "m2p.audio.decode",
    "resample_poly": "m2p.audio.resample",
    "prefetch": ("m2p.audio.prefetch", "prefetch"),
})
