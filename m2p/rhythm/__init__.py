"""When the music moves: tempo, beats, downbeats, sections and drops (issue 26), NumPy only,
from 16 kHz mel and chroma frames computed from the same decoded blocks as the palettes (no
second pass over the audio).

``envelope`` (onset envelopes), ``tempo`` (tempogram, main tempo, tempo curve), ``beats``
(dynamic programming), ``downbeats`` (meter and bar phase), ``sections`` (Foote novelty),
``drops`` (builds and drops), ``online`` (a causal tracker for live streams), ``mel_stream``
(the 16 kHz log-mel and chroma frames of a stream), ``frames`` (what is kept of a stream), ``analysis`` (the offline pipeline), ``rhythm_types`` (the ``Rhythm``
value), ``sync`` (palettes held between events), ``timeline`` (beats and sections drawn on a
track's picture), ``evaluation`` (F-measure and tempo accuracy).

>>> import numpy as np, m2p.rhythm
>>> clicks = np.zeros(16000 * 10, np.float32)
>>> clicks[::8000] = 1.0                                          # 120 BPM
>>> round(m2p.rhythm.analyze_audio(clicks, sample_rate=16000).bpm)
120
"""

from m2p._internal.lazy import attach

__getattr__, __dir__, __all__ = attach(__name__, {
    "Rhythm": "m2p.rhythm.rhythm_types",
    "SYNC_EVENTS": "m2p.rhythm.rhythm_types",
    "RhythmFrames": "m2p.rhythm.frames",
    "MelStream": "m2p.rhythm.mel_stream",
    "analyze": "m2p.rhythm.analysis",
    "analyze_audio": "m2p.rhythm.analysis",
    "OnlineBeatTracker": "m2p.rhythm.online",
    "BeatEvent": "m2p.rhythm.online",
    "f_measure": "m2p.rhythm.evaluation",
})
