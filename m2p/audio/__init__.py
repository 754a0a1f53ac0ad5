"""Audio input: decoding any file or array to mono float32 (22,050 Hz unless asked for another
rate), streamed in blocks.

``decode`` (probe, stream, load: the public face), ``sources`` (array, soundfile and ffmpeg
sources, opened once and streamed; live blocks), ``repair`` (WAVs whose data runs past their
header), ``resample`` (polyphase resampling, NumPy only, one-shot or streamed) and ``prefetch``
(decoding a few blocks ahead in a thread).
"""

from m2p._internal.lazy import attach

__getattr__, __dir__, __all__ = attach(__name__, {
    "SAMPLE_RATE": "m2p.audio.sources",
    "AudioInfo": "m2p.audio.sources",
    "open_source": "m2p.audio.sources",
    "probe": "m2p.audio.decode",
    "stream": "m2p.audio.decode",
    "load": "m2p.audio.decode",
    "resample_poly": "m2p.audio.resample",
    "prefetch": ("m2p.audio.prefetch", "prefetch"),
})
